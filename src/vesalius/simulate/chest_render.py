"""Drawing the chest CT phantom's anatomy into an HU image and an anatomy label map.

The body, table and spinal column do not change along z, so they are drawn once on a 2-D
slice and broadcast; organs are drawn in their bounding boxes; ribs are evaluated on the
few in-plane pixels of the rib band for all slices at once. No loop runs over voxels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from vesalius.simulate import chest_layout as L  # noqa: N812
from vesalius.simulate.render import Axes, Box, box_fraction, capsule_fraction, composite, ellipsoid

ANATOMY_LABELS = {
    1: "lung_left",
    2: "lung_right",
    3: "airway",
    4: "heart",
    5: "aorta",
    6: "bone",
    7: "soft_tissue",
    8: "fat",
    9: "table",
}
"""Values of the chest anatomy label map (0 is air outside the body)."""
LUNG_LABEL = {"left": 1, "right": 2}
AIRWAY, HEART, AORTA, BONE, SOFT, FAT, TABLE = 3, 4, 5, 6, 7, 8, 9


@dataclass(frozen=True, eq=False)
class Canvas:
    """The image being drawn (float32 HU) and its anatomy labels, on ``axes``."""

    axes: Axes
    image: npt.NDArray[np.float32]
    anatomy: npt.NDArray[np.uint8]

    @classmethod
    def empty(cls, axes: Axes) -> Canvas:
        """An all-air canvas."""
        return cls(
            axes, np.full(axes.shape, L.HU["air"], np.float32), np.zeros(axes.shape, np.uint8)
        )

    def paint(
        self,
        box: Box,
        frac: npt.NDArray[np.float64],
        hu: float,
        label: int,
        where: npt.NDArray[np.bool_] | None = None,
    ) -> None:
        """Blend ``hu`` by ``frac`` and set ``label`` where ``frac >= 0.5``."""
        if box.empty:
            return
        composite(self.image, box, frac, hu, where)
        hard = frac >= 0.5 if where is None else (frac >= 0.5) & where
        self.anatomy[box.slices][hard] = label


def _base_slice(axes: Axes) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.uint8]]:
    y, x = axes.y[:, None], axes.x[None, :]
    img = np.full((y.size, x.size), L.HU["air"], np.float32)
    lab = np.zeros((y.size, x.size), np.uint8)
    table = (y >= L.TABLE_Y[0]) & (y <= L.TABLE_Y[1]) & (np.abs(x) <= L.TABLE_HALF_WIDTH)
    shell = table & ((y < L.TABLE_Y[0] + L.TABLE_SHELL_MM) | (y > L.TABLE_Y[1] - L.TABLE_SHELL_MM))
    img[table], lab[table] = L.HU["table_core"], TABLE
    img[shell] = L.HU["table_shell"]
    ax, ay = L.BODY_SEMI
    body = (x / ax) ** 2 + (y / ay) ** 2 <= 1.0
    inner = (x / (ax - L.FAT_MM)) ** 2 + (y / (ay - L.FAT_MM)) ** 2 <= 1.0
    img[body], lab[body] = L.HU["fat"], FAT
    img[inner], lab[inner] = L.HU["soft_tissue"], SOFT
    for (cx, cy), r, hu, label in (
        (L.SPINE_BODY[0], L.SPINE_BODY[1], L.HU["bone"], BONE),
        (L.SPINE_ARCH[0], L.SPINE_ARCH[1], L.HU["bone"], BONE),
        (L.SPINE_CANAL[0], L.SPINE_CANAL[1], L.HU["canal"], SOFT),
    ):
        disc = (x - cx) ** 2 + (y - cy) ** 2 <= r * r
        img[disc], lab[disc] = hu, label
    return img, lab


def _draw_discs(canvas: Canvas) -> None:
    (cx, cy), r = L.SPINE_BODY
    z = canvas.axes.z
    for zc in (
        np.arange(np.floor(z.min() / L.DISC_PERIOD_MM), np.ceil(z.max() / L.DISC_PERIOD_MM) + 1)
        * L.DISC_PERIOD_MM
    ):

        def inside(
            zz: npt.NDArray[np.float64],
            yy: npt.NDArray[np.float64],
            xx: npt.NDArray[np.float64],
            zc: float = float(zc),
        ) -> npt.NDArray[np.bool_]:
            return np.asarray(
                ((xx - cx) ** 2 + (yy - cy) ** 2 <= (r - 1.0) ** 2)
                & (np.abs(zz - zc) <= L.DISC_HALF_MM)
            )

        box = Box.around(canvas.axes, (cx, cy, zc), (r, r, L.DISC_HALF_MM))
        if not box.empty:
            canvas.paint(*box_fraction(canvas.axes, box, inside, samples=2), L.HU["disc"], SOFT)


def _draw_lungs(canvas: Canvas) -> None:
    for side, label in LUNG_LABEL.items():
        centre, semi = L.LUNG_CENTRES[side], L.LUNG_SEMI[side]
        box = Box.around(canvas.axes, centre, semi)
        if box.empty:
            continue
        inside = ellipsoid(centre, semi)(*canvas.axes.mesh(box))
        inside &= canvas.anatomy[box.slices] == SOFT
        canvas.image[box.slices][inside] = L.HU["lung"]
        canvas.anatomy[box.slices][inside] = label


def _draw_mediastinum(canvas: Canvas) -> None:
    axes = canvas.axes
    fat_semi = tuple(s + L.EPICARDIAL_FAT_MM for s in L.HEART_SEMI)
    for semi, hu, label in (
        (fat_semi, L.HU["fat"], FAT),
        (L.HEART_SEMI, L.HU["soft_tissue"], HEART),
    ):
        box = Box.around(axes, L.HEART_CENTRE, semi)
        canvas.paint(
            *box_fraction(axes, box, ellipsoid(L.HEART_CENTRE, semi), samples=2), hu, label
        )
    for start, end, radius in L.AORTA:
        canvas.paint(*capsule_fraction(axes, start, end, radius), L.HU["soft_tissue"], AORTA)
    for seg in L.coronary_segments():
        box, frac = capsule_fraction(axes, seg.start, seg.end, seg.radius)
        if not box.empty:
            where = np.isin(canvas.anatomy[box.slices], (FAT, SOFT, HEART))
            composite(canvas.image, box, frac, L.HU["soft_tissue"], where)
    for start, end, outer, _ in L.AIRWAYS:
        canvas.paint(*capsule_fraction(axes, start, end, outer), L.HU["soft_tissue"], AIRWAY)
    for start, end, _, lumen in L.AIRWAYS:
        canvas.paint(*capsule_fraction(axes, start, end, lumen), L.HU["air"], AIRWAY)


def _draw_ribs(canvas: Canvas) -> None:
    axes = canvas.axes
    ax, ay = L.BODY_SEMI
    y, x = np.broadcast_arrays(axes.y[:, None], axes.x[None, :])
    rho = np.sqrt((x / ax) ** 2 + (y / ay) ** 2)
    theta = np.arctan2(y / ay, x / ax)
    anterior = np.abs(theta + np.pi / 2) < np.radians(25.0)
    band = (rho >= L.RIB_BAND[0]) & (rho <= L.RIB_BAND[1]) & ~anterior
    jj, ii = np.nonzero(band)
    drop = L.RIB_DROP * (1.0 - np.sin(theta[jj, ii])) / 2.0
    v = (L.RIB_TOP_Z - axes.z[:, None] - drop[None, :]) / L.RIB_STEP
    k = np.rint(v)
    rib = (k >= 0) & (k < L.N_RIBS) & (np.abs(v - k) * L.RIB_STEP <= L.RIB_HALF)
    kk, nn = np.nonzero(rib)
    canvas.image[kk, jj[nn], ii[nn]] = L.HU["bone"]
    canvas.anatomy[kk, jj[nn], ii[nn]] = BONE
    (x0, y0, z0), (x1, y1, z1) = L.STERNUM
    box = Box.spanning(axes, np.array([x0, y0, z0]), np.array([x1, y1, z1]))
    if not box.empty:
        z, yy, xx = axes.mesh(box)
        inside = (z >= z0) & (z <= z1) & (yy >= y0) & (yy <= y1) & (xx >= x0) & (xx <= x1)
        canvas.image[box.slices][inside] = L.HU["sternum"]
        canvas.anatomy[box.slices][inside] = BONE


def draw_anatomy(axes: Axes) -> Canvas:
    """Body, table, lungs, heart, aorta, airways, spine and ribs, noise-free."""
    canvas = Canvas.empty(axes)
    img2d, lab2d = _base_slice(axes)
    canvas.image[:] = img2d
    canvas.anatomy[:] = lab2d
    _draw_discs(canvas)
    _draw_lungs(canvas)
    _draw_mediastinum(canvas)
    _draw_ribs(canvas)
    return canvas


def draw_vessels(canvas: Canvas, layout: L.ChestLayout) -> None:
    """Pulmonary vessel trees, drawn inside the lungs only."""
    for seg in layout.vessels:
        box, frac = capsule_fraction(canvas.axes, seg.start, seg.end, seg.radius)
        if not box.empty:
            lung = canvas.anatomy[box.slices]
            composite(canvas.image, box, frac, L.HU["vessel"], (lung == 1) | (lung == 2))
