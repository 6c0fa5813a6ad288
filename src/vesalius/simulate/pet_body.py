"""The whole-body anatomy shared by the CT and the PET of the PET/CT phantom.

:func:`body_tissue` evaluates the tissue label at any LPS points (broadcast arrays), so the
same body can be sampled on the CT grid and, moved by the known misregistration, on the
PET grid.

Examples
--------
>>> import numpy as np
>>> body_tissue(np.array([0.0, 0.0]), np.array([0.0, -30.0]), np.array([260.0, -270.0])).tolist()
[3, 7]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

TISSUES = {
    1: "soft_tissue",
    2: "lung",
    3: "brain",
    4: "myocardium",
    5: "blood_pool",
    6: "liver",
    7: "bladder",
    8: "bone",
}
"""Tissue label values (0 is air)."""
TISSUE_HU = {0: -1000.0, 1: 40.0, 2: -850.0, 3: 35.0, 4: 45.0, 5: 40.0, 6: 60.0, 7: 5.0, 8: 700.0}
TISSUE_SUV = {0: 0.0, 1: 0.8, 2: 0.3, 3: 7.0, 4: 4.0, 5: 1.6, 6: 2.0, 7: 25.0, 8: 0.9}
"""Physiological uptake (SUVbw) of each tissue: brain, myocardium and bladder are hot."""
LESION_HU = 35.0

Array = npt.NDArray[np.floating]


@dataclass(frozen=True)
class LesionSpec:
    """A spherical FDG-avid lesion, centre in CT LPS mm."""

    site: str
    centre: tuple[float, float, float]
    radius_mm: float
    suvmax: float


LESION_SITES = (
    ("lung", (-80.0, 10.0, 90.0), 10.0, 8.0),
    ("liver", (-80.0, 10.0, -100.0), 12.0, 9.0),
    ("mediastinal_node", (35.0, 40.0, 110.0), 7.0, 5.0),
)


def lesions(rng: np.random.Generator) -> tuple[LesionSpec, ...]:
    """The seeded lesions: fixed sites, jittered centres (±4 mm) and SUVmax (±10 %)."""
    out = []
    for site, centre, radius, suv in LESION_SITES:
        c = np.asarray(centre) + rng.uniform(-4.0, 4.0, size=3)
        out.append(
            LesionSpec(
                site,
                (float(c[0]), float(c[1]), float(c[2])),
                radius,
                round(float(suv * rng.uniform(0.9, 1.1)), 3),
            )
        )
    return tuple(out)


def _ellipsoid(
    x: Array, y: Array, z: Array, c: tuple[float, float, float], s: tuple[float, float, float]
) -> npt.NDArray[np.bool_]:
    return np.asarray(
        ((x - c[0]) / s[0]) ** 2 + ((y - c[1]) / s[1]) ** 2 + ((z - c[2]) / s[2]) ** 2 <= 1.0
    )


def body_tissue(x: Array, y: Array, z: Array) -> npt.NDArray[np.uint8]:
    """Tissue label at LPS points ``(x, y, z)`` (broadcastable arrays, mm)."""
    shape = np.broadcast_shapes(np.shape(x), np.shape(y), np.shape(z))
    out = np.zeros(shape, np.uint8)
    torso = ((x / 160.0) ** 2 + (y / 110.0) ** 2 <= 1.0) & (z >= -320.0) & (z <= 150.0)
    neck = ((x / 50.0) ** 2 + (y / 45.0) ** 2 <= 1.0) & (z > 140.0) & (z <= 190.0)
    out[torso | neck | _ellipsoid(x, y, z, (0, 0, 260), (75, 92, 95))] = 1
    out[_ellipsoid(x, y, z, (0, 0, 260), (68, 85, 88))] = 8
    out[_ellipsoid(x, y, z, (0, 0, 260), (62, 78, 80))] = 3
    for cx in (-70.0, 70.0):
        out[_ellipsoid(x, y, z, (cx, 10, 60), (55, 70, 110)) & (out == 1)] = 2
    out[_ellipsoid(x, y, z, (-65, 0, -90), (85, 75, 55))] = 6
    out[_ellipsoid(x, y, z, (25, -25, -10), (55, 45, 45))] = 4
    out[_ellipsoid(x, y, z, (25, -25, -10), (45, 35, 35))] = 5
    out[_ellipsoid(x, y, z, (0, -30, -270), (35, 35, 35))] = 7
    spine = ((x / 15.0) ** 2 + ((y - 70.0) / 15.0) ** 2 <= 1.0) & (z >= -320.0) & (z <= 150.0)
    out[spine] = 8
    return out


def rigid_matrix(
    translation_mm: tuple[float, float, float], rotation_deg: tuple[float, float, float]
) -> npt.NDArray[np.float64]:
    """4x4 matrix rotating about x, then y, then z (degrees) and then translating (mm).

    Examples
    --------
    >>> rigid_matrix((1.0, 2.0, 3.0), (0.0, 0.0, 0.0))[:3, 3].tolist()
    [1.0, 2.0, 3.0]
    """
    ax, ay, az = np.radians(rotation_deg)
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    out = np.eye(4)
    out[:3, :3] = rz @ ry @ rx
    out[:3, 3] = translation_mm
    return out
