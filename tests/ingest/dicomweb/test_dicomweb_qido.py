"""QIDO-RS: what a viewer's study list and a PACS query would see go wrong."""

from __future__ import annotations

from typing import Any

from .conftest import JP2K_SERIES, Served

CT_STUDY = "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322"
MR_STUDY = "1.3.6.1.4.1.5962.1.2.4.20040826185059.5457"
EMRI_SOP = "1.2.826.0.1.3680043.2.1143.6455556726214900995651753669640998622"
STUDY_REQUIRED = [
    "00080020",
    "00080030",
    "00080050",
    "00080061",
    "00080090",
    "00100010",
    "00100020",
    "00100030",
    "00100040",
    "0020000D",
    "00200010",
    "00201206",
    "00201208",
    "00081190",
]


def values(item: dict[str, Any], tag: str) -> list[Any]:
    return list(item.get(tag, {}).get("Value", []))


def study_uids(served: Served, query: str) -> set[str]:
    answer = served.client.get(f"/dicom-web/studies{query}")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/dicom+json"
    return {values(item, "0020000D")[0] for item in answer.json()}


def test_every_study_is_listed_with_the_required_attributes(filled: Served) -> None:
    answer = filled.client.get("/dicom-web/studies").json()
    assert len(answer) == 5
    for item in answer:
        missing = [tag for tag in STUDY_REQUIRED if tag not in item]
        assert not missing, f"study answer lacks {missing}"


def test_the_mr_study_counts_both_its_series_and_instances(filled: Served) -> None:
    (mr,) = filled.client.get(f"/dicom-web/studies?StudyInstanceUID={MR_STUDY}").json()
    assert values(mr, "00201206") == [2]
    assert values(mr, "00201208") == [2]
    assert values(mr, "00080061") == ["MR"]
    assert values(mr, "00100010") == [{"Alphabetic": "CompressedSamples^MR1"}]
    assert values(mr, "00081190")[0].endswith(f"/dicom-web/studies/{MR_STUDY}")


def test_patient_name_wildcards_match_case_insensitively(filled: Served) -> None:
    assert len(study_uids(filled, "?PatientName=compressedsamples*")) == 3
    assert study_uids(filled, "?PatientName=Compressed?amples^CT1") == {CT_STUDY}
    assert study_uids(filled, "?PatientName=nobody*") == set()


def test_patient_id_and_tag_keys_match(filled: Served) -> None:
    assert study_uids(filled, "?PatientID=1CT1") == {CT_STUDY}
    assert study_uids(filled, "?00100020=4MR1") == {MR_STUDY}


def test_study_date_ranges_include_their_ends(filled: Served) -> None:
    assert study_uids(filled, "?StudyDate=20040119") == {CT_STUDY}
    assert study_uids(filled, "?StudyDate=20040101-20040131") == {CT_STUDY}
    assert len(study_uids(filled, "?StudyDate=20040826-")) == 3  # MR, US, SC 2017
    assert len(study_uids(filled, "?StudyDate=-20031231")) == 1  # emri_small, 2000
    assert len(study_uids(filled, "?StudyDate=-19991231")) == 0


def test_study_uid_lists_and_modalities_in_study_filter(filled: Served) -> None:
    assert study_uids(filled, f"?StudyInstanceUID={CT_STUDY},{MR_STUDY}") == {CT_STUDY, MR_STUDY}
    both = f"?StudyInstanceUID={CT_STUDY}&StudyInstanceUID={MR_STUDY}"
    assert study_uids(filled, both) == {CT_STUDY, MR_STUDY}
    assert len(study_uids(filled, "?ModalitiesInStudy=MR")) == 2  # MR_small and emri
    assert len(study_uids(filled, "?ModalitiesInStudy=CT,US")) == 2


def test_paging_with_limit_and_offset_is_stable_and_complete(filled: Served) -> None:
    seen: list[str] = []
    for offset in range(0, 5, 2):
        page = filled.client.get(f"/dicom-web/studies?limit=2&offset={offset}").json()
        seen += [values(item, "0020000D")[0] for item in page]
    assert len(seen) == 5
    assert len(set(seen)) == 5
    assert filled.client.get("/dicom-web/studies?offset=5").json() == []


def test_malformed_query_values_get_400_naming_the_problem(filled: Served) -> None:
    answer = filled.client.get("/dicom-web/studies?StudyDate=2004-13")
    assert answer.status_code == 400
    assert "StudyDate" in answer.json()["detail"]
    assert filled.client.get("/dicom-web/studies?limit=0").status_code == 400
    assert filled.client.get("/dicom-web/studies?offset=-1").status_code == 400


def test_unsupported_keys_are_named_in_a_warning_and_fuzzymatching_is_ignored(
    filled: Served,
) -> None:
    answer = filled.client.get("/dicom-web/studies?fuzzymatching=true&Foo=1&PatientAge=030Y")
    assert answer.status_code == 200
    assert len(answer.json()) == 5
    assert "Foo" in answer.headers["warning"]
    assert "PatientAge" in answer.headers["warning"]


def test_an_empty_store_answers_200_with_an_empty_array(empty: Served) -> None:
    answer = empty.client.get("/dicom-web/studies")
    assert (answer.status_code, answer.json()) == (200, [])


def test_series_of_a_study_carry_their_attributes_and_counts(filled: Served) -> None:
    answer = filled.client.get(f"/dicom-web/studies/{MR_STUDY}/series").json()
    by_uid = {values(item, "0020000E")[0]: item for item in answer}
    assert len(by_uid) == 2
    jp2k = by_uid[JP2K_SERIES]
    assert values(jp2k, "00200011") == [99]
    assert values(jp2k, "00201209") == [1]
    assert values(jp2k, "00080060") == ["MR"]
    assert values(jp2k, "00081190")[0].endswith(f"/studies/{MR_STUDY}/series/{JP2K_SERIES}")


def test_series_search_across_studies_filters_by_modality(filled: Served) -> None:
    answer = filled.client.get("/dicom-web/series?Modality=US").json()
    assert [values(item, "00080060") for item in answer] == [["US"]]
    assert "00100020" in answer[0]  # unscoped: the study's attributes come along
    assert filled.client.get(f"/dicom-web/series?SeriesInstanceUID={JP2K_SERIES}").json()


def test_instances_carry_image_attributes_read_from_the_stored_header(filled: Served) -> None:
    (emri,) = filled.client.get(f"/dicom-web/instances?SOPInstanceUID={EMRI_SOP}").json()
    assert values(emri, "00280008") == [10]
    assert values(emri, "00280010") == [64]
    assert values(emri, "00280011") == [64]
    assert values(emri, "00280100") == [16]
    assert values(emri, "00080016") == ["1.2.840.10008.5.1.4.1.1.4.1"]
    ct_series = filled.client.get(f"/dicom-web/studies/{CT_STUDY}/series").json()
    series_uid = values(ct_series[0], "0020000E")[0]
    path = f"/dicom-web/studies/{CT_STUDY}/series/{series_uid}/instances"
    (ct,) = filled.client.get(path).json()
    assert "00280008" in ct
    assert "Value" not in ct["00280008"]  # single frame: empty, present
    assert values(ct, "00200013") == [1]


def test_includefield_adds_header_attributes_to_instances(filled: Served) -> None:
    plain = filled.client.get("/dicom-web/instances?Modality=CT").json()[0]
    assert "00180050" not in plain
    more = filled.client.get("/dicom-web/instances?Modality=CT&includefield=SliceThickness")
    assert values(more.json()[0], "00180050") == [5.0]
    everything = filled.client.get("/dicom-web/instances?Modality=CT&includefield=all").json()
    assert "00180050" in everything[0]
    assert "00280030" in everything[0]
    assert filled.client.get("/dicom-web/studies?includefield=NotAKeyword").status_code == 400
