"""Where things are in the chest CT phantom: fixed anatomy and seeded placements.

All positions are LPS millimetres ``(x, y, z)`` with the origin at the centre of the field
of view: x towards the patient's left, y posterior, z superior. The anatomy is fixed; the
seed moves nodules, emphysema, calcifications and the vessel trees.

Examples
--------
>>> import numpy as np
>>> layout = chest_layout(np.random.default_rng(0))
>>> [n.kind for n in layout.nodules]
['solid', 'part-solid', 'ground-glass', 'solid']
>>> layout == chest_layout(np.random.default_rng(0))
True
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

Point = tuple[float, float, float]

HU = {
    "air": -1000.0,
    "fat": -100.0,
    "soft_tissue": 40.0,
    "lung": -850.0,
    "emphysema": -975.0,
    "vessel": 40.0,
    "bone": 700.0,
    "sternum": 400.0,
    "disc": 80.0,
    "solid_nodule": 30.0,
    "ground_glass": -600.0,
    "table_shell": 150.0,
    "table_core": -900.0,
    "canal": 20.0,
}
"""HU of each tissue of the chest CT phantom."""

BODY_SEMI = (160.0, 110.0)
FAT_MM = 12.0
LUNG_CENTRES = {"left": (70.0, 10.0, 10.0), "right": (-70.0, 10.0, 10.0)}
LUNG_SEMI = {"left": (50.0, 68.0, 115.0), "right": (55.0, 70.0, 120.0)}
HEART_CENTRE, HEART_SEMI = (25.0, -25.0, -60.0), (60.0, 50.0, 50.0)
EPICARDIAL_FAT_MM = 5.0
AORTA = (
    ((10.0, -20.0, -30.0), (10.0, -20.0, 70.0), 14.0),
    ((10.0, -20.0, 70.0), (30.0, 12.0, 88.0), 13.0),
    ((30.0, 12.0, 88.0), (28.0, 45.0, 70.0), 12.0),
    ((28.0, 45.0, 70.0), (28.0, 45.0, -170.0), 11.0),
)
AIRWAYS = (
    ((0.0, 20.0, 170.0), (0.0, 25.0, 60.0), 10.0, 8.0),
    ((0.0, 25.0, 60.0), (-50.0, 18.0, 32.0), 7.0, 5.5),
    ((0.0, 25.0, 60.0), (45.0, 18.0, 28.0), 6.5, 5.0),
)
"""Airway segments: start, end, outer radius (wall), lumen radius."""
HILA = {"right": (-50.0, 18.0, 32.0), "left": (45.0, 18.0, 28.0)}
SPINE_BODY, SPINE_ARCH, SPINE_CANAL = ((0.0, 70.0), 18.0), ((0.0, 95.0), 13.0), ((0.0, 95.0), 8.0)
DISC_PERIOD_MM, DISC_HALF_MM = 30.0, 3.0
RIB_BAND, RIB_TOP_Z, RIB_STEP, RIB_DROP, RIB_HALF, N_RIBS = (0.80, 0.87), 120.0, 22.0, 30.0, 5.0, 12
STERNUM = ((-12.0, -98.0, -40.0), (12.0, -88.0, 110.0))
TABLE_Y, TABLE_SHELL_MM, TABLE_HALF_WIDTH = (118.0, 136.0), 3.0, 200.0
CORONARY_RADIUS = 1.8
CORONARY_PATHS = {
    "LAD": ((-70.0, 40.0), (-70.0, -35.0)),
    "LCX": ((-30.0, 25.0), (40.0, 25.0)),
    "RCA": ((-120.0, 20.0), (-185.0, 15.0)),
}
"""Coronary paths as (azimuth, elevation) in degrees on the heart surface, start and end."""


@dataclass(frozen=True)
class NoduleSpec:
    """A nodule to draw: ellipsoid semi-axes (x, y, z) and solid core diameter."""

    kind: str
    side: str
    centre: Point
    semi_axes: Point
    core_diameter_mm: float


@dataclass(frozen=True)
class BlobSpec:
    """An ellipsoid region (emphysema, calcification) with a tag and HU."""

    tag: str
    centre: Point
    semi_axes: Point
    hu: float


@dataclass(frozen=True)
class Segment:
    """A tube from ``start`` to ``end`` of ``radius`` mm."""

    start: Point
    end: Point
    radius: float


@dataclass(frozen=True)
class ChestLayout:
    """Seeded placements of the chest phantom."""

    nodules: tuple[NoduleSpec, ...]
    emphysema: tuple[BlobSpec, ...]
    coronary_calcium: tuple[BlobSpec, ...]
    aortic_calcium: tuple[BlobSpec, ...]
    vessels: tuple[Segment, ...]
    coronaries: tuple[Segment, ...]


def _pt(v: np.ndarray) -> Point:
    return (float(v[0]), float(v[1]), float(v[2]))


def heart_surface_point(azimuth_deg: float, elevation_deg: float, offset_mm: float) -> Point:
    """A point ``offset_mm`` outside the heart ellipsoid at the given angles."""
    az, el = np.radians(azimuth_deg), np.radians(elevation_deg)
    u = np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
    return _pt(np.asarray(HEART_CENTRE) + (np.asarray(HEART_SEMI) + offset_mm) * u)


def _path_point(name: str, t: float) -> Point:
    (a0, e0), (a1, e1) = CORONARY_PATHS[name]
    return heart_surface_point(a0 + t * (a1 - a0), e0 + t * (e1 - e0), 2.5)


def coronary_segments() -> tuple[Segment, ...]:
    """The coronary artery tubes (LAD, LCX, RCA) as capsule chains."""
    segs = []
    for name in CORONARY_PATHS:
        pts = [_path_point(name, t) for t in np.linspace(0.0, 1.0, 8)]
        segs += [Segment(a, b, CORONARY_RADIUS) for a, b in itertools.pairwise(pts)]
    return tuple(segs)


def _coronary_calcium(rng: np.random.Generator) -> tuple[BlobSpec, ...]:
    sites = (("LAD", 0.2), ("LAD", 0.65), ("LCX", 0.5), ("RCA", 0.5))
    peaks = rng.permutation([180.0, 260.0, 360.0, 650.0])
    out = []
    for (name, t), peak in zip(sites, peaks, strict=True):
        r = float(rng.uniform(2.0, 3.2))
        centre = _path_point(name, t + float(rng.uniform(-0.05, 0.05)))
        out.append(BlobSpec(name, centre, (r, r, r * float(rng.uniform(1.0, 1.6))), float(peak)))
    return tuple(out)


def _aortic_calcium(rng: np.random.Generator) -> tuple[BlobSpec, ...]:
    (cx, cy, _), _, radius = AORTA[3]
    out = []
    for z in (-40.0, -100.0):
        phi = np.radians(rng.uniform(-150.0, -30.0))  # anterior half, away from the spine
        centre = (cx + (radius - 1.0) * np.cos(phi), cy + (radius - 1.0) * np.sin(phi), z)
        semi = float(rng.uniform(2.0, 3.0))
        out.append(
            BlobSpec(
                "aorta",
                _pt(np.asarray(centre)),
                (semi, semi, semi * 1.5),
                float(rng.uniform(450.0, 900.0)),
            )
        )
    return tuple(out)


def _emphysema(rng: np.random.Generator) -> tuple[BlobSpec, ...]:
    out = []
    for side in ("right", "left"):
        c, s = np.asarray(LUNG_CENTRES[side]), np.asarray(LUNG_SEMI[side])
        for up in (0.45, 0.15):
            offset = s * np.array([rng.uniform(-0.25, 0.25), rng.uniform(-0.2, 0.2), up])
            semi = rng.uniform(10.0, 20.0, size=3)
            out.append(BlobSpec(side, _pt(c + offset), _pt(semi), HU["emphysema"]))
    return tuple(out)


NODULE_KINDS = (
    ("solid", (3.0, 3.0, 3.0), 6.0),
    ("part-solid", (7.0, 6.0, 6.5), 6.0),
    ("ground-glass", (5.0, 5.0, 5.0), 0.0),
    ("solid", (5.5, 3.5, 4.5), 9.0),
)


def _far_enough(p: np.ndarray, taken: list[tuple[np.ndarray, float]], radius: float) -> bool:
    return all(np.linalg.norm(p - q) > radius + r + 8.0 for q, r in taken)


def _in_safe_lung(p: np.ndarray, side: str) -> bool:
    c, s = np.asarray(LUNG_CENTRES[side]), np.asarray(LUNG_SEMI[side])
    heart = np.sum(((p - HEART_CENTRE) / (np.asarray(HEART_SEMI) + 20.0)) ** 2) > 1.0
    medial = abs(p[0]) > 40.0 and p[1] < 60.0
    return bool(np.sum(((p - c) / s) ** 2) < 0.55 and heart and medial)


def _nodules(rng: np.random.Generator, emphysema: tuple[BlobSpec, ...]) -> tuple[NoduleSpec, ...]:
    taken = [(np.asarray(b.centre), max(b.semi_axes)) for b in emphysema]
    out = []
    for n, (kind, semi, core) in enumerate(NODULE_KINDS):
        side = ("right", "left")[n % 2]
        c, s = np.asarray(LUNG_CENTRES[side]), np.asarray(LUNG_SEMI[side])
        for _ in range(10_000):
            p = c + s * rng.uniform(-0.75, 0.75, size=3)
            if _in_safe_lung(p, side) and _far_enough(p, taken, max(semi)):
                break
        else:  # pragma: no cover - the lungs are large enough for a handful of nodules
            raise RuntimeError("could not place a nodule")
        taken.append((p, max(semi)))
        out.append(NoduleSpec(kind, side, _pt(p), semi, core))
    return tuple(out)


def _rotate(v: np.ndarray, axis: np.ndarray, angle: float) -> np.ndarray:
    axis = axis / np.linalg.norm(axis)
    return np.asarray(
        v * np.cos(angle)
        + np.cross(axis, v) * np.sin(angle)
        + axis * (axis @ v) * (1 - np.cos(angle))
    )


def _branch(
    rng: np.random.Generator,
    start: np.ndarray,
    direction: np.ndarray,
    depth: int,
    out: list[Segment],
) -> None:
    length, radius = 38.0 * 0.74**depth, 4.5 * 0.7**depth
    end = start + direction * length
    out.append(Segment(_pt(start), _pt(end), float(radius)))
    if depth >= 5:
        return
    perp = np.cross(direction, rng.normal(size=3))
    for sign in (1.0, -1.0):
        angle = sign * np.radians(rng.uniform(22.0, 35.0))
        _branch(rng, end, _rotate(direction, perp, angle), depth + 1, out)


def _vessels(rng: np.random.Generator) -> tuple[Segment, ...]:
    out: list[Segment] = []
    for side, lateral in (("right", -1.0), ("left", 1.0)):
        for d in ((0.2, 0.2, 1.0), (lateral, 0.15, -0.2), (0.3 * lateral, 0.25, -1.0)):
            vec = np.asarray(d) / np.linalg.norm(d)
            _branch(rng, np.asarray(HILA[side]), vec, 0, out)
    return tuple(out)


HIDDEN_FRACTION = 0.5
"""A solid nodule with more than this fraction of its volume inside the vessels is not drawn."""


def _unit_ball_points(n: int = 13) -> np.ndarray:
    """Points of a regular ``n``-cube lattice inside the unit ball (no random draw)."""
    axis = (np.arange(n) + 0.5) / n * 2.0 - 1.0
    pts = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 3)
    return np.asarray(pts[(pts**2).sum(axis=1) <= 1.0])


def inside_vessels_fraction(nodule: NoduleSpec, vessels: tuple[Segment, ...]) -> float:
    """Fraction of the nodule's ellipsoid that lies inside the vessel tubes.

    Examples
    --------
    >>> vessel = Segment((0.0, 0.0, -50.0), (0.0, 0.0, 50.0), 4.5)
    >>> inside = NoduleSpec("solid", "left", (1.0, 0.0, 0.0), (3.0, 3.0, 3.0), 6.0)
    >>> beside = NoduleSpec("solid", "left", (8.0, 0.0, 0.0), (3.0, 3.0, 3.0), 6.0)
    >>> [round(inside_vessels_fraction(n, (vessel,)), 2) for n in (inside, beside)]
    [1.0, 0.0]
    """
    pts = np.asarray(nodule.centre) + _unit_ball_points() * np.asarray(nodule.semi_axes)
    inside = np.zeros(len(pts), bool)
    for seg in vessels:
        a, b = np.asarray(seg.start), np.asarray(seg.end)
        ab = b - a
        t = np.clip((pts - a) @ ab / max(float(ab @ ab), 1e-12), 0.0, 1.0)
        inside |= np.linalg.norm(pts - (a + t[:, None] * ab), axis=1) <= seg.radius
    return float(inside.mean())


def visible(nodule: NoduleSpec, vessels: tuple[Segment, ...]) -> bool:
    """Whether a nodule shows as a nodule and not as part of a vessel.

    A solid nodule (30 HU) is as dense as the vessels (40 HU): where more than
    :data:`HIDDEN_FRACTION` of it lies inside the vessel tubes, the image shows a vessel
    slightly widened, which no reader would report. Such nodules are not drawn and are not
    in the truth. Nodules touching a vessel from outside (juxtavascular) are drawn: they
    are common and reported. Ground-glass and part-solid nodules differ from the vessels
    and are always drawn.
    """
    return nodule.kind != "solid" or inside_vessels_fraction(nodule, vessels) <= HIDDEN_FRACTION


def chest_layout(rng: np.random.Generator) -> ChestLayout:
    """Place the seeded parts of the chest phantom.

    Nodules that would not be visible (see :func:`visible`) are left out after placing
    everything, so the other placements of a seed do not move.
    """
    emphysema = _emphysema(rng)
    nodules = _nodules(rng, emphysema)
    coronary_calcium = _coronary_calcium(rng)
    aortic_calcium = _aortic_calcium(rng)
    vessels = _vessels(rng)
    return ChestLayout(
        nodules=tuple(n for n in nodules if visible(n, vessels)),
        emphysema=emphysema,
        coronary_calcium=coronary_calcium,
        aortic_calcium=aortic_calcium,
        vessels=vessels,
        coronaries=coronary_segments(),
    )
