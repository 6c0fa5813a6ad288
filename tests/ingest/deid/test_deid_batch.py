"""De-identifying folders: outputs, quarantine, broken files, report, reproducibility."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import BinaryIO

import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file

from vesalius.errors import InputError
from vesalius.ingest.deid import (
    CompiledProfile,
    DeidKeys,
    Status,
    create_secret_file,
    deidentify_dataset,
    deidentify_paths,
    read_secret_file,
)
from vesalius.ingest.deid import batch as batch_module
from vesalius.io.atomic import write_atomic

from .conftest import write_ct

KEYS = DeidKeys(b"batch secret")


def _study(folder: Path) -> list[Path]:
    uids = [f"1.2.3.4.{n}" for n in range(3)]
    return [
        write_ct(folder, f"slice{n}.dcm", sop_uid=uid, referenced_uid=uids[(n + 1) % 3])
        for n, uid in enumerate(uids)
    ]


def _outputs(out: Path) -> dict[str, object]:
    return {p.name: dcmread(p) for p in sorted((out / "clean").rglob("*.dcm"))}


def test_study_written_with_consistent_uids_and_identical_pixels(
    tmp_path: Path, basic: CompiledProfile
) -> None:
    """A study comes out re-readable, one new Study UID, references resolved, pixels unchanged."""
    inputs = _study(tmp_path / "in")
    report = deidentify_paths(tmp_path / "in", tmp_path / "out", profile=basic, keys=KEYS)
    assert (report.written, report.quarantined, report.failed) == (3, 0, 0)
    outputs = _outputs(tmp_path / "out")
    assert len(outputs) == 3
    studies = {ds.StudyInstanceUID for ds in outputs.values()}
    assert len(studies) == 1
    sop_uids = {ds.SOPInstanceUID for ds in outputs.values()}
    refs = {ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID for ds in outputs.values()}
    assert refs == sop_uids
    for name, ds in outputs.items():
        assert name == f"{ds.SOPInstanceUID}.dcm"
    originals = sorted(dcmread(p).PixelData for p in inputs)
    assert sorted(ds.PixelData for ds in outputs.values()) == originals


def test_same_secret_same_output_names_other_secret_different(
    tmp_path: Path, basic: CompiledProfile
) -> None:
    """Two runs with one secret give the same UIDs (a later batch links up); another does not."""
    _study(tmp_path / "in")
    deidentify_paths(tmp_path / "in", tmp_path / "a", profile=basic, keys=KEYS)
    deidentify_paths(tmp_path / "in", tmp_path / "b", profile=basic, keys=KEYS)
    deidentify_paths(tmp_path / "in", tmp_path / "c", profile=basic, keys=DeidKeys(b"x"))
    names = [set(_outputs(tmp_path / d)) for d in "abc"]
    assert names[0] == names[1]
    assert not names[0] & names[2]


def test_parallel_workers_give_the_same_result(tmp_path: Path, basic: CompiledProfile) -> None:
    """Running with 2 worker processes writes the same files as one process."""
    _study(tmp_path / "in")
    one = deidentify_paths(tmp_path / "in", tmp_path / "one", profile=basic, keys=KEYS)
    two = deidentify_paths(tmp_path / "in", tmp_path / "two", profile=basic, keys=KEYS, workers=2)
    assert [r.output for r in one.files] == [r.output for r in two.files]


def test_burned_in_instances_are_quarantined_not_passed(
    tmp_path: Path, basic: CompiledProfile
) -> None:
    """US and flagged instances never reach clean/: they are copied unchanged to quarantine/."""
    source = tmp_path / "in"
    write_ct(source, "flagged.dcm", sop_uid="1.2.3.9")
    flagged = dcmread(source / "flagged.dcm")
    flagged.BurnedInAnnotation = "YES"
    flagged.save_as(source / "flagged.dcm")
    us = get_testdata_file("US1_J2KR.dcm")
    assert us is not None
    shutil.copy(us, source / "us.dcm")
    report = deidentify_paths(source, tmp_path / "out", profile=basic, keys=KEYS)
    assert report.quarantined == 2
    assert report.written == 0
    assert not (tmp_path / "out" / "clean").exists()
    reasons = {r.source: r.reason for r in report.files}
    assert reasons["flagged.dcm"] == "BurnedInAnnotation is YES"
    assert "modality US" in str(reasons["us.dcm"])
    copies = sorted((tmp_path / "out" / "quarantine").iterdir())
    assert len(copies) == 2
    assert {p.read_bytes() for p in copies} == {
        (source / "flagged.dcm").read_bytes(),
        (source / "us.dcm").read_bytes(),
    }


def test_broken_files_are_reported_and_the_rest_proceed(
    tmp_path: Path, basic: CompiledProfile
) -> None:
    """Text, truncated and empty files become error records naming them; good files still land."""
    source = tmp_path / "in"
    good = write_ct(source, "good.dcm")
    (source / "notes.txt").write_text("not dicom at all")
    (source / "empty.dcm").write_bytes(b"")
    (source / "cut.dcm").write_bytes(good.read_bytes()[:-100])
    report = deidentify_paths(source, tmp_path / "out", profile=basic, keys=KEYS)
    status = {r.source: r.status for r in report.files}
    assert status == {
        "good.dcm": Status.WRITTEN,
        "notes.txt": Status.ERROR,
        "empty.dcm": Status.ERROR,
        "cut.dcm": Status.ERROR,
    }
    reasons = {r.source: r.reason for r in report.files}
    assert "truncated" in str(reasons["cut.dcm"])
    assert len(_outputs(tmp_path / "out")) == 1


def test_headerless_real_file_is_accepted(tmp_path: Path, basic: CompiledProfile) -> None:
    """pydicom's rtstruct.dcm has no DICM header; it is still de-identified and written."""
    path = get_testdata_file("rtstruct.dcm")
    assert path is not None
    report = deidentify_paths(path, tmp_path / "out", profile=basic, keys=KEYS)
    assert report.written == 1
    (written,) = _outputs(tmp_path / "out").values()
    original = dcmread(path, force=True)
    assert written.PatientIdentityRemoved == "YES"
    assert written.StudyInstanceUID != original.StudyInstanceUID


def test_report_json_lists_every_file_and_action(tmp_path: Path, basic: CompiledProfile) -> None:
    """OUT/deid-report.json holds per-file status, counts and per-keyword actions, no PHI."""
    _study(tmp_path / "in")
    (tmp_path / "in" / "junk.bin").write_bytes(b"\x00" * 10)
    deidentify_paths(tmp_path / "in", tmp_path / "out", profile=basic, keys=KEYS)
    text = (tmp_path / "out" / "deid-report.json").read_text()
    data = json.loads(text)
    assert data["summary"] == {"written": 3, "quarantined": 0, "errors": 1}
    first = next(f for f in data["files"] if f["status"] == "written")
    assert first["actions"]["PatientName"] == "pseudonym"
    assert set(first["counts"]) == {"removed", "replaced", "kept", "shifted"}
    for phi in ("DOE", "MRN-0001", "1.2.3.4.0", "HOUSE"):
        assert phi not in text


def test_nothing_half_written_when_a_write_fails(
    tmp_path: Path, basic: CompiledProfile, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk error mid-write leaves no partial output and no temporary file behind."""
    _study(tmp_path / "in")

    def half_then_fail(path: Path, data: bytes) -> Path:
        def writer(handle: BinaryIO) -> None:
            handle.write(data[: len(data) // 2])
            raise OSError(28, "No space left on device")

        return write_atomic(path, writer)

    monkeypatch.setattr(batch_module, "write_bytes_atomic", half_then_fail)
    report = deidentify_paths(tmp_path / "in", tmp_path / "out", profile=basic, keys=KEYS)
    assert report.failed == 3
    assert all("No space left" in str(r.reason) for r in report.files)
    leftovers = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert [p.name for p in leftovers] == ["deid-report.json"]


def test_missing_input_and_output_inside_input_are_input_errors(
    tmp_path: Path, basic: CompiledProfile
) -> None:
    """A missing IN, or OUT inside IN (it would be read back), is refused before any work."""
    with pytest.raises(InputError, match="no such file or folder"):
        deidentify_paths(tmp_path / "none", tmp_path / "out", profile=basic, keys=KEYS)
    _study(tmp_path / "in")
    with pytest.raises(InputError, match="must not lie inside"):
        deidentify_paths(tmp_path / "in", tmp_path / "in" / "out", profile=basic, keys=KEYS)


def test_generated_secret_file_is_private_and_reusable(tmp_path: Path) -> None:
    """The generated secret is saved with mode 0600 and reads back as the same key."""
    key = tmp_path / "deid-secret.key"
    secret = create_secret_file(key)
    assert key.stat().st_mode & 0o777 == 0o600
    assert read_secret_file(key) == secret
    assert len(secret) == 64


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm"])
def test_encoded_bytes_match_pydicom_save_as(name: str, basic: CompiledProfile) -> None:
    """The fast encoder writes pydicom's save_as bytes, but with the preamble zeroed.

    CT_small.dcm carries a TIFF header in its preamble: original bytes must not pass through.
    """
    from io import BytesIO

    path = get_testdata_file(name)
    assert path is not None
    ds = dcmread(path)
    deidentify_dataset(ds, profile=basic, keys=KEYS)
    expected = BytesIO()
    ds.save_as(expected, enforce_file_format=True)
    encoded = batch_module.encode(ds)
    assert encoded[:128] == b"\x00" * 128
    assert encoded[128:] == expected.getvalue()[128:]
