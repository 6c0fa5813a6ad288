"""WADO-RS: what a viewer loading images, or a PACS retrieving a study, would see go wrong."""

from __future__ import annotations

from io import BytesIO

import numpy as np
from PIL import Image
from pydicom import dcmread
from pydicom.dataset import Dataset

from vesalius.ingest.dicomweb.multipart import Part, parse_media_type, split_multipart

from .conftest import JP2K_SERIES, JP2K_SOP, Served

MR_STUDY = "1.3.6.1.4.1.5962.1.2.4.20040826185059.5457"
MR_SERIES = "1.3.6.1.4.1.5962.1.3.4.1.20040826185059.5457"
MR_SOP = "1.3.6.1.4.1.5962.1.1.4.1.1.20040826185059.5457"
EMRI = (
    "1.2.826.0.1.3680043.2.1143.3365540476747857567072393009509418480",
    "1.2.826.0.1.3680043.2.1143.3712364435022872412969836992152438492",
    "1.2.826.0.1.3680043.2.1143.6455556726214900995651753669640998622",
)
MR = f"/dicom-web/studies/{MR_STUDY}/series/{MR_SERIES}/instances/{MR_SOP}"
JP2K = f"/dicom-web/studies/{MR_STUDY}/series/{JP2K_SERIES}/instances/{JP2K_SOP}"
EMRI_PATH = "/dicom-web/studies/{}/series/{}/instances/{}".format(*EMRI)
OCTET = 'multipart/related; type="application/octet-stream"'


def parts_of(answer: object) -> list[Part]:
    content_type = answer.headers["content-type"]  # type: ignore[attr-defined]
    media = parse_media_type(content_type)
    assert media.type == "multipart/related", content_type
    return split_multipart(answer.content, boundary=media.params["boundary"])  # type: ignore[attr-defined]


def native(data: bytes) -> Dataset:
    return dcmread(BytesIO(data))


def test_a_retrieved_instance_is_byte_identical_to_what_was_stored(
    filled: Served, test_files: dict[str, bytes]
) -> None:
    answer = filled.client.get(
        MR, headers={"Accept": 'multipart/related; type="application/dicom"'}
    )
    assert answer.status_code == 200
    assert 'type="application/dicom"' in answer.headers["content-type"]
    (part,) = parts_of(answer)
    assert part.data == test_files["MR_small.dcm"]


def test_a_study_retrieves_every_instance_of_every_series(
    filled: Served, test_files: dict[str, bytes]
) -> None:
    parts = parts_of(filled.client.get(f"/dicom-web/studies/{MR_STUDY}"))
    assert sorted(p.data for p in parts) == sorted(
        [test_files["MR_small.dcm"], test_files["MR_jp2k"]]
    )
    series = parts_of(filled.client.get(f"/dicom-web/studies/{MR_STUDY}/series/{JP2K_SERIES}"))
    assert [p.data for p in series] == [test_files["MR_jp2k"]]


def test_unknown_uids_get_404_and_unavailable_transcoding_406(filled: Served) -> None:
    assert filled.client.get("/dicom-web/studies/1.2.3.4").status_code == 404
    assert filled.client.get(f"/dicom-web/studies/{MR_STUDY}/series/9.9").status_code == 404
    explicit = 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.1'
    assert filled.client.get(JP2K, headers={"Accept": explicit}).status_code == 406
    assert filled.client.get(MR, headers={"Accept": explicit}).status_code == 200
    any_syntax = 'multipart/related; type="application/dicom"; transfer-syntax=*'
    assert filled.client.get(JP2K, headers={"Accept": any_syntax}).status_code == 200


def test_metadata_has_the_header_and_pixel_data_only_as_a_bulk_data_uri(filled: Served) -> None:
    answer = filled.client.get(f"{MR}/metadata")
    assert answer.headers["content-type"] == "application/dicom+json"
    (meta,) = answer.json()
    assert meta["00100010"]["Value"] == [{"Alphabetic": "CompressedSamples^MR1"}]
    assert meta["7FE00010"]["BulkDataURI"].endswith(f"{MR}/frames/1")
    assert "InlineBinary" not in meta["7FE00010"]
    assert meta["00083002"]["Value"] == ["1.2.840.10008.1.2.1"]
    study_meta = filled.client.get(f"/dicom-web/studies/{MR_STUDY}/metadata").json()
    assert {m["00080018"]["Value"][0] for m in study_meta} == {MR_SOP, JP2K_SOP}
    jp2k_meta = filled.client.get(f"{JP2K}/metadata").json()[0]
    assert jp2k_meta["00083002"]["Value"] == ["1.2.840.10008.1.2.4.90"]


def test_native_frames_are_the_stored_pixel_bytes(
    filled: Served, test_files: dict[str, bytes]
) -> None:
    ds = native(test_files["emri_small.dcm"])
    size = 64 * 64 * 2
    answer = filled.client.get(f"{EMRI_PATH}/frames/2,5", headers={"Accept": OCTET})
    assert answer.status_code == 200
    frames = parts_of(answer)
    assert [f.data for f in frames] == [
        ds.PixelData[size : 2 * size],
        ds.PixelData[4 * size : 5 * size],
    ]
    assert frames[0].content_type.startswith("application/octet-stream")


def test_compressed_frames_decode_to_the_same_pixels_as_the_uncompressed_original(
    filled: Served, test_files: dict[str, bytes]
) -> None:
    original = native(test_files["MR_small.dcm"]).PixelData
    (frame,) = parts_of(filled.client.get(f"{JP2K}/frames/1", headers={"Accept": OCTET}))
    assert frame.data == original
    as_stored = filled.client.get(
        f"{JP2K}/frames/1", headers={"Accept": f"{OCTET}; transfer-syntax=*"}
    )
    (part,) = parts_of(as_stored)
    assert part.content_type == "image/jp2; transfer-syntax=1.2.840.10008.1.2.4.90"
    stored = native(test_files["MR_jp2k"])
    from pydicom.encaps import get_frame

    assert part.data == get_frame(stored.PixelData, 0, number_of_frames=1)


def test_bad_frame_requests_get_400_or_406(filled: Served) -> None:
    assert filled.client.get(f"{EMRI_PATH}/frames/11", headers={"Accept": OCTET}).status_code == 400
    assert (
        filled.client.get(f"{EMRI_PATH}/frames/a,b", headers={"Accept": OCTET}).status_code == 400
    )
    assert filled.client.get(f"{EMRI_PATH}/frames/0", headers={"Accept": OCTET}).status_code == 400
    png = filled.client.get(
        f"{JP2K}/frames/1", headers={"Accept": "multipart/related; type=image/png"}
    )
    assert png.status_code == 406


def test_rendered_images_are_windowed_png_or_jpeg(filled: Served) -> None:
    png = filled.client.get(f"{MR}/rendered", headers={"Accept": "image/png"})
    assert png.headers["content-type"] == "image/png"
    image = np.asarray(Image.open(BytesIO(png.content)))
    assert image.shape == (64, 64)
    assert image.dtype == np.uint8
    assert image.max() > image.min()
    narrow = filled.client.get(f"{MR}/rendered?window=600,10", headers={"Accept": "image/png"})
    clipped = np.asarray(Image.open(BytesIO(narrow.content)))
    assert set(np.unique(clipped)) - {0, 255} != set(np.unique(image)) - {0, 255}
    jpeg = filled.client.get(f"{EMRI_PATH}/frames/3/rendered")
    assert jpeg.headers["content-type"] == "image/jpeg"
    assert Image.open(BytesIO(jpeg.content)).size == (64, 64)
    assert filled.client.get(f"{MR}/rendered", headers={"Accept": "image/gif"}).status_code == 406
    assert filled.client.get(f"{MR}/rendered?window=1").status_code == 400


def test_rendered_colour_images_stay_colour(filled: Served) -> None:
    (us,) = filled.client.get("/dicom-web/instances?Modality=US").json()
    url = us["00081190"]["Value"][0].split("/dicom-web", 1)[1]
    png = filled.client.get(f"/dicom-web{url}/rendered", headers={"Accept": "image/png"})
    assert Image.open(BytesIO(png.content)).mode == "RGB"
