"""Orthanc <-> Vesalius DICOMweb scenario, run inside a private network namespace.

Usage: ``python dicomweb_scenario.py RESULT.json WORKDIR``; writes what it observed as JSON
for ``test_dicomweb_orthanc.py`` to check (this script asserts nothing itself).
"""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.error
import urllib.request
from io import BytesIO
from pathlib import Path
from typing import Any

import uvicorn
from orthanc import free_port, start_orthanc
from pydicom import dcmread
from pydicom.data import get_testdata_file

from vesalius.ingest.dicomweb.client import DicomWebPeer
from vesalius.service.app import create_app
from vesalius.store import BlobStore, open_store, sqlite_url
from vesalius.store.roles import Role
from vesalius.store.users import add_user

FILES = ("CT_small.dcm", "MR_small_jp2klossless.dcm", "emri_small.dcm")
OUR_PASSWORD = "orthanc's password for us"


def orthanc_rest(url: str, *, body: Any = None, method: str = "GET") -> Any:
    data = (
        body.encode()
        if isinstance(body, str)
        else None
        if body is None
        else json.dumps(body).encode()
    )
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            text = answer.read()
    except urllib.error.HTTPError as err:
        raise RuntimeError(f"{method} {url}: {err.code} {err.read()[:500]!r}") from None
    return json.loads(text) if text else None


def our_client_against_orthanc(dicomweb_url: str) -> dict[str, Any]:
    peer = DicomWebPeer(dicomweb_url, retry=False)
    originals = [dcmread(get_testdata_file(name)) for name in FILES]
    stored = peer.store(originals)
    studies = peer.search_studies({"PatientID": "1CT1"})
    series = peer.search_series(str(originals[0].StudyInstanceUID))
    identical = []
    for ds in originals:
        back = peer.retrieve_instance(
            str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID)
        )
        identical.append(back.PixelData == ds.PixelData)
    ct = originals[0]
    uids = (str(ct.StudyInstanceUID), str(ct.SeriesInstanceUID), str(ct.SOPInstanceUID))
    explicit = (("application/octet-stream", "1.2.840.10008.1.2.1"),)
    (frame,) = peer.retrieve_frames(*uids, [1], media_types=explicit)
    return {
        "stored": len(stored.stored),
        "failed": len(stored.failed),
        "studies_by_patient_id": [str(s.StudyInstanceUID) for s in studies],
        "ct_series": len(series),
        "pixel_data_identical": identical,
        "ct_frame_identical": frame == ct.PixelData,
        "expected_ct_study": str(ct.StudyInstanceUID),
    }


def serve(app: Any, port: int) -> uvicorn.Server:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return server


def orthanc_against_ours(orthanc_url: str, ours: str, workdir: Path) -> dict[str, Any]:
    """Orthanc's DICOMweb client pushes to our STOW-RS, queries us, and retrieves from us."""
    store = open_store(sqlite_url(workdir / "ours" / "index.sqlite3"))
    blobs = BlobStore(workdir / "ours" / "blobs")
    with store.session() as session:  # Orthanc signs in to our DICOMweb with Basic
        add_user(session, "orthanc", Role.SERVICE, OUR_PASSWORD)
    server = serve(create_app(store, blobs, min_free_bytes=0), int(ours.rsplit(":", 1)[1]))
    try:
        orthanc_rest(
            f"{orthanc_url}/dicom-web/servers/vesalius",
            method="PUT",
            body={
                "Url": f"{ours}/dicom-web/",
                "Username": "orthanc",
                "Password": OUR_PASSWORD,
            },
        )
        study_ids = orthanc_rest(f"{orthanc_url}/studies")
        pushed = orthanc_rest(
            f"{orthanc_url}/dicom-web/servers/vesalius/stow",
            method="POST",
            body={"Resources": study_ids, "Synchronous": True},
        )
        qido = orthanc_rest(
            f"{orthanc_url}/dicom-web/servers/vesalius/get",
            method="POST",
            body={"Uri": "/studies", "Arguments": {"PatientID": "1CT1"}},
        )
        ct = dcmread(get_testdata_file(FILES[0]))
        sop = orthanc_rest(
            f"{orthanc_url}/tools/lookup", method="POST", body=str(ct.SOPInstanceUID)
        )[0]["ID"]
        orthanc_rest(f"{orthanc_url}/instances/{sop}", method="DELETE")
        orthanc_rest(
            f"{orthanc_url}/dicom-web/servers/vesalius/retrieve",
            method="POST",
            body={"Resources": [{"Study": str(ct.StudyInstanceUID)}], "Synchronous": True},
        )
        again = orthanc_rest(
            f"{orthanc_url}/tools/lookup", method="POST", body=str(ct.SOPInstanceUID)
        )
        data = b""
        if again:
            url = f"{orthanc_url}/instances/{again[0]['ID']}/file"
            with urllib.request.urlopen(url, timeout=60) as answer:
                data = answer.read()
        back = dcmread(BytesIO(data)) if data else None
        with store.read_session() as session:
            from vesalius.store.stats import index_counts

            counts = index_counts(session)
        return {
            "pushed_answer": pushed is not None,
            "ours_studies": counts.studies,
            "ours_instances": counts.instances,
            "qido_through_orthanc": [s["0020000D"]["Value"][0] for s in qido],
            "retrieved_back_into_orthanc": bool(again),
            "retrieved_pixels_identical": back is not None and back.PixelData == ct.PixelData,
        }
    finally:
        server.should_exit = True
        store.close()


def main() -> None:
    result_path, workdir = Path(sys.argv[1]), Path(sys.argv[2])
    orthanc = start_orthanc(workdir)
    result: dict[str, Any] = {}
    try:
        result["client"] = our_client_against_orthanc(orthanc.dicomweb_url)
        result["orthanc"] = orthanc_against_ours(
            orthanc.url, f"http://127.0.0.1:{free_port()}", workdir
        )
    except Exception as err:  # the test reads the error from the JSON
        result["error"] = f"{type(err).__name__}: {err}"
    finally:
        orthanc.stop()
        result_path.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
