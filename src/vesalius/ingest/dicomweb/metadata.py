"""WADO-RS metadata: an instance's attributes in DICOM JSON, bulk data as BulkDataURI.

Values longer than :data:`BULK_THRESHOLD` bytes (and Pixel Data, always) are not inlined:
they get a ``BulkDataURI`` pointing at ``<instance URL>/bulk/<tag>``. Pixel Data points at
the instance's frames, which is what viewers fetch. The stored transfer syntax is given as
AvailableTransferSyntaxUID (0008,3002), which OHIF uses to decode frames.

Examples
--------
>>> from pydicom import dcmread
>>> from pydicom.data import get_testdata_file
>>> ds = dcmread(get_testdata_file("CT_small.dcm"))
>>> meta = instance_metadata(ds, instance_url="http://h/dicom-web/studies/1/series/2/instances/3")
>>> meta["7FE00010"]
{'vr': 'OW', 'BulkDataURI': 'http://h/dicom-web/studies/1/series/2/instances/3/frames/1'}
>>> meta["00083002"]["Value"]
['1.2.840.10008.1.2.1']
"""

from __future__ import annotations

from pydicom import DataElement, Dataset

from vesalius.ingest.dicomweb.dicomjson import JsonDataset
from vesalius.ingest.dicomweb.frames import number_of_frames, transfer_syntax

#: Values larger than this many bytes are sent as BulkDataURI rather than inline.
BULK_THRESHOLD = 1024
_PIXEL_DATA = 0x7FE00010


def frames_url(instance_url: str, n_frames: int) -> str:
    """The URL of all the frames of an instance."""
    return f"{instance_url}/frames/{','.join(str(i) for i in range(1, n_frames + 1))}"


def instance_metadata(ds: Dataset, *, instance_url: str) -> JsonDataset:
    """The DICOM JSON metadata of ``ds`` (which may have been read without pixel data)."""

    def bulk(element: DataElement) -> str:
        return f"{instance_url}/bulk/{element.tag:08X}"

    out: JsonDataset = ds.to_json_dict(
        bulk_data_threshold=BULK_THRESHOLD, bulk_data_element_handler=bulk
    )
    out.pop(f"{_PIXEL_DATA:08X}", None)
    if "PixelData" in ds or "Rows" in ds:
        vr = "OW" if int(ds.get("BitsAllocated", 8)) > 8 else "OB"
        uri = frames_url(instance_url, number_of_frames(ds))
        out[f"{_PIXEL_DATA:08X}"] = {"vr": vr, "BulkDataURI": uri}
    out["00083002"] = {"vr": "UI", "Value": [str(transfer_syntax(ds))]}
    return out
