"""dicomweb-client (what OHIF-like and Python clients use) against our routes over HTTP."""

from __future__ import annotations

from io import BytesIO

import pytest
from dicomweb_client.api import DICOMwebClient
from pydicom import dcmread

from vesalius.ingest.dicomweb.client import DicomWebError, DicomWebPeer

from .conftest import JP2K_SERIES, JP2K_SOP, Served, serve

MR_STUDY = "1.3.6.1.4.1.5962.1.2.4.20040826185059.5457"


def test_dicomweb_client_searches_retrieves_and_stores_over_http(
    empty: Served, test_files: dict[str, bytes]
) -> None:
    datasets = [dcmread(BytesIO(data)) for data in test_files.values()]
    with serve(empty.app) as base:
        client = DICOMwebClient(f"{base}/dicom-web")
        stored = client.store_instances(datasets)
        assert len(stored.ReferencedSOPSequence) == len(datasets)
        studies = client.search_for_studies(search_filters={"PatientName": "Compressed*"})
        assert len(studies) == 3
        retrieved = client.retrieve_study(MR_STUDY)
        assert sorted(str(ds.SOPInstanceUID) for ds in retrieved) == sorted(
            [JP2K_SOP, "1.3.6.1.4.1.5962.1.1.4.1.1.20040826185059.5457"]
        )
        meta = client.retrieve_instance_metadata(MR_STUDY, JP2K_SERIES, JP2K_SOP)
        assert meta["00080060"]["Value"] == ["MR"]
        (frame,) = client.retrieve_instance_frames(MR_STUDY, JP2K_SERIES, JP2K_SOP, [1])
        assert frame == dcmread(BytesIO(test_files["MR_small.dcm"])).PixelData


def test_the_peer_wrapper_gives_datasets_and_reports_refusals(
    empty: Served, test_files: dict[str, bytes]
) -> None:
    ct = dcmread(BytesIO(test_files["CT_small.dcm"]))
    with serve(empty.app) as base:
        peer = DicomWebPeer(f"{base}/dicom-web", retry=False)
        result = peer.store([ct])
        assert result.stored == (str(ct.SOPInstanceUID),)
        assert result.failed == ()
        refused = peer.store([ct], study_uid="1.2.3.4")
        assert refused.stored == ()
        assert refused.failed == ((str(ct.SOPInstanceUID), 0xA900),)
        (study,) = peer.search_studies({"PatientID": "1CT1"})
        assert study.PatientName == "CompressedSamples^CT1"
        (series,) = peer.search_series(str(ct.StudyInstanceUID))
        (instance,) = peer.search_instances(str(ct.StudyInstanceUID), str(series.SeriesInstanceUID))
        assert instance.Rows == 128
        same = peer.retrieve_instance(
            str(ct.StudyInstanceUID), str(ct.SeriesInstanceUID), str(ct.SOPInstanceUID)
        )
        assert same.PixelData == ct.PixelData
        with pytest.raises(DicomWebError, match="HTTP 404"):
            peer.retrieve_study("9.9.9")
