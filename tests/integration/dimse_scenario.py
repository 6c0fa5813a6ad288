"""DIMSE scenarios against real peers, run inside a private network namespace.

Usage: ``python dimse_scenario.py NAME WORKDIR``; prints what it observed as one JSON line
for ``test_dimse_*.py`` to check (the scenarios assert nothing themselves). Scenarios:

- ``dcmtk``: echoscu, storescu, findscu, movescu and getscu against our listener, and a
  calling AE title it does not know;
- ``orthanc``: our client against Orthanc: C-ECHO, C-STORE, C-FIND, C-MOVE from Orthanc
  into our listener, C-GET into our store; pixel data compared byte for byte.
"""

from __future__ import annotations

import json
import subprocess
import sys
from io import BytesIO
from pathlib import Path
from typing import Any

from dcmtk import dcmtk_tool
from orthanc import free_port, start_orthanc
from pydicom import dcmread
from pydicom.data import get_testdata_file

from vesalius.ingest.dimse.config import ListenerConfig
from vesalius.ingest.dimse.scp import DicomListener
from vesalius.ingest.dimse.scu import echo, send_files
from vesalius.ingest.dimse.scu_retrieve import PeerQuery, find, get_study, move_study
from vesalius.settings import DicomPeer
from vesalius.store import BlobStore, open_store, sqlite_url
from vesalius.store.index import find_instance, list_instances

DCMTK_FILES = ("CT_small.dcm", "MR_small.dcm", "SC_rgb_rle.dcm")  # storescu -xr: RLE
ORTHANC_FILES = ("CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm")


def _files(names: tuple[str, ...] = DCMTK_FILES) -> list[Path]:
    return [Path(str(get_testdata_file(name))) for name in names]


TOOL_ERRORS: dict[str, str] = {}


def _tool(*argv: str) -> int:
    done = subprocess.run(
        [dcmtk_tool(argv[0]), *argv[1:]], capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        TOOL_ERRORS[argv[0]] = (done.stdout + done.stderr)[-2000:]
    return done.returncode


def _tool_output(*argv: str) -> str:
    done = subprocess.run(
        [dcmtk_tool(argv[0]), *argv[1:]], capture_output=True, text=True, timeout=120
    )
    return done.stdout + done.stderr


def _listener(workdir: Path, peers: tuple[DicomPeer, ...], allowed: tuple[str, ...]) -> Any:
    store = open_store(sqlite_url(workdir / "ours" / "index.sqlite3"))
    blobs = BlobStore(workdir / "ours" / "blobs")
    config = ListenerConfig(
        host="127.0.0.1",
        port=free_port(),
        peers=peers,
        allowed_calling_aes=allowed,
        min_free_bytes=0,
    )
    return DicomListener(config, store=store, blobs=blobs), store, blobs


def _pixels_identical(store: Any, blobs: BlobStore, files: list[Path]) -> list[bool]:
    out = []
    for path in files:
        sent = dcmread(path)
        with store.read_session() as session:
            row = find_instance(session, sent.SOPInstanceUID)
        kept = None if row is None else dcmread(BytesIO(blobs.get(row.blob_path)))
        out.append(kept is not None and kept.PixelData == sent.PixelData)
    return out


def dcmtk(workdir: Path) -> dict[str, Any]:
    move_port = free_port()
    peers = (DicomPeer("movescu", "MOVESCU", "127.0.0.1", move_port),)
    allowed = ("ECHOSCU", "STORESCU", "FINDSCU", "GETSCU")
    listener, store, blobs = _listener(workdir, peers, allowed)
    files = _files()
    ct = dcmread(files[0], stop_before_pixels=True)
    with listener:
        port, host, called = str(listener.port), "127.0.0.1", ["-aec", "VESALIUS"]
        result: dict[str, Any] = {
            "echo": _tool("echoscu", *called, host, port),
            "echo_unknown_ae": _tool("echoscu", "-aet", "STRANGER", *called, host, port),
            "store": _tool("storescu", "-R", "-xr", *called, host, port, *map(str, files)),
        }
        find_out = _tool_output(
            "findscu",
            "-S",
            *called,
            host,
            port,
            "-k",
            "QueryRetrieveLevel=STUDY",
            "-k",
            "PatientName=Compressed*",
            "-k",
            "StudyInstanceUID",
            "-k",
            "ModalitiesInStudy",
            "-k",
            "NumberOfStudyRelatedInstances",
            "-k",
            "StudyDate=20040101-20041231",
        )
        result["find_studies"] = find_out.count("(0020,000d)")
        moved, got = workdir / "moved", workdir / "got"
        moved.mkdir()
        got.mkdir()
        key = ["-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={ct.StudyInstanceUID}"]
        result["move"] = _tool(
            "movescu",
            "-S",
            "-aet",
            "MOVESCU",
            "-aem",
            "MOVESCU",
            "--port",
            str(move_port),
            "-od",
            str(moved),
            *called,
            host,
            port,
            *key,
        )
        result["moved_files"] = len(list(moved.iterdir()))
        result["get"] = _tool(
            "getscu", "-S", "-aet", "GETSCU", "-od", str(got), *called, host, port, *key
        )
        got_files = list(got.iterdir())
        result["got_files"] = len(got_files)
        result["got_pixels_identical"] = bool(got_files) and (
            dcmread(got_files[0]).PixelData == dcmread(files[0]).PixelData
        )
        result["echo_after"] = _tool("echoscu", *called, host, port)
    result["stored_pixels_identical"] = _pixels_identical(store, blobs, files)
    result["tool_errors"] = dict(TOOL_ERRORS)
    store.close()
    return result


def orthanc(workdir: Path) -> dict[str, Any]:
    our_port = free_port()
    server = start_orthanc(
        workdir / "orthanc",
        ae_title="ORTHANC",
        dicomweb=False,
        modalities={"vesalius": ("VESALIUS", "127.0.0.1", our_port)},
    )
    try:
        return _against_orthanc(workdir, server, our_port)
    finally:
        server.stop()


def _against_orthanc(workdir: Path, server: Any, our_port: int) -> dict[str, Any]:
    pacs = DicomPeer("pacs", server.ae_title, "127.0.0.1", server.dicom_port)
    store = open_store(sqlite_url(workdir / "ours" / "index.sqlite3"))
    blobs = BlobStore(workdir / "ours" / "blobs")
    config = ListenerConfig(host="127.0.0.1", port=our_port, peers=(pacs,), min_free_bytes=0)
    files = _files(ORTHANC_FILES)
    ct = dcmread(files[0], stop_before_pixels=True)
    mr = dcmread(files[1], stop_before_pixels=True)
    result: dict[str, Any] = {}
    echo(pacs, calling_ae="VESALIUS")
    sent = send_files(files, pacs, calling_ae="VESALIUS", associations=2)
    result["sent"], result["send_problems"] = sent.sent, len(sent.problems)
    studies = find(pacs, PeerQuery(patient_name="Compressed*"), calling_ae="VESALIUS")
    result["found_studies"] = sorted(m.study_uid or "" for m in studies)
    series = find(
        pacs,
        PeerQuery(level=PeerQuery().level.SERIES, study_uid=ct.StudyInstanceUID),
        calling_ae="VESALIUS",
    )
    result["found_series"] = [m.series_uid for m in series]
    with DicomListener(config, store=store, blobs=blobs):
        moved = move_study(
            pacs, ct.StudyInstanceUID, calling_ae="VESALIUS", destination_ae="VESALIUS"
        )
    result["moved"] = (moved.completed, moved.failed)
    got = get_study(pacs, mr.StudyInstanceUID, calling_ae="VESALIUS", store=store, blobs=blobs)
    result["got"] = (got.completed, got.failed)
    with store.read_session() as session:
        result["indexed"] = [
            len(list_instances(session, uid)) for uid in (ct.StudyInstanceUID, mr.StudyInstanceUID)
        ]
    result["pixels_identical"] = _pixels_identical(store, blobs, files[:2])
    result["expected_studies"] = sorted(
        {dcmread(p, stop_before_pixels=True).StudyInstanceUID for p in files[:2]}
    )
    result["ct_series"] = ct.SeriesInstanceUID
    store.close()
    return result


SCENARIOS = {"dcmtk": dcmtk, "orthanc": orthanc}

if __name__ == "__main__":
    name, folder = sys.argv[1], Path(sys.argv[2])
    try:
        observed = SCENARIOS[name](folder)
    except Exception as err:  # the test reads the error from the JSON
        observed = {"error": f"{type(err).__name__}: {err}"}
    print(json.dumps(observed))
