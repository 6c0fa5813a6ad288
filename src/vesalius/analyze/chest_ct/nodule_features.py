"""Features of nodule candidates, for the false-positive reduction step.

Each candidate (a label of :func:`~vesalius.analyze.chest_ct.nodule_candidates.candidate_labels`)
gets a few shape and density numbers, all in millimetres or HU so that they do not depend
on the voxel size, computed for all candidates at once with ``scipy.ndimage`` label
statistics:

``log_volume``
    Natural log of the candidate's volume in mm³.
``thickness``
    Largest distance (mm) from inside the candidate to its outside: the radius of the
    largest ball it holds. A sphere's equals its radius, a vessel's its (small) radius.
``thickness_ratio``
    ``thickness`` over the radius of the sphere of the same volume: about 1 for a
    ball, small for long tubes and sheets.
``elongation``
    ``sqrt(l1 / l2)`` of the two largest eigenvalues of the coordinate covariance (each
    axis corrected by ``spacing**2 / 12``): about 1 for a ball, large for a vessel.
``flatness``
    ``sqrt(l2 / l3)``: large for plates (fissures, atelectasis bands).
``mean_hu``
    Mean HU of the candidate's voxels.
``contrast_hu``
    ``mean_hu`` minus the median HU of a shell of :data:`SHELL_MM` around it (the local
    background, aerated lung for a nodule).
``dense_shell``
    Fraction of that shell that is dense (above :data:`DENSE_HU`): low for a nodule in
    aerated lung, higher where vessels branch or meet (several tubes leave the shell).
``attached``
    Volume of the dense voxels connected to the candidate (26-connectivity, before the
    opening) within :data:`ATTACHED_MM` of it, over the candidate's own volume: a vessel
    cut by the opening continues on both sides, a nodule in aerated lung does not.
``blobness``
    The strongest response inside the candidate of a multi-scale Hessian *dot* filter (Li,
    Sone and Doi, Med. Phys. 2003): where all three second derivatives of the image,
    smoothed at a scale of :data:`BLOB_SCALES_MM`, are negative (a bright blob), their
    smallest magnitude squared over the largest, scale-normalised (HU). High inside a
    nodule even where it touches a vessel; about 0 along a vessel (one derivative is
    about 0 along its axis) and on a plate.
``long_axis_mm``, ``short_axis_mm``, ``corrected_hu``
    The candidate's measured size and partial-volume corrected mean HU
    (:mod:`~vesalius.analyze.chest_ct.nodule_regions`); a vessel crossing thick slices
    comes out small and denser than soft tissue.

Examples
--------
>>> import numpy as np
>>> labels = np.zeros((5, 12, 12), np.int32)
>>> labels[1:4, 3:8, 3:8] = 1
>>> hu = np.where(labels > 0, 30.0, -850.0).astype(np.float32)
>>> f = candidate_features(labels, 1, hu, (1.0, 1.0, 1.0))
>>> round(float(f[0, SHAPE_FEATURES.index("contrast_hu")]))
880
>>> f.shape
(1, 10)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from vesalius.analyze.chest_ct.coarse import BoolArray, FloatArray, Spacing
from vesalius.analyze.chest_ct.nodule_candidates import DENSE_HU
from vesalius.analyze.chest_ct.nodule_measure import Size

SHAPE_FEATURES = (
    "log_volume",
    "thickness",
    "thickness_ratio",
    "elongation",
    "flatness",
    "mean_hu",
    "contrast_hu",
    "dense_shell",
    "attached",
    "blobness",
)
"""Names of the columns of :func:`candidate_features`, in order."""
SIZE_FEATURES = ("long_axis_mm", "short_axis_mm", "corrected_hu")
"""Names of the columns of :func:`size_features`, in order."""
FEATURES = SHAPE_FEATURES + SIZE_FEATURES
"""All the features the classifier sees."""
SHELL_MM = 4.0
"""Thickness of the background shell around a candidate."""
ATTACHED_MM = 8.0
"""How far from a candidate the dense voxels attached to it are counted."""


def _eigen(
    labels: npt.NDArray[np.int32], index: npt.NDArray[np.int64], spacing: Spacing
) -> npt.NDArray[np.float64]:
    """Sorted (descending) covariance eigenvalues (mm²) of each candidate's voxels."""
    shape = labels.shape
    axes = [np.arange(n, dtype=np.float64) * s for n, s in zip(shape, spacing, strict=True)]
    coords = np.meshgrid(*axes, indexing="ij", sparse=True)
    count = np.asarray(ndimage.sum_labels(np.ones(shape), labels, index), np.float64)
    count = np.maximum(count, 1.0)
    mean = [np.asarray(ndimage.sum_labels(c, labels, index)) / count for c in coords]
    cov = np.zeros((index.size, 3, 3))
    for a in range(3):
        for b in range(a, 3):
            prod = coords[a] * coords[b]
            cov[:, a, b] = cov[:, b, a] = (
                np.asarray(ndimage.sum_labels(prod, labels, index)) / count - mean[a] * mean[b]
            )
    cov[:, np.arange(3), np.arange(3)] += np.asarray(spacing) ** 2 / 12.0
    return np.sort(np.linalg.eigvalsh(cov), axis=1)[:, ::-1]


def _shell(
    labels: npt.NDArray[np.int32], index: npt.NDArray[np.int64], hu: FloatArray, spacing: Spacing
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Median HU and dense fraction of a shell of :data:`SHELL_MM` around each candidate.

    A candidate enclosed by others (the pieces of a vessel cut at its necks) may have no
    shell voxels of its own: its median is -1000 HU and its dense fraction 1.
    """
    size = [2 * max(1, round(SHELL_MM / s)) + 1 for s in spacing]
    shell = ndimage.grey_dilation(labels, size=size)
    shell[labels > 0] = 0
    count = np.asarray(ndimage.sum_labels(np.ones(shell.shape), shell, index), np.float64)
    medians = np.asarray(ndimage.median(hu, shell, index), np.float64)
    dense = np.asarray(ndimage.sum_labels(hu > DENSE_HU, shell, index), np.float64)
    empty = count == 0
    return np.where(empty, -1000.0, medians), np.where(empty, 1.0, dense / np.maximum(count, 1))


def _grown_boxes(
    labels: npt.NDArray[np.int32], margin_mm: float, spacing: Spacing
) -> Iterator[tuple[int, tuple[slice, ...]]]:
    """Each candidate's label and its bounding box grown by ``margin_mm`` (and a voxel)."""
    margin = [int(np.ceil(margin_mm / s)) + 1 for s in spacing]
    for value, obj in enumerate(ndimage.find_objects(labels), start=1):
        if obj is not None:
            yield (
                value,
                tuple(
                    slice(max(0, b.start - m), min(n, b.stop + m))
                    for b, m, n in zip(obj, margin, labels.shape, strict=True)
                ),
            )


def _attached(
    labels: npt.NDArray[np.int32],
    dense: BoolArray,
    spacing: Spacing,
    count: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Dense volume attached to each candidate within :data:`ATTACHED_MM`, over its volume."""
    out = np.zeros(count.size)
    full = np.ones((3, 3, 3), bool)
    for value, box in _grown_boxes(labels, ATTACHED_MM, spacing):
        own = labels[box] == value
        near = ndimage.distance_transform_edt(~own, sampling=spacing) <= ATTACHED_MM
        parts, _ = ndimage.label((near & dense[box]) | own, structure=full)
        touching = np.unique(parts[own])
        attached = np.isin(parts, touching[touching > 0]) & ~own
        out[value - 1] = float(attached.sum()) / max(float(count[value - 1]), 1.0)
    return out


BLOB_SCALES_MM = (1.5, 2.5, 3.5)
"""Gaussian scales (mm) of the dot filter: nodules of about 5 to 12 mm across."""


def _hessian(image: FloatArray, sigma_mm: float, spacing: Spacing) -> npt.NDArray[np.float64]:
    """Scale-normalised Hessian (HU, shape ``(*image.shape, 3, 3)``) at scale ``sigma_mm``."""
    step = np.asarray(spacing, np.float64)
    out = np.zeros((*image.shape, 3, 3))
    for a in range(3):
        for b in range(a, 3):
            order = [0, 0, 0]
            order[a] += 1
            order[b] += 1
            d = ndimage.gaussian_filter(image, sigma_mm / step, order=order)
            out[..., a, b] = out[..., b, a] = d * sigma_mm**2 / (step[a] * step[b])
    return out


def _dot(hessian: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Li's dot enhancement: ``|l_min|**2 / |l_max|`` where all eigenvalues are negative."""
    ev = np.linalg.eigvalsh(hessian)  # ascending: ev[..., 2] is the least negative
    return np.where(ev[..., 2] < 0, ev[..., 2] ** 2 / np.maximum(-ev[..., 0], 1e-6), 0.0)


def _blobness(
    labels: npt.NDArray[np.int32], hu: FloatArray, spacing: Spacing, count: int
) -> npt.NDArray[np.float64]:
    """Strongest dot-filter response (over :data:`BLOB_SCALES_MM`) inside each candidate.

    Computed on each candidate's box grown by three of the largest scale, not the whole grid.
    """
    out = np.zeros(count)
    for value, box in _grown_boxes(labels, 3.0 * max(BLOB_SCALES_MM), spacing):
        own = labels[box] == value
        image = np.asarray(hu[box], np.float32)
        out[value - 1] = max(
            float(_dot(_hessian(image, s, spacing)[own]).max()) for s in BLOB_SCALES_MM
        )
    return out


def candidate_features(
    labels: npt.NDArray[np.int32],
    n: int,
    hu: FloatArray,
    spacing: Spacing,
    dense: BoolArray | None = None,
) -> npt.NDArray[np.float64]:
    """An ``(n, len(SHAPE_FEATURES))`` array: one row per candidate label ``1..n``.

    ``dense`` is the dense mask the candidates were opened from (default: ``hu`` above
    :data:`DENSE_HU`).
    """
    if n == 0:
        return np.zeros((0, len(SHAPE_FEATURES)))
    index = np.arange(1, n + 1)
    voxel_mm3 = float(np.prod(spacing))
    count = np.asarray(ndimage.sum_labels(np.ones(labels.shape), labels, index), np.float64)
    volume = np.maximum(count, 1.0) * voxel_mm3
    dist = ndimage.distance_transform_edt(labels > 0, sampling=spacing)
    thickness = np.asarray(ndimage.maximum(dist, labels, index), np.float64)
    eq_radius = (3.0 * volume / (4.0 * np.pi)) ** (1.0 / 3.0)
    eig = np.maximum(_eigen(labels, index, spacing), 1e-6)
    mean_hu = np.asarray(ndimage.mean(hu, labels, index), np.float64)
    background, dense_shell = _shell(labels, index, hu, spacing)
    return np.column_stack(
        [
            np.log(volume),
            thickness,
            thickness / eq_radius,
            np.sqrt(eig[:, 0] / eig[:, 1]),
            np.sqrt(eig[:, 1] / eig[:, 2]),
            mean_hu,
            mean_hu - background,
            dense_shell,
            _attached(labels, hu > DENSE_HU if dense is None else dense, spacing, count),
            _blobness(labels, hu, spacing, n),
        ]
    )


def size_features(sizes: Sequence[Size]) -> npt.NDArray[np.float64]:
    """An ``(n, len(SIZE_FEATURES))`` array from the candidates' measured sizes."""
    rows = [(s.long_axis_mm, s.short_axis_mm, s.mean_hu) for s in sizes]
    return np.asarray(rows, np.float64).reshape(len(rows), len(SIZE_FEATURES))
