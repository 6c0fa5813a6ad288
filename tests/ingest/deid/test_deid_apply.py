"""Applying the profile to one dataset: what goes, what is replaced, what is kept."""

from __future__ import annotations

import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import CTImageStorage

from vesalius.ingest.deid import (
    CompiledProfile,
    DeidKeys,
    Option,
    ProfileTable,
    deidentify_dataset,
)

from .conftest import MakeCT

KEYS = DeidKeys(b"test secret")


def _value_for(vr: str) -> object:
    vr = vr.split(" or ")[0]
    if vr == "SQ":
        item = Dataset()
        item.CodeMeaning = "identifying text"
        return Sequence([item])
    if vr in ("US", "SS", "UL", "SL", "FL", "FD"):
        return 1
    if vr in ("OB", "OW", "UN", "OF", "OD", "OL"):
        return b"\x01\x02"
    return {
        "DA": "20200101",
        "TM": "101010",
        "DT": "20200101101010",
        "DS": "1.5",
        "IS": "3",
        "AS": "050Y",
        "UI": "1.2.3.4.5",
        "AT": 0x00100010,
        "CS": "PHI",
    }.get(vr, "PHI value")


def _all_x_attributes(table: ProfileTable) -> tuple[Dataset, set[int]]:
    ds = Dataset()
    tags: set[int] = set()
    for row in table.rows:
        try:
            tag = int(row.group + row.element, 16)
            vr = dictionary_VR(tag)
        except (ValueError, KeyError):
            continue
        if row.basic == "X" and tag >> 16 not in (0x0000, 0x0002, 0x0004):
            ds.add_new(tag, vr.split(" or ")[0], _value_for(vr))
            tags.add(tag)
    return ds, tags


def test_every_x_attribute_of_the_table_is_gone(
    table: ProfileTable, basic: CompiledProfile
) -> None:
    """No attribute the table marks X survives in the output, whatever its VR."""
    ds, tags = _all_x_attributes(table)
    assert len(tags) > 300
    deidentify_dataset(ds, profile=basic, keys=KEYS)
    left = sorted(hex(t) for t in tags if t in ds)
    assert left == []


def test_patient_name_and_id_become_the_same_pseudonym(
    make_ct: MakeCT, basic: CompiledProfile
) -> None:
    """The patient's name and ID are replaced by a keyed pseudonym, the same for both."""
    ds = make_ct()
    deidentify_dataset(ds, profile=basic, keys=KEYS)
    name, pid = str(ds.PatientName), str(ds.PatientID)
    assert name.startswith("ANON^")
    assert pid.startswith("ANON-")
    assert name[5:] == pid[5:]
    assert "DOE" not in name
    assert "MRN" not in pid
    other = make_ct()
    deidentify_dataset(other, profile=basic, keys=KEYS)
    assert str(other.PatientID) == pid


def test_z_empties_and_d_puts_a_dummy_of_the_right_vr(
    make_ct: MakeCT, basic: CompiledProfile
) -> None:
    """Z leaves the element present but empty; D leaves a dummy valid for the VR."""
    ds = make_ct()
    deidentify_dataset(ds, profile=basic, keys=KEYS)
    for keyword in ("AccessionNumber", "StudyID", "ReferringPhysicianName", "StudyDate"):
        assert keyword in ds, keyword
        assert not ds[keyword].value, keyword
    assert ds.InstitutionName == "ANONYMIZED"  # X/Z/D -> D, LO
    assert ds.ContentDate == "19000101"  # Z/D -> D, DA
    assert ds.AcquisitionDateTime == "19000101000000.000000"  # X/Z/D -> D, DT
    assert "AcquisitionDate" in ds
    assert not ds.AcquisitionDate


def test_private_tags_are_removed_everywhere(make_ct: MakeCT, basic: CompiledProfile) -> None:
    """Private elements vanish from the top level and from inside sequences."""
    ds = make_ct()
    deidentify_dataset(ds, profile=basic, keys=KEYS)
    assert not any(elem.tag.is_private for elem in ds.iterall())


def test_overlay_and_identifying_text_removed(make_ct: MakeCT, basic: CompiledProfile) -> None:
    """Overlay planes and free-text comments with names and numbers do not leak."""
    ds = make_ct()
    deidentify_dataset(ds, profile=basic, keys=KEYS)
    assert not any(elem.tag.group == 0x6000 for elem in ds)
    for keyword in ("ImageComments", "PatientAddress", "OtherPatientIDs", "SeriesDescription"):
        assert keyword not in ds, keyword


def test_uids_replaced_consistently_and_references_follow(
    make_ct: MakeCT, basic: CompiledProfile
) -> None:
    """Two instances of one study keep one new Study UID; references point at the new UIDs."""
    first = make_ct(sop_uid="1.2.3.100", referenced_uid="1.2.3.200")
    second = make_ct(sop_uid="1.2.3.200", referenced_uid="1.2.3.100")
    original_study = first.StudyInstanceUID
    for ds in (first, second):
        deidentify_dataset(ds, profile=basic, keys=KEYS)
    assert first.StudyInstanceUID == second.StudyInstanceUID != original_study
    assert first.ReferencedImageSequence[0].ReferencedSOPInstanceUID == second.SOPInstanceUID
    assert first.SourceImageSequence[0].ReferencedSOPInstanceUID == second.SOPInstanceUID
    assert second.ReferencedImageSequence[0].ReferencedSOPInstanceUID == first.SOPInstanceUID
    assert first.FrameOfReferenceUID == second.FrameOfReferenceUID
    assert first.file_meta.MediaStorageSOPInstanceUID == first.SOPInstanceUID


def test_well_known_uids_are_kept(make_ct: MakeCT, basic: CompiledProfile) -> None:
    """SOP Class UIDs (top level and referenced) and the transfer syntax stay as they are."""
    ds = make_ct()
    syntax = ds.file_meta.TransferSyntaxUID
    deidentify_dataset(ds, profile=basic, keys=KEYS)
    assert ds.SOPClassUID == CTImageStorage
    assert ds.ReferencedImageSequence[0].ReferencedSOPClassUID == CTImageStorage
    assert ds.file_meta.TransferSyntaxUID == syntax


def test_new_uids_are_valid_and_depend_on_the_secret(
    make_ct: MakeCT, basic: CompiledProfile
) -> None:
    """New UIDs are 2.25.<int>, at most 64 characters, reproducible, and change with the secret."""
    a, b, c = make_ct(), make_ct(), make_ct()
    deidentify_dataset(a, profile=basic, keys=KEYS)
    deidentify_dataset(b, profile=basic, keys=DeidKeys(b"test secret"))
    deidentify_dataset(c, profile=basic, keys=DeidKeys(b"another secret"))
    uid = str(a.SOPInstanceUID)
    assert uid.startswith("2.25.")
    assert uid[5:].isdigit()
    assert len(uid) <= 64
    assert uid == b.SOPInstanceUID != c.SOPInstanceUID
    assert a.PatientID == b.PatientID != c.PatientID


def test_marks_the_dataset_as_deidentified(make_ct: MakeCT, table: ProfileTable) -> None:
    """PatientIdentityRemoved=YES and the DCM method codes name the profile and options."""
    profile = table.compile({Option.RETAIN_LONG_MODIFIED_DATES, Option.CLEAN_DESCRIPTORS})
    ds = make_ct()
    deidentify_dataset(ds, profile=profile, keys=KEYS)
    assert ds.PatientIdentityRemoved == "YES"
    assert ds.LongitudinalTemporalInformationModified == "MODIFIED"
    codes = [
        (item.CodeValue, item.CodingSchemeDesignator)
        for item in ds.DeidentificationMethodCodeSequence
    ]
    assert codes == [("113100", "DCM"), ("113105", "DCM"), ("113107", "DCM")]
    assert all(len(text) <= 64 for text in ds.DeidentificationMethod)


def test_modified_dates_shift_per_patient_and_keep_intervals(
    make_ct: MakeCT, table: ProfileTable
) -> None:
    """With modified dates, one patient's dates move by one offset (intervals kept), times stay."""
    profile = table.compile({Option.RETAIN_LONG_MODIFIED_DATES})
    first = make_ct(study_date="20240315")
    later = make_ct(study_date="20240415", sop_uid="1.2.3.9")
    other_patient = make_ct(patient_id="MRN-0002", study_date="20240315")
    for ds in (first, later, other_patient):
        deidentify_dataset(ds, profile=profile, keys=KEYS)
    from datetime import date

    def day(text: str) -> date:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))

    assert (day(later.StudyDate) - day(first.StudyDate)).days == 31
    assert first.StudyDate != "20240315"
    assert first.ContentDate == first.StudyDate
    assert first.AcquisitionDateTime == first.StudyDate + "101530.250000"
    assert first.StudyTime == "101500"
    assert other_patient.StudyDate != first.StudyDate
    shift = (day(first.StudyDate) - date(2024, 3, 15)).days
    assert -3650 <= shift <= -366
    assert first.PatientBirthDate != "19700102"  # birth date shifted too (C in the table)


def test_options_keep_what_they_should(make_ct: MakeCT, table: ProfileTable) -> None:
    """Patient characteristics, device identity and safe descriptors survive their options."""
    profile = table.compile(
        {
            Option.RETAIN_PATIENT_CHARACTERISTICS,
            Option.RETAIN_DEVICE_IDENTITY,
            Option.CLEAN_DESCRIPTORS,
        }
    )
    ds = make_ct()
    deidentify_dataset(ds, profile=profile, keys=KEYS)
    assert (ds.PatientSex, ds.PatientAge, ds.PatientWeight) == ("F", "054Y", 61.5)
    assert (ds.DeviceSerialNumber, ds.StationName) == ("SN-998877", "CT01-ROOM7")
    assert ds.StudyDescription == "CT CHEST WITH CONTRAST"  # only safe words: kept
    assert "SeriesDescription" not in ds  # "Chest for Dr. Smith": a name, removed
    assert "ImageComments" not in ds
    assert ds.InstitutionName == "ANONYMIZED"  # no institution option asked


def test_report_lists_each_action_by_keyword(make_ct: MakeCT, basic: CompiledProfile) -> None:
    """The per-instance record names what happened to each attribute, nested ones by path."""
    ds = make_ct()
    done = deidentify_dataset(ds, profile=basic, keys=KEYS)
    actions = dict(done.actions)
    assert actions["PatientName"] == "pseudonym"
    assert actions["OtherPatientIDs"] == "removed"
    assert actions["SOPInstanceUID"] == "uid"
    assert actions["ReferencedImageSequence/ReferencedSOPInstanceUID"] == "uid"
    assert actions["SourceImageSequence/(private)"] == "removed"
    assert done.removed >= 6
    assert done.replaced >= 10
    assert done.kept > 0


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm"])
def test_real_files_lose_their_phi(name: str, basic: CompiledProfile) -> None:
    """pydicom's real test files come out without their names, IDs, dates or private tags."""
    path = get_testdata_file(name)
    assert path is not None
    original = dcmread(path)
    ds = dcmread(path)
    deidentify_dataset(ds, profile=basic, keys=KEYS)
    assert str(ds.PatientName) != str(original.PatientName)
    assert ds.PatientID != original.PatientID
    assert ds.SOPInstanceUID != original.SOPInstanceUID
    assert not any(elem.tag.is_private for elem in ds.iterall())
    if original.get("StudyDate"):
        assert not ds.StudyDate
    texts = {str(elem.value) for elem in ds.iterall() if elem.VR in ("PN", "LO", "SH")}
    assert str(original.PatientName) not in texts
