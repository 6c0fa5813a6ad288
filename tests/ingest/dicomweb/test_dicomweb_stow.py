"""STOW-RS: what a modality or PACS pushing studies would see go wrong."""

from __future__ import annotations

from vesalius.ingest.dicomweb.multipart import iter_multipart
from vesalius.ingest.dicomweb.stow import CANNOT_UNDERSTAND, DOES_NOT_MATCH
from vesalius.store.index import find_instance

from .conftest import Served, build_app

CT_STUDY = "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322"
DICOM_PARTS = 'multipart/related; type="application/dicom"; boundary=xyz'


def body(*parts: bytes | tuple[bytes, str]) -> bytes:
    return b"".join(iter_multipart(parts, boundary="xyz", media_type="application/dicom"))


def post(
    served: Served, payload: bytes, *, path: str = "/dicom-web/studies", ctype: str = DICOM_PARTS
):
    return served.client.post(path, content=payload, headers={"Content-Type": ctype})


def failures(answer_json: dict) -> list[int]:
    return [
        item["00081197"]["Value"][0] for item in answer_json.get("00081198", {}).get("Value", [])
    ]


def test_all_instances_stored_answers_200_and_they_are_durable_and_searchable(
    empty: Served, test_files: dict[str, bytes]
) -> None:
    answer = post(empty, body(*test_files.values()))
    assert answer.status_code == 200, answer.text
    referenced = answer.json()["00081199"]["Value"]
    assert len(referenced) == len(test_files)
    assert all(item["00081190"]["Value"][0].startswith("http") for item in referenced)
    assert len(empty.client.get("/dicom-web/studies").json()) == 5
    with empty.store.read_session() as session:
        for item in referenced:
            found = find_instance(session, item["00081155"]["Value"][0])
            assert found is not None
            empty.blobs.verify(found.blob_path)


def test_a_part_that_is_not_dicom_gets_a_failure_entry_and_202(
    empty: Served, test_files: dict[str, bytes]
) -> None:
    answer = post(
        empty, body(test_files["CT_small.dcm"], b"this is not DICOM", (b"{}", "text/plain"))
    )
    assert answer.status_code == 202
    assert failures(answer.json()) == [CANNOT_UNDERSTAND, CANNOT_UNDERSTAND]
    assert len(answer.json()["00081199"]["Value"]) == 1


def test_nothing_stored_answers_409(empty: Served) -> None:
    answer = post(empty, body(b"garbage", b"more garbage"))
    assert answer.status_code == 409
    assert failures(answer.json()) == [CANNOT_UNDERSTAND] * 2
    assert empty.client.get("/dicom-web/studies").json() == []


def test_an_instance_of_another_study_than_the_url_is_refused(
    empty: Served, test_files: dict[str, bytes]
) -> None:
    wrong = post(empty, body(test_files["MR_small.dcm"]), path=f"/dicom-web/studies/{CT_STUDY}")
    assert wrong.status_code == 409
    assert failures(wrong.json()) == [DOES_NOT_MATCH]
    right = post(empty, body(test_files["CT_small.dcm"]), path=f"/dicom-web/studies/{CT_STUDY}")
    assert right.status_code == 200
    assert right.json()["00081190"]["Value"][0].endswith(f"/studies/{CT_STUDY}")


def test_wrong_content_types_get_400_or_415(empty: Served, test_files: dict[str, bytes]) -> None:
    payload = body(test_files["CT_small.dcm"])
    assert post(empty, payload, ctype="application/dicom").status_code == 400
    assert (
        post(empty, payload, ctype="multipart/related; type=application/dicom").status_code == 400
    )
    json_parts = 'multipart/related; type="application/dicom+json"; boundary=xyz'
    assert post(empty, payload, ctype=json_parts).status_code == 415
    assert post(empty, b"no boundary in here").status_code == 400
    assert empty.client.get("/dicom-web/studies").json() == []


def test_low_disk_answers_507_before_storing_anything(
    empty: Served, test_files: dict[str, bytes]
) -> None:
    app = build_app(empty.store, empty.blobs, min_free_bytes=empty.blobs.free_bytes() * 2)
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        answer = client.post(
            "/dicom-web/studies",
            content=body(test_files["CT_small.dcm"]),
            headers={"Content-Type": DICOM_PARTS},
        )
    assert answer.status_code == 507
    assert empty.client.get("/dicom-web/studies").json() == []


def test_a_body_over_the_limit_answers_413(empty: Served, test_files: dict[str, bytes]) -> None:
    app = build_app(empty.store, empty.blobs, max_body_bytes=1000)
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        answer = client.post(
            "/dicom-web/studies",
            content=body(test_files["CT_small.dcm"]),
            headers={"Content-Type": DICOM_PARTS},
        )
    assert answer.status_code == 413
    assert empty.client.get("/dicom-web/studies").json() == []


def test_storing_the_same_instance_twice_is_acknowledged_both_times(
    empty: Served, test_files: dict[str, bytes]
) -> None:
    for _ in range(2):
        assert post(empty, body(test_files["CT_small.dcm"])).status_code == 200
    (study,) = empty.client.get("/dicom-web/studies").json()
    assert study["00201208"]["Value"] == [1]
