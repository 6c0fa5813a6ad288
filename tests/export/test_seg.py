"""DICOM SEG writer: what a PACS, highdicom and a viewer read back from our segmentations.

What a user would see go wrong: a SEG that a validating PACS rejects, a viewer drawing a
segment on the wrong slice or not at all, a segment coloured or named differently from what
the analysis said, or an export that silently writes an empty object.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import highdicom as hd
import numpy as np
import numpy.typing as npt
import pydicom
import pytest
from pydicom.sr.codedict import codes

from tests.export.conftest import CT_SHAPE, WrittenCT, dciodvfy_errors, needs_dciodvfy
from vesalius.errors import InputError
from vesalius.export.seg import SegIdentity, build_seg, encode_seg, sources_on_grid
from vesalius.export.seg_testing import lung_segment, tiny_sources
from vesalius.store.findings import Algorithm, Code
from vesalius.store.segmentations import SegmentInfo

ALGORITHM = Algorithm("vesalius.test.blobs", "2.1")
ABNORMAL = Code("SCT", "49755003", "Morphologically Abnormal Structure")
NODULE = Code("SCT", "27925004", "Nodule")
LEFT = Code("SCT", "7771000", "Left")


def _segments() -> list[SegmentInfo]:
    return [
        SegmentInfo(1, "Left lung", lung_segment().category, lung_segment().type, LEFT),
        SegmentInfo(2, "Nodule 1", ABNORMAL, NODULE),
        SegmentInfo(5, "Nodule 2", ABNORMAL, NODULE),  # described, no voxel
    ]


def _labels() -> npt.NDArray[np.uint8]:
    labels = np.zeros(CT_SHAPE, np.uint8)
    labels[2:6, 3:15, 4:12] = 1
    labels[7, 20:23, 25:31] = 2
    labels[8, 0, 0] = 2
    return labels


def _decode(data: bytes, headers: list[pydicom.Dataset]) -> npt.NDArray[np.generic]:
    seg = hd.seg.segread(io.BytesIO(data))
    return np.asarray(
        seg.get_pixels_by_source_instance(
            [str(ds.SOPInstanceUID) for ds in headers],
            combine_segments=True,
            relabel=False,
            assert_missing_frames_are_empty=True,
        )
    )


def _ours(labels: npt.NDArray[np.generic], headers: list[pydicom.Dataset]) -> bytes:
    return encode_seg(
        labels, headers, _segments(), algorithm=ALGORITHM, identity=SegIdentity.derived("t")
    )


def test_decoded_seg_equals_highdicoms_and_the_label_map(written_ct: WrittenCT) -> None:
    """A viewer showing a different mask from ours, or from what highdicom would write."""
    labels = _labels()
    ours = _decode(_ours(labels, written_ct.headers), written_ct.headers)
    described = [
        hd.seg.SegmentDescription(
            n,
            s.label,
            hd.sr.CodedConcept(s.category.value, s.category.scheme, s.category.meaning),
            hd.sr.CodedConcept(s.type.value, s.type.scheme, s.type.meaning),
            "AUTOMATIC",
            algorithm_identification=hd.AlgorithmIdentificationSequence(
                ALGORITHM.name, codes.cid7162.MorphologicalOperations, ALGORITHM.version
            ),
        )
        for n, s in enumerate(_segments(), start=1)
    ]
    relabelled = np.select([labels == 1, labels == 2], [1, 2], 0).astype(np.uint8)
    theirs = hd.seg.Segmentation(
        written_ct.headers, relabelled, "BINARY", described,
        hd.UID(), 1, hd.UID(), 1, "m", "m", "1", "1",
    )  # fmt: skip
    buffer = io.BytesIO()
    theirs.save_as(buffer)
    assert np.array_equal(ours, _decode(buffer.getvalue(), written_ct.headers))
    segment_of_label = {0: 0, 1: 1, 2: 2}
    assert np.array_equal(ours, np.vectorize(segment_of_label.get)(labels))


@needs_dciodvfy
def test_dciodvfy_finds_no_error(written_ct: WrittenCT, tmp_path: Path) -> None:
    """A PACS that validates IODs rejecting our SEG."""
    path = tmp_path / "seg.dcm"
    path.write_bytes(_ours(_labels(), written_ct.headers))
    assert dciodvfy_errors(path) == []


def test_each_frame_cites_the_source_slice_of_its_voxels(written_ct: WrittenCT) -> None:
    """A segment drawn on the wrong slice, or at the wrong place in the patient."""
    labels = _labels()
    seg = build_seg(
        labels,
        written_ct.headers,
        _segments(),
        algorithm=ALGORITHM,
        identity=SegIdentity.derived("g"),
    )
    expected = [
        (n, int(k)) for n, v in ((1, 1), (2, 2)) for k in np.unique(np.nonzero(labels == v)[0])
    ]
    found = []
    for item in seg.PerFrameFunctionalGroupsSequence:
        source = item.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        k = [str(ds.SOPInstanceUID) for ds in written_ct.headers].index(str(source))
        segment = int(item.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        position = [float(v) for v in item.PlanePositionSequence[0].ImagePositionPatient]
        assert np.allclose(position, written_ct.volume.index_to_lps([[k, 0, 0]])[0], atol=1e-3)
        assert next(iter(item.FrameContentSequence[0].DimensionIndexValues)) == segment
        found.append((segment, k))
    assert found == expected
    assert seg.FrameOfReferenceUID == written_ct.volume.frame_of_reference_uid
    referenced = seg.ReferencedSeriesSequence[0]
    assert referenced.SeriesInstanceUID == written_ct.headers[0].SeriesInstanceUID
    assert len(referenced.ReferencedInstanceSequence) == CT_SHAPE[0]


def test_segments_carry_codes_colour_and_algorithm(written_ct: WrittenCT) -> None:
    """A viewer listing an unnamed, uncoded or uncoloured segment, or hiding that AI made it."""
    seg = build_seg(
        _labels(),
        written_ct.headers,
        _segments(),
        algorithm=ALGORITHM,
        identity=SegIdentity.derived("c"),
    )
    items = seg.SegmentSequence
    assert [int(i.SegmentNumber) for i in items] == [1, 2, 3]
    assert [i.SegmentLabel for i in items] == ["Left lung", "Nodule 1", "Nodule 2"]
    lung = items[0]
    kind = lung.SegmentedPropertyTypeCodeSequence[0]
    assert (kind.CodeValue, kind.CodingSchemeDesignator) == ("39607008", "SCT")
    assert kind.SegmentedPropertyTypeModifierCodeSequence[0].CodeMeaning == "Left"
    assert items[1].SegmentedPropertyCategoryCodeSequence[0].CodeValue == "49755003"
    assert all(i.SegmentAlgorithmType == "AUTOMATIC" for i in items)
    ident = lung.SegmentationAlgorithmIdentificationSequence[0]
    assert (ident.AlgorithmName, ident.AlgorithmVersion) == (ALGORITHM.name, ALGORITHM.version)
    colours = [tuple(i.RecommendedDisplayCIELabValue) for i in items]
    assert len(set(colours)) == 3
    assert all(0 <= c <= 65535 for lab in colours for c in lab)
    assert seg.ContentLabel
    assert seg.SegmentationType == "BINARY"
    read = hd.seg.segread(io.BytesIO(_ours(_labels(), written_ct.headers)))
    assert read.get_segment_description(3).segment_label == "Nodule 2"


def test_label_map_without_voxels_is_refused_with_a_reason(written_ct: WrittenCT) -> None:
    """An empty SEG (no frame: not a valid object) sent to the PACS without a word."""
    with pytest.raises(InputError, match="no segmented voxel"):
        _ours(np.zeros(CT_SHAPE, np.uint8), written_ct.headers)


def test_label_values_without_description_are_refused(written_ct: WrittenCT) -> None:
    """Voxels of an unknown label dropped from the SEG silently."""
    labels = _labels()
    labels[0, 0, 0] = 9
    with pytest.raises(ValueError, match=r"label values \[9\]"):
        _ours(labels, written_ct.headers)


def test_label_map_off_the_sources_grid_is_refused(written_ct: WrittenCT) -> None:
    """A label map of another grid written over the CT's slices."""
    with pytest.raises(ValueError, match="not the sources' grid"):
        _ours(np.zeros((CT_SHAPE[0], 24, 24), np.uint8), written_ct.headers)
    mixed = [*written_ct.headers[:-1], tiny_sources(1, 24, 32)[0]]
    with pytest.raises(ValueError, match="differ in SeriesInstanceUID"):
        _ours(_labels(), mixed)


def test_frames_not_on_byte_boundaries_decode_exactly() -> None:
    """Bits of one frame spilling into the next when rows x columns is not a multiple of 8."""
    sources = tiny_sources(4, 5, 7)
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, size=(4, 5, 7)).astype(np.uint8)
    segments = [lung_segment(1), SegmentInfo(2, "Nodule", ABNORMAL, NODULE)]
    data = encode_seg(
        labels, sources, segments, algorithm=ALGORITHM, identity=SegIdentity.derived("b")
    )
    assert np.array_equal(_decode(data, sources), labels)


def test_sixteen_bit_label_values_are_kept() -> None:
    """Nodule 300 of a uint16 label map lost or written as another segment."""
    sources = tiny_sources(3, 8, 8)
    labels = np.zeros((3, 8, 8), np.uint16)
    labels[1, 2:4, 2:4] = 300
    segments = [SegmentInfo(300, "Nodule 300", ABNORMAL, NODULE)]
    data = encode_seg(
        labels, sources, segments, algorithm=ALGORITHM, identity=SegIdentity.derived("u")
    )
    assert np.array_equal(_decode(data, sources), (labels == 300).astype(np.uint8))


def test_sources_are_put_in_the_label_maps_slice_order(written_ct: WrittenCT) -> None:
    """Slices of the SEG shuffled when the instances come from the store in another order."""
    shuffled = list(written_ct.headers)
    random.Random(4).shuffle(shuffled)
    ordered = sources_on_grid(shuffled, written_ct.volume)
    assert [ds.SOPInstanceUID for ds in ordered] == [ds.SOPInstanceUID for ds in written_ct.headers]
    with pytest.raises(InputError, match="have no source image"):
        sources_on_grid(shuffled[1:], written_ct.volume)


def test_non_ascii_patient_name_survives(written_ct: WrittenCT) -> None:
    """A patient's name garbled in the SEG (the character set not carried over)."""
    headers = [ds.copy() for ds in written_ct.headers]
    for ds in headers:
        ds.SpecificCharacterSet = "ISO_IR 192"
        ds.PatientName = "Müller^Jörg"
    seg = pydicom.dcmread(io.BytesIO(_ours(_labels(), headers)))
    assert str(seg.PatientName) == "Müller^Jörg"
    assert seg.SpecificCharacterSet == "ISO_IR 192"
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == headers[0].SeriesInstanceUID
