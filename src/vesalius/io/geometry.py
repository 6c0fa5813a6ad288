"""Turn the frames of a series into an ordered stack with one affine, reporting what is odd.

:func:`plan_stack` needs headers only (no pixels). It keeps the frames that share the most
common size, orientation and pixel spacing (reporting the others), sorts them by position
along the slice normal (``row direction x column direction`` of Image Orientation Patient,
dotted with Image Position Patient), drops duplicate positions (keeping the first found), and
reports missing slices, irregular spacing and gantry tilt.

When frames have no position or orientation at all (a 2-D radiograph, a de-identified
multi-frame), the stack gets a **default geometry** (axial, origin 0, pixel spacing from the
header or 1 mm, slice spacing from Spacing Between Slices / Slice Thickness or 1 mm) and a
``no_geometry`` problem, rather than an error.

Examples
--------
>>> f = [FrameInfo(0, (0.0, 0.0, z), (1, 0, 0, 0, 1, 0), (0.5, 0.5)) for z in (3.0, 0.0, 6.0)]
>>> plan = plan_stack([StackFrame(i, fr, 4, 4, i + 1) for i, fr in enumerate(f)])
>>> [fr.source for fr in plan.frames], plan.spacing, plan.problems
([1, 0, 2], (3.0, 0.5, 0.5), ())
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from vesalius.io.headers import FrameInfo
from vesalius.io.problems import Problem, ProblemCode

FloatArray = npt.NDArray[np.float64]
_RELATIVE_GAP_TOL = 0.01
_ABS_GAP_TOL_MM = 1e-3
_TILT_TOL = 1e-3


@dataclass(frozen=True)
class StackFrame:
    """One frame offered to the stack: ``source`` says where its pixels are (caller's key)."""

    source: int
    info: FrameInfo
    rows: int
    columns: int
    instance_number: int | None = None


@dataclass(frozen=True, eq=False)
class StackPlan:
    """Frames in slice order, the volume's affine and what was odd.

    ``positions`` are the frames' distances along the slice normal in mm (``None`` with a
    default geometry); ``spacing`` is ``(z, y, x)``.
    """

    frames: tuple[StackFrame, ...]
    affine: FloatArray
    positions: FloatArray | None
    problems: tuple[Problem, ...]
    irregular: bool

    @property
    def shape(self) -> tuple[int, int, int]:
        """Shape ``(z, y, x)`` of the stacked volume."""
        return (len(self.frames), self.frames[0].rows, self.frames[0].columns)

    @property
    def spacing(self) -> tuple[float, float, float]:
        """Voxel size ``(z, y, x)`` in mm."""
        norms = np.linalg.norm(self.affine[:3, :3], axis=0)
        return (float(norms[0]), float(norms[1]), float(norms[2]))

    @property
    def orientation(self) -> tuple[float, ...] | None:
        """Image Orientation (Patient) shared by the frames, or ``None`` without geometry."""
        return None if self.positions is None else self.frames[0].info.orientation


def plan_stack(
    frames: Sequence[StackFrame], *, slice_spacing_hint: float | None = None
) -> StackPlan:
    """Order frames into a stack and compute its affine (see the module docstring).

    Raises
    ------
    ValueError
        If ``frames`` is empty (callers check this and raise an input error).
    """
    if not frames:
        raise ValueError("plan_stack needs at least one frame")
    problems: list[Problem] = []
    kept = _majority(
        frames,
        lambda f: (f.rows, f.columns),
        problems,
        ProblemCode.INCONSISTENT_SIZE,
        "image size (rows, columns)",
    )
    located = [f for f in kept if f.info.position is not None and f.info.orientation is not None]
    if not located:
        return _default_plan(kept, slice_spacing_hint, problems)
    if len(located) < len(kept):
        problems.append(
            Problem(
                ProblemCode.NO_GEOMETRY,
                f"{len(kept) - len(located)} frame(s) "
                "without position or orientation were left out",
            )
        )
    kept = _majority(
        located,
        lambda f: _rounded(f.info.orientation, 4),
        problems,
        ProblemCode.INCONSISTENT_ORIENTATION,
        "Image Orientation (Patient)",
    )
    kept = _majority(
        kept,
        lambda f: _rounded(f.info.pixel_spacing, 4),
        problems,
        ProblemCode.INCONSISTENT_PIXEL_SPACING,
        "Pixel Spacing",
    )
    return _located_plan(kept, slice_spacing_hint, problems)


def _majority(
    frames: Sequence[StackFrame],
    key: Callable[[StackFrame], Hashable],
    problems: list[Problem],
    code: ProblemCode,
    what: str,
) -> list[StackFrame]:
    counts = Counter(key(f) for f in frames)
    if len(counts) <= 1:
        return list(frames)
    best = max(counts, key=lambda k: counts[k])
    kept = [f for f in frames if key(f) == best]
    problems.append(
        Problem(
            code,
            f"{len(counts)} different values of {what}: kept the "
            f"{len(kept)} frame(s) with {best}, left out {len(frames) - len(kept)}",
        )
    )
    return kept


def _rounded(values: Sequence[float] | None, digits: int) -> tuple[float, ...] | None:
    return None if values is None else tuple(round(float(v), digits) + 0.0 for v in values)


def _default_plan(
    frames: Sequence[StackFrame], hint: float | None, problems: list[Problem]
) -> StackPlan:
    ordered = sorted(frames, key=lambda f: (f.instance_number or 0, f.source, f.info.index))
    row_sp, col_sp = ordered[0].info.pixel_spacing or (1.0, 1.0)
    z_sp = hint if hint is not None and hint > 0 else 1.0
    affine = np.eye(4)
    affine[:3, :3] = np.eye(3)[:, ::-1] * np.array([z_sp, row_sp, col_sp])
    problems.append(
        Problem(
            ProblemCode.NO_GEOMETRY,
            "no Image Position/Orientation (Patient): "
            f"default axial geometry with spacing ({z_sp}, {row_sp}, {col_sp}) "
            "mm at origin 0, ordered by Instance Number",
        )
    )
    return StackPlan(tuple(ordered), affine, None, tuple(problems), False)


def _located_plan(
    frames: Sequence[StackFrame], hint: float | None, problems: list[Problem]
) -> StackPlan:
    info = frames[0].info
    orient = np.asarray(info.orientation, dtype=np.float64)
    row_dir, col_dir = orient[:3], orient[3:]
    normal = np.cross(row_dir, col_dir)
    pos = np.array([f.info.position for f in frames], dtype=np.float64)
    dist = pos @ normal
    order = np.argsort(dist, kind="stable")
    ordered, pos, dist = [frames[i] for i in order], pos[order], dist[order]
    ordered, pos, dist = _drop_duplicates(ordered, pos, dist, problems)
    step_dir, spacing, irregular = _slice_step(pos, dist, normal, hint, problems)
    row_sp, col_sp = info.pixel_spacing or (1.0, 1.0)
    affine = np.eye(4)
    affine[:3, 0] = step_dir * spacing
    affine[:3, 1] = col_dir * row_sp
    affine[:3, 2] = row_dir * col_sp
    affine[:3, 3] = pos[0]
    return StackPlan(tuple(ordered), affine, dist, tuple(problems), irregular)


def _drop_duplicates(
    frames: list[StackFrame], pos: FloatArray, dist: FloatArray, problems: list[Problem]
) -> tuple[list[StackFrame], FloatArray, FloatArray]:
    if len(frames) < 2:
        return frames, pos, dist
    keep = np.concatenate([[True], np.diff(dist) > _ABS_GAP_TOL_MM])
    n_dup = int((~keep).sum())
    if n_dup:
        problems.append(
            Problem(
                ProblemCode.DUPLICATE_POSITION,
                f"{n_dup} frame(s) share a "
                "position with another one: kept the first of each position",
            )
        )
    return [f for f, k in zip(frames, keep, strict=True) if k], pos[keep], dist[keep]


def _slice_step(
    pos: FloatArray,
    dist: FloatArray,
    normal: FloatArray,
    hint: float | None,
    problems: list[Problem],
) -> tuple[FloatArray, float, bool]:
    if len(dist) < 2:
        return normal, (hint if hint is not None and hint > 0 else 1.0), False
    gaps = np.diff(dist)
    spacing = _base_spacing(gaps)
    step_dir = (pos[-1] - pos[0]) / (dist[-1] - dist[0])
    shear = float(np.linalg.norm(step_dir - normal))
    if shear > _TILT_TOL:
        angle = float(np.degrees(np.arctan(shear)))
        problems.append(
            Problem(
                ProblemCode.GANTRY_TILT,
                f"slices are offset in-plane (tilt of {angle:.2f} degrees): the affine is sheared",
            )
        )
    else:
        step_dir = normal
    return step_dir, spacing, _report_gaps(gaps, spacing, problems)


def _base_spacing(gaps: FloatArray) -> float:
    """The slice spacing: the smallest gap when every gap is a whole multiple of it (slices
    missing), else the median gap."""
    smallest = float(gaps.min())
    tol = max(_RELATIVE_GAP_TOL * smallest, _ABS_GAP_TOL_MM)
    ratios = gaps / smallest
    if np.all(np.abs(ratios - np.round(ratios)) * smallest <= tol):
        return float(gaps[np.round(ratios) == 1].mean())
    return float(np.median(gaps))


def _report_gaps(gaps: FloatArray, spacing: float, problems: list[Problem]) -> bool:
    tol = max(_RELATIVE_GAP_TOL * spacing, _ABS_GAP_TOL_MM)
    off = np.abs(gaps - spacing) > tol
    if not off.any():
        return False
    ratios = gaps[off] / spacing
    whole = np.abs(ratios - np.round(ratios)) * spacing <= tol
    if whole.all() and (ratios > 1.5).all():
        missing = int(np.round(ratios).sum() - len(ratios))
        problems.append(
            Problem(
                ProblemCode.MISSING_SLICES,
                f"{missing} slice(s) missing in "
                f"{len(ratios)} gap(s) (largest gap {gaps.max():.3f} mm, "
                f"spacing {spacing:.3f} mm)",
            )
        )
    else:
        problems.append(
            Problem(
                ProblemCode.IRREGULAR_SPACING,
                f"slice gaps range from "
                f"{gaps.min():.4f} to {gaps.max():.4f} mm (median "
                f"{spacing:.4f} mm); the affine uses the median",
            )
        )
    return True


def regular_positions(plan: StackPlan) -> FloatArray:
    """Distances along the normal of a regular grid covering an irregular stack.

    The grid starts at the first slice, steps by the plan's slice spacing and ends at (or
    just before) the last slice.
    """
    if plan.positions is None:
        raise ValueError("a stack without geometry has no positions to resample")
    start, stop = float(plan.positions[0]), float(plan.positions[-1])
    step = plan.spacing[0]
    count = int(np.floor((stop - start) / step + 1e-6)) + 1
    return np.asarray(start + step * np.arange(count), dtype=np.float64)
