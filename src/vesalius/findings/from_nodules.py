"""Findings from the lung nodule detection, with the study's Lung-RADS v2022 category.

:func:`nodule_findings` gives one study-level finding (lung nodules: how many, and the
Lung-RADS category from :func:`~vesalius.analyze.chest_ct.lungrads.lungrads_category`
computed on the detected nodules at baseline) followed by one finding per nodule or mass
(long axis over 30 mm): a Nodule (SCT 27925004) or Mass (SCT 4147007) located in its lung,
with its long and short axis on the Lung-RADS plane (axial, coronal or sagittal, named in
the axes' method and the description), mean diameter (Lung-RADS rounding), volume, mean
attenuation and, for solid and part-solid ones, the solid component; its type (solid,
part-solid, ground-glass) is a category of the system ``"Nodule type"``; its confidence is
the classifier's probability; its location carries the end points of its axes on the
acquired axial slice through it (:class:`~vesalius.findings.model.AxisEnds`), which the
DICOM SR draws on that slice. Lung-RADS assumes a screening CT; masses are given to it as
nodules of their size, which puts them in 4B. :func:`slice_limitation` states when the
slices were thicker than Lung-RADS assumes, as a finding of its own that reports show
under their limitations.

Examples
--------
>>> from vesalius.simulate.chest_ct import ChestCTSpec, chest_ct
>>> from vesalius.analyze.chest_ct import detect_nodules, segment_lungs
>>> from vesalius.core import SeriesRef
>>> ct = chest_ct(ChestCTSpec(shape=(60, 192, 192), noise_hu=0.0), seed=3)
>>> result = detect_nodules(ct.volume, segment_lungs(ct.volume))
>>> study, *nodules = nodule_findings(result, source=SeriesRef("1.2.3", "1.2.3.4"))
>>> study.category("Lung-RADS").value, len(nodules) == len(result.nodules)
('4A', True)
>>> nodules[0].measurement(codes.LONG_AXIS).unit
'mm'
>>> nodules[0].measurement(codes.LONG_AXIS).method.endswith("axial plane")
True
"""

from __future__ import annotations

import vesalius
from vesalius.analyze.chest_ct.lungrads import (
    LungRadsNodule,
    LungRadsResult,
    lungrads_category,
    thick_slice_caveat,
)
from vesalius.analyze.chest_ct.nodules import Nodule, NoduleResult
from vesalius.core import SeriesRef
from vesalius.findings import codes
from vesalius.findings.model import AxisEnds, Category, Finding, Location, Measurement

ALGORITHM = "vesalius.chest-ct.nodules"
"""Algorithm name of the nodule findings (the version is Vesalius's)."""
TYPE_SYSTEM = "Nodule type"
"""Category system of a nodule's type."""
MEAN_DIAMETER_METHOD = (
    "mean of the long and short axis on the plane showing the largest dimension, "
    "rounded to 0.1 mm (Lung-RADS v2022)"
)


def _plane(nodule: Nodule) -> str:
    """The plane the axes were measured on (``"axial"`` when not recorded)."""
    return "axial" if nodule.axes is None else nodule.axes.plane


def lungrads_nodule(nodule: Nodule) -> LungRadsNodule:
    """The Lung-RADS input for a detected nodule."""
    solid = nodule.solid_component_mean_diameter_mm if nodule.kind == "part-solid" else None
    if solid is not None:
        solid = max(0.1, min(solid, nodule.mean_diameter_mm))
    return LungRadsNodule(
        nodule.kind,  # type: ignore[arg-type]
        max(nodule.mean_diameter_mm, 0.1),
        solid_component_mm=solid,
        volume_mm3=nodule.volume_mm3,
    )


def _measurements(nodule: Nodule) -> tuple[Measurement, ...]:
    axes = f"{nodule.method}; {_plane(nodule)} plane"
    found = [
        Measurement(codes.LONG_AXIS, nodule.long_axis_mm, "mm", method=axes),
        Measurement(codes.SHORT_AXIS, nodule.short_axis_mm, "mm", method=axes),
        Measurement(codes.DIAMETER, nodule.mean_diameter_mm, "mm", method=MEAN_DIAMETER_METHOD),
        Measurement(codes.VOLUME, nodule.volume_mm3, "mm3", method=nodule.method),
        Measurement(
            codes.MEAN_ATTENUATION, nodule.mean_hu, "[hnsf'U]", method="partial-volume corrected"
        ),
    ]
    if nodule.solid_component_long_axis_mm is not None:
        found.append(
            Measurement(codes.SOLID_COMPONENT_LONG_AXIS, nodule.solid_component_long_axis_mm, "mm")
        )
    if nodule.solid_component_mean_diameter_mm is not None:
        found.append(
            Measurement(
                codes.SOLID_COMPONENT_DIAMETER, nodule.solid_component_mean_diameter_mm, "mm"
            )
        )
    return tuple(found)


def _describe(nodule: Nodule) -> str:
    what = "mass" if nodule.is_mass else "nodule"
    solid = (
        f", solid component {nodule.solid_component_long_axis_mm:.1f} mm"
        if nodule.kind == "part-solid" and nodule.solid_component_long_axis_mm is not None
        else ""
    )
    return (
        f"{nodule.kind.capitalize()} {what} {nodule.id}, {nodule.side} lung, {nodule.zone} zone "
        f"(lobes not segmented): {nodule.long_axis_mm:.1f} x {nodule.short_axis_mm:.1f} mm "
        f"({_plane(nodule)}) "
        f"(mean {nodule.mean_diameter_mm:.1f} mm){solid}, {nodule.volume_mm3:.0f} mm3, "
        f"{nodule.mean_hu:.0f} HU"
    )


def _axial_axes(nodule: Nodule) -> AxisEnds | None:
    """End points of the axial long and short axis (LPS mm), for viewers; ``None`` if unknown."""
    axes = nodule.axes_axial
    return None if axes is None else AxisEnds(axes.long_ends, axes.short_ends)


def _nodule(nodule: Nodule, source: SeriesRef) -> Finding:
    k, j, i = (round(v) for v in nodule.centre_kji)
    return Finding(
        finding_type=codes.MASS if nodule.is_mass else codes.NODULE,
        algorithm_name=ALGORITHM,
        algorithm_version=vesalius.__version__,
        source=source,
        measurements=_measurements(nodule),
        categories=(Category(TYPE_SYSTEM, nodule.kind),),
        location=Location(
            codes.LUNG,
            laterality=nodule.side,
            voxel_kji=(k, j, i),
            point_lps_mm=nodule.centre_lps_mm,
            axial_axes=_axial_axes(nodule),
        ),
        confidence=min(1.0, max(0.0, nodule.probability)),
        description=_describe(nodule),
    )


def _study(result: NoduleResult, lungrads: LungRadsResult, source: SeriesRef) -> Finding:
    masses = sum(n.is_mass for n in result.nodules)
    count = len(result.nodules) - masses
    return Finding(
        finding_type=codes.NODULE,
        algorithm_name=ALGORITHM,
        algorithm_version=vesalius.__version__,
        source=source,
        categories=(Category("Lung-RADS", lungrads.label, lungrads.management),),
        location=Location(codes.LUNG),
        description=(
            f"Lung nodules: {count} nodule(s), {masses} mass(es); Lung-RADS v2022 "
            f"{lungrads.label} at baseline ({lungrads.management})"
        ),
    )


def slice_limitation(result: NoduleResult, *, source: SeriesRef) -> tuple[Finding, ...]:
    """A technique limitation when the nodules were searched on slices too thick for
    Lung-RADS (:func:`~vesalius.analyze.chest_ct.lungrads.thick_slice_caveat`); else none.

    >>> import numpy as np
    >>> from vesalius.core import Volume
    >>> empty, source = Volume.from_spacing(np.zeros((2, 2, 2), np.uint16)), SeriesRef("1", "2")
    >>> (limit,) = slice_limitation(NoduleResult((), empty, 0, 0.0, 5.0), source=source)
    >>> limit.finding_type.meaning
    'Technique limitation'
    >>> print(limit.description)
    Slices 5.0 mm apart, thicker than the 2.5 mm Lung-RADS assumes: small nodules may be missed
    >>> slice_limitation(NoduleResult((), empty, 0, 0.0, 1.25), source=source)
    ()
    """
    caveat = thick_slice_caveat(result.slice_spacing_mm)
    if caveat is None:
        return ()
    limitation = Finding(
        finding_type=codes.TECHNIQUE_LIMITATION,
        algorithm_name=ALGORITHM,
        algorithm_version=vesalius.__version__,
        source=source,
        description=caveat,
    )
    return (limitation,)


def nodule_findings(result: NoduleResult, *, source: SeriesRef) -> tuple[Finding, ...]:
    """The study-level finding with the Lung-RADS category, then one finding per nodule.

    Parameters
    ----------
    result
        The nodules found on the CT.
    source
        The CT series.
    """
    lungrads = lungrads_category([lungrads_nodule(n) for n in result.nodules])
    return (_study(result, lungrads, source), *(_nodule(n, source) for n in result.nodules))
