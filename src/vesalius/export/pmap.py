"""DICOM Parametric Map of a heat map or probability map on the grid of a source CT series.

:func:`encode_parametric_map` writes Parametric Map Storage (1.2.840.10008.5.1.4.1.1.30)
with :class:`highdicom.pm.ParametricMap`: 32-bit float voxels (Float Pixel Data), one
frame per source slice, each frame citing its source slice (Derivation Image Sequence)
and its position (Plane Position); the shared
Real World Value Mapping says what the numbers are (label, explanation, UCUM unit, the
value range; identity mapping, slope 1, intercept 0) and the Frame Anatomy (Thorax,
unpaired by default) the region. The Common Instance Reference names the source series.

This is what the OHIF Parametric Map extension (``cornerstone-dicom-pmap``) loads: it
takes the source series from the top-level Referenced Series Sequence, matches each frame
to its source image by the Derivation Image Sequence (or else by its plane position) and
overlays the float values on the source volume. It needs a frame for *every* source
slice (it writes frame ``n`` at the slice offset of its source in a buffer as long as the
map's own pixel data), so no frame is left out even where the map is zero: the price is
4 bytes per source voxel (uncompressed; OHIF reads no compressed float pixel data). It
also copies the frames into the volume in frame order, not by the source each cites, so
the frames go in the order cornerstone stacks slices: increasing position along the
normal of the slices (row cosines x column cosines).

Examples
--------
>>> import numpy as np
>>> from vesalius.export.seg_testing import tiny_sources
>>> from vesalius.store.findings import Algorithm
>>> heat = np.zeros((3, 4, 8), np.float32)
>>> heat[1, 1:3, 2:5] = 0.75
>>> data = encode_parametric_map(
...     heat, tiny_sources(3, 4, 8), PROBABILITY,
...     algorithm=Algorithm("demo", "1"), identity=PmapIdentity.derived("doc"),
... )
>>> pm = read_parametric_map(data)
>>> pm.SOPClassUID == PARAMETRIC_MAP_STORAGE, int(pm.NumberOfFrames), float(pm.pixel_array.max())
(True, 3, 0.75)
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import highdicom as hd
import numpy as np
import numpy.typing as npt
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence

import vesalius
from vesalius.errors import InputError
from vesalius.io.dicom_write import derive_uid
from vesalius.store.findings import Algorithm, Code

__all__ = [
    "PARAMETRIC_MAP_STORAGE",
    "PMAP_SERIES_NUMBER",
    "PROBABILITY",
    "THORAX",
    "MapMeaning",
    "PmapIdentity",
    "encode_parametric_map",
    "read_parametric_map",
]

PARAMETRIC_MAP_STORAGE = "1.2.840.10008.5.1.4.1.1.30"
PMAP_SERIES_NUMBER = 903
"""Series Number of parametric maps (AI results are numbered in the 900s)."""
THORAX = Code("SCT", "51185008", "Thorax")
"""The anatomic region of every Vesalius analysis (chest and cardiac CT)."""


@dataclass(frozen=True)
class MapMeaning:
    """What the values of a map are: a short label, an explanation, the UCUM unit, a range."""

    label: str
    explanation: str
    unit: Code
    value_range: tuple[float, float]

    def __post_init__(self) -> None:
        if not 1 <= len(self.label) <= 16:
            raise ValueError(f"a map label must be 1 to 16 characters, found {self.label!r}")
        low, high = self.value_range
        if not low < high:
            raise ValueError(f"a value range must be increasing, found {self.value_range}")


PROBABILITY = MapMeaning(
    "PROBABILITY", "Probability (0 to 1) given by the AI", Code("UCUM", "1", "no units"), (0, 1)
)
"""A probability map in [0, 1] (dimensionless)."""


@dataclass(frozen=True)
class PmapIdentity:
    """Identity of the new Parametric Map instance: UIDs, numbers, description."""

    series_uid: str
    sop_instance_uid: str
    series_number: int = PMAP_SERIES_NUMBER
    instance_number: int = 1
    series_description: str = "AI probability map (not reviewed)"

    @classmethod
    def derived(cls, *parts: str) -> PmapIdentity:
        """UIDs derived from ``parts`` (the same parts give the same UIDs: re-exports match).

        >>> PmapIdentity.derived("x") == PmapIdentity.derived("x")
        True
        """
        return cls(derive_uid(*parts, "pmap-series"), derive_uid(*parts, "pmap-instance"))


def _checked(values: npt.NDArray[np.floating], n_sources: int, meaning: MapMeaning) -> None:
    if values.ndim != 3 or values.shape[0] != n_sources:
        raise ValueError(f"map shape {values.shape} does not have one slice per source image")
    if not np.all(np.isfinite(values)):
        raise ValueError("a parametric map must hold finite values")
    low, high = meaning.value_range
    if values.min(initial=low) < low or values.max(initial=high) > high:
        raise ValueError(f"map values must lie in {meaning.value_range} ({meaning.label})")


def _frame_anatomy(region: Code) -> Dataset:
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator = region.value, region.scheme
    code.CodeMeaning = region.meaning
    anatomy = Dataset()
    anatomy.AnatomicRegionSequence = DicomSequence([code])
    anatomy.FrameLaterality = "U"
    return anatomy


def _ascending_along_normal(pm: hd.pm.ParametricMap) -> None:
    """Put the frames in the order of increasing position along the slices' normal.

    That is the order in which cornerstone (OHIF) stacks the source slices into a volume,
    and OHIF copies the map's frames into it in frame order whatever frame cites which
    source; highdicom writes them the other way round.
    """
    shared = pm.SharedFunctionalGroupsSequence[0]
    cosines = [float(v) for v in shared.PlaneOrientationSequence[0].ImageOrientationPatient]
    normal = np.cross(cosines[:3], cosines[3:])
    frames = list(pm.PerFrameFunctionalGroupsSequence)
    along = [
        float(np.dot([float(v) for v in f.PlanePositionSequence[0].ImagePositionPatient], normal))
        for f in frames
    ]
    order = np.argsort(along, kind="stable")
    pixels = np.frombuffer(pm.FloatPixelData, "<f4").reshape(len(frames), -1)
    pm.FloatPixelData = pixels[order].tobytes()
    pm.PerFrameFunctionalGroupsSequence = [frames[int(k)] for k in order]
    for n, frame in enumerate(pm.PerFrameFunctionalGroupsSequence, start=1):
        frame.FrameContentSequence[0].DimensionIndexValues = n  # the one dimension: position


def encode_parametric_map(
    values: npt.NDArray[np.floating],
    sources: Sequence[Dataset],
    meaning: MapMeaning,
    *,
    algorithm: Algorithm,
    identity: PmapIdentity,
    region: Code = THORAX,
) -> bytes:
    """A Parametric Map of ``values`` as Part 10 bytes; ``values[k]`` lies on ``sources[k]``.

    ``sources`` are the headers of single-frame source slices (pixel data not needed);
    there is one frame per source slice (what OHIF needs, see the module doc).

    Raises
    ------
    ValueError
        A map not on the sources' grid, not finite or outside ``meaning.value_range``.
    InputError
        Sources that are not single-frame slices of one series.
    """
    volume = np.asarray(values, np.float32)
    _checked(volume, len(sources), meaning)
    mapping = hd.pm.RealWorldValueMapping(
        lut_label=meaning.label,
        lut_explanation=meaning.explanation,
        unit=hd.sr.CodedConcept(meaning.unit.value, meaning.unit.scheme, meaning.unit.meaning),
        value_range=(float(meaning.value_range[0]), float(meaning.value_range[1])),
        slope=1.0,
        intercept=0.0,
    )
    low, high = meaning.value_range
    voi = hd.VOILUTTransformation(window_center=(low + high) / 2, window_width=high - low)
    try:
        pm = hd.pm.ParametricMap(
            list(sources),
            volume,
            identity.series_uid,
            identity.series_number,
            identity.sop_instance_uid,
            identity.instance_number,
            manufacturer="Vesalius",
            manufacturer_model_name=algorithm.name[:64],
            software_versions=f"vesalius {vesalius.__version__}; {algorithm.version}",
            device_serial_number="0",
            contains_recognizable_visual_features=False,
            real_world_value_mappings=[mapping],
            voi_lut_transformations=[voi],
            content_label=meaning.label,
            content_description=meaning.explanation[:64],
            series_description=identity.series_description,
        )
    except (AttributeError, KeyError, ValueError) as err:
        raise InputError(None, f"cannot make a parametric map on these sources: {err}") from None
    _ascending_along_normal(pm)
    pm.SharedFunctionalGroupsSequence[0].FrameAnatomySequence = DicomSequence(
        [_frame_anatomy(region)]
    )
    out = io.BytesIO()
    pm.save_as(out, enforce_file_format=True)
    return out.getvalue()


def read_parametric_map(data: bytes) -> hd.pm.ParametricMap:
    """A Parametric Map's bytes read by highdicom."""
    return hd.pm.ParametricMap.from_dataset(dcmread(io.BytesIO(data)))
