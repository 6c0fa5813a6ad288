"""FRACTIONAL SEG of a probability map: what a viewer overlays as a heat map.

What a user would see go wrong: a heat map shown with other values than the model gave,
on the wrong slices, rejected by a validating PACS, or out-of-range values written silently.
"""

from __future__ import annotations

import io
from pathlib import Path

import highdicom as hd
import numpy as np
import numpy.typing as npt
import pytest

from tests.export.conftest import CT_SHAPE, WrittenCT, dciodvfy_errors, needs_dciodvfy
from vesalius.errors import InputError
from vesalius.export.seg_fractional import MAX_FRACTIONAL_VALUE, SegIdentity, encode_fractional_seg
from vesalius.store.findings import Algorithm, Code
from vesalius.store.segmentations import SegmentInfo

NODULE = SegmentInfo(
    1,
    "Nodule probability",
    Code("SCT", "49755003", "Morphologically Abnormal Structure"),
    Code("SCT", "27925004", "Nodule"),
)
ALGORITHM = Algorithm("vesalius.test.heatmap", "1.0")


def _heatmap() -> npt.NDArray[np.float32]:
    k, j, i = np.ogrid[: CT_SHAPE[0], : CT_SHAPE[1], : CT_SHAPE[2]]
    bump = np.exp(-((k - 4.0) ** 2 + (j - 12.0) ** 2 + (i - 16.0) ** 2) / 8.0)
    heat = np.where(bump > 0.01, bump, 0.0).astype(np.float32)
    return heat


def _encode(heat: npt.NDArray[np.floating], ct: WrittenCT) -> bytes:
    return encode_fractional_seg(
        heat, ct.headers, NODULE, algorithm=ALGORITHM, identity=SegIdentity.derived("heat")
    )


def test_probabilities_read_back_within_one_step(written_ct: WrittenCT) -> None:
    """A heat map overlaid with other values, or on other slices, than the model gave."""
    heat = _heatmap()
    seg = hd.seg.segread(io.BytesIO(_encode(heat, written_ct)))
    decoded = seg.get_pixels_by_source_instance(
        [str(ds.SOPInstanceUID) for ds in written_ct.headers],
        rescale_fractional=True,
        assert_missing_frames_are_empty=True,
        dtype=np.float32,
    )[..., 0]
    assert np.abs(decoded - heat).max() <= 0.5 / MAX_FRACTIONAL_VALUE + 1e-6
    assert int(seg.NumberOfFrames) == int(
        np.count_nonzero(heat.reshape(CT_SHAPE[0], -1).max(1) > 0.5 / 255)
    )


@needs_dciodvfy
def test_dciodvfy_finds_no_error(written_ct: WrittenCT, tmp_path: Path) -> None:
    """A PACS that validates IODs rejecting the heat map."""
    path = tmp_path / "heat.dcm"
    path.write_bytes(_encode(_heatmap(), written_ct))
    assert dciodvfy_errors(path) == []


def test_values_outside_zero_one_are_refused(written_ct: WrittenCT) -> None:
    """Logits or percentages written as if they were probabilities."""
    heat = _heatmap() * 100
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        _encode(heat, written_ct)
    with pytest.raises(InputError, match="zero everywhere"):
        _encode(np.zeros(CT_SHAPE, np.float32), written_ct)
