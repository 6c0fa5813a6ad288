"""The finding types: coded concepts, measurements, categories, locations and findings.

A :class:`Finding` is what an analysis hands on to triage, reports and exports, in the
terms of DICOM TID 1500 (Measurement Report): a finding type, its measurements (concept,
value, UCUM unit, method), categories (CAC-DRS, Lung-RADS), an anatomic location, and the
algorithm (name and version) that made it, since AI output is always marked as such. Every
type validates itself when built (``ValueError`` naming the expected and found value) and
has a JSON round trip (``to_json`` / ``from_json``); ``from_json`` raises
:class:`~vesalius.errors.InputError` for malformed input.

Examples
--------
>>> from vesalius.core import SeriesRef
>>> from vesalius.findings import codes
>>> finding = Finding(
...     finding_type=codes.LUNG,
...     measurements=(Measurement(codes.VOLUME, 2512.5, "mL", method="voxel count"),),
...     location=Location(site=codes.LUNG, laterality="left"),
...     algorithm_name="vesalius.chest-ct.lungs", algorithm_version="0.1.0",
...     source=SeriesRef("1.2.3", "1.2.3.4"),
... )
>>> Finding.from_json(finding.to_json()) == finding
True
>>> finding.measurement(codes.VOLUME).value, finding.ai_generated
(2512.5, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from vesalius.core import SeriesRef
from vesalius.errors import InputError

SCHEMES = ("SCT", "RADLEX", "DCM", "LN")
"""Coding scheme designators: SNOMED CT, RadLex, DICOM (PS3.16), LOINC."""
UNITS = ("mL", "%", "mm3", "1", "mm", "mm2", "mg", "[hnsf'U]")
"""UCUM units a measurement may carry (``"1"``: a unitless number, such as a score)."""
LATERALITIES = ("left", "right")

T = TypeVar("T")
Triple = tuple[float, float, float]
IndexTriple = tuple[int, int, int]
Segment = tuple[Triple, Triple]


def _text(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be non-empty text, found {value!r}")


@dataclass(frozen=True)
class CodedConcept:
    """A concept: a code (value, scheme designator) and its meaning, or the meaning alone.

    ``value`` and ``scheme`` are both ``None`` for a concept that no coding scheme has a code
    for: it is then stated as text only, never with an invented code.
    """

    value: str | None
    scheme: str | None
    meaning: str

    def __post_init__(self) -> None:
        _text("meaning", self.meaning)
        if (self.value is None) != (self.scheme is None):
            raise ValueError(
                f"code value and scheme go together, found {self.value!r}, {self.scheme!r}"
            )
        if self.scheme is not None and self.scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {SCHEMES}, found {self.scheme!r}")
        if self.value is not None:
            _text("code value", self.value)

    @classmethod
    def text(cls, meaning: str) -> CodedConcept:
        """A concept with no code, stated as text only."""
        return cls(None, None, meaning)

    @property
    def coded(self) -> bool:
        """Whether the concept has a code."""
        return self.value is not None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"value": self.value, "scheme": self.scheme, "meaning": self.meaning}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CodedConcept:
        """Inverse of :meth:`to_json`."""
        return _build(cls, lambda: cls(data.get("value"), data.get("scheme"), data["meaning"]))


@dataclass(frozen=True)
class Measurement:
    """A measured value: what (concept), how much (value, UCUM unit) and how (method)."""

    concept: CodedConcept
    value: float
    unit: str
    method: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            raise ValueError(f"measurement value must be a number, found {self.value!r}")
        if not math.isfinite(self.value):
            raise ValueError(f"{self.concept.meaning}: value must be finite, found {self.value}")
        if self.unit not in UNITS:
            raise ValueError(f"unit must be a UCUM unit of {UNITS}, found {self.unit!r}")

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "concept": self.concept.to_json(),
            "value": float(self.value),
            "unit": self.unit,
            "method": self.method,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Measurement:
        """Inverse of :meth:`to_json`."""
        return _build(
            cls,
            lambda: cls(
                CodedConcept.from_json(data["concept"]),
                data["value"],
                data["unit"],
                method=data.get("method", ""),
            ),
        )


@dataclass(frozen=True)
class Category:
    """A grade in a reporting system, e.g. ``Category("CAC-DRS", "A2/N3", "...")``."""

    system: str
    value: str
    meaning: str = ""

    def __post_init__(self) -> None:
        _text("category system", self.system)
        _text("category value", self.value)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"system": self.system, "value": self.value, "meaning": self.meaning}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Category:
        """Inverse of :meth:`to_json`."""
        return _build(cls, lambda: cls(data["system"], data["value"], data.get("meaning", "")))


def _triple(name: str, value: Any, kind: type) -> None:
    ok = isinstance(value, tuple) and len(value) == 3
    if not ok or not all(isinstance(v, kind) and not isinstance(v, bool) for v in value):
        raise ValueError(f"{name} must be a tuple of 3 {kind.__name__}, found {value!r}")


def _float_triple(values: Any) -> Triple:
    return (float(values[0]), float(values[1]), float(values[2]))


def _segment(name: str, value: Any) -> None:
    if not isinstance(value, tuple) or len(value) != 2:
        raise ValueError(f"{name} must be a tuple of 2 end points, found {value!r}")
    for end in value:
        _triple(f"{name} end point", end, float)


@dataclass(frozen=True)
class AxisEnds:
    """End points of a lesion's long and short axis on one source image, in LPS mm.

    What a viewer draws over the acquired axial slice through the lesion. Their lengths are
    the finding's long and short axis when it was measured on that plane; a lesion measured
    on a coronal or sagittal reformat (Lung-RADS: the plane of its largest dimension) has
    other values, and the DICOM SR labels the drawn lines with their own lengths.

    >>> ends = AxisEnds(((0.0, 0.0, 5.0), (9.0, 0.0, 5.0)), ((4.5, -3.0, 5.0), (4.5, 3.0, 5.0)))
    >>> AxisEnds.from_json(ends.to_json()) == ends
    True
    """

    long_axis: Segment
    short_axis: Segment

    def __post_init__(self) -> None:
        _segment("long_axis", self.long_axis)
        _segment("short_axis", self.short_axis)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "long_axis": [list(p) for p in self.long_axis],
            "short_axis": [list(p) for p in self.short_axis],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AxisEnds:
        """Inverse of :meth:`to_json`."""

        def ends(key: str) -> Segment:
            first, second = data[key]
            return (_float_triple(first), _float_triple(second))

        return _build(cls, lambda: cls(ends("long_axis"), ends("short_axis")))


@dataclass(frozen=True)
class Location:
    """Where a finding is: anatomic site, laterality, and optionally a voxel and a point.

    ``voxel_kji`` indexes the source series' volume (slice, row, column); ``point_lps_mm``
    is in the patient's DICOM LPS coordinates; ``axial_axes`` are the end points of the
    lesion's axes on the acquired axial slice through it (:class:`AxisEnds`), for viewers.
    """

    site: CodedConcept
    laterality: str | None = None
    voxel_kji: IndexTriple | None = None
    point_lps_mm: Triple | None = None
    axial_axes: AxisEnds | None = None

    def __post_init__(self) -> None:
        if self.laterality is not None and self.laterality not in LATERALITIES:
            raise ValueError(f"laterality must be left, right or None, found {self.laterality!r}")
        if self.voxel_kji is not None:
            _triple("voxel_kji", self.voxel_kji, int)
        if self.point_lps_mm is not None:
            _triple("point_lps_mm", self.point_lps_mm, float)
        if self.axial_axes is not None and not isinstance(self.axial_axes, AxisEnds):
            raise ValueError(f"axial_axes must be AxisEnds, found {self.axial_axes!r}")

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (``axial_axes`` only when known: older payloads lack it)."""
        data: dict[str, Any] = {
            "site": self.site.to_json(),
            "laterality": self.laterality,
            "voxel_kji": None if self.voxel_kji is None else list(self.voxel_kji),
            "point_lps_mm": None if self.point_lps_mm is None else list(self.point_lps_mm),
        }
        if self.axial_axes is not None:
            data["axial_axes"] = self.axial_axes.to_json()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Location:
        """Inverse of :meth:`to_json`."""
        voxel, point, axes = data.get("voxel_kji"), data.get("point_lps_mm"), data.get("axial_axes")
        return _build(
            cls,
            lambda: cls(
                CodedConcept.from_json(data["site"]),
                data.get("laterality"),
                None if voxel is None else (int(voxel[0]), int(voxel[1]), int(voxel[2])),
                None if point is None else _float_triple(point),
                None if axes is None else AxisEnds.from_json(axes),
            ),
        )


def _ref_json(ref: SeriesRef) -> dict[str, Any]:
    return {
        "study_uid": ref.study_uid,
        "series_uid": ref.series_uid,
        "sop_instance_uids": list(ref.sop_instance_uids),
        "sop_class_uid": ref.sop_class_uid,
    }


def _ref_from_json(data: Mapping[str, Any]) -> SeriesRef:
    return SeriesRef(
        str(data["study_uid"]),
        str(data["series_uid"]),
        tuple(str(uid) for uid in data.get("sop_instance_uids", ())),
        str(data.get("sop_class_uid", "")),
    )


@dataclass(frozen=True)
class Finding:
    """One finding of one series, made by a named and versioned algorithm.

    Attributes
    ----------
    finding_type
        What was found (TID 1500 "Finding"), coded where a code exists.
    measurements, categories
        Its measured values and its grades.
    location
        Where it is, or ``None`` for a study-level finding.
    confidence
        The algorithm's confidence in [0, 1], or ``None`` when it gives none.
    algorithm_name, algorithm_version
        The algorithm that produced it (required: AI output is always marked).
    source
        The series (study, series, SOP instance UIDs) it was found on.
    ai_generated
        Whether an algorithm made it (``True`` for everything the analyses produce).
    description
        A sentence for people.
    """

    finding_type: CodedConcept
    algorithm_name: str
    algorithm_version: str
    source: SeriesRef
    measurements: tuple[Measurement, ...] = ()
    categories: tuple[Category, ...] = ()
    location: Location | None = None
    confidence: float | None = None
    ai_generated: bool = True
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.source, SeriesRef):
            raise ValueError(f"source must be a SeriesRef, found {self.source!r}")
        _text("algorithm name", self.algorithm_name)
        _text("algorithm version", self.algorithm_version)
        _text("source study UID", self.source.study_uid)
        _text("source series UID", self.source.series_uid)
        if self.confidence is not None and not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be in [0, 1], found {self.confidence}")
        if not isinstance(self.measurements, tuple) or not isinstance(self.categories, tuple):
            raise ValueError("measurements and categories must be tuples")

    def measurement(self, concept: CodedConcept) -> Measurement:
        """The first measurement of ``concept``; ``KeyError`` when there is none."""
        for m in self.measurements:
            if m.concept == concept:
                return m
        raise KeyError(concept.meaning)

    def category(self, system: str) -> Category | None:
        """The category in ``system``, or ``None``."""
        return next((c for c in self.categories if c.system == system), None)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (everything, so :meth:`from_json` gives an equal finding)."""
        return {
            "finding_type": self.finding_type.to_json(),
            "measurements": [m.to_json() for m in self.measurements],
            "categories": [c.to_json() for c in self.categories],
            "location": None if self.location is None else self.location.to_json(),
            "confidence": self.confidence,
            "algorithm": {"name": self.algorithm_name, "version": self.algorithm_version},
            "source": _ref_json(self.source),
            "ai_generated": self.ai_generated,
            "description": self.description,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Finding:
        """Inverse of :meth:`to_json`; :class:`~vesalius.errors.InputError` when malformed."""

        def make() -> Finding:
            location = data.get("location")
            return cls(
                finding_type=CodedConcept.from_json(data["finding_type"]),
                algorithm_name=data["algorithm"]["name"],
                algorithm_version=data["algorithm"]["version"],
                source=_ref_from_json(data["source"]),
                measurements=tuple(Measurement.from_json(m) for m in data.get("measurements", [])),
                categories=tuple(Category.from_json(c) for c in data.get("categories", [])),
                location=None if location is None else Location.from_json(location),
                confidence=data.get("confidence"),
                ai_generated=bool(data.get("ai_generated", True)),
                description=str(data.get("description", "")),
            )

        return _build(cls, make)


def _build(cls: type[T], make: Callable[[], T]) -> T:
    """Call ``make()``, turning a malformed JSON object into an :class:`InputError`."""
    try:
        result = make()
    except InputError:
        raise
    except KeyError as err:
        raise InputError(None, f"{cls.__name__} JSON lacks {err}") from None
    except (TypeError, ValueError, IndexError, AttributeError) as err:
        raise InputError(None, f"{cls.__name__} JSON is malformed: {err}") from None
    return result
