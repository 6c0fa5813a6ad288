"""``vesalius phantom KIND OUT``: write an in-silico study with its ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

KINDS = ("chest-ct", "brain-mr", "pet-ct")


def parse_size(
    size: str, *, small: tuple[int, int, int], full: tuple[int, int, int]
) -> tuple[int, int, int]:
    """``small``, ``full`` or ``ZxYxX`` as a shape.

    Examples
    --------
    >>> parse_size("20x32x48", small=(1, 1, 1), full=(2, 2, 2))
    (20, 32, 48)
    """
    from vesalius.errors import InputError

    if size in ("small", "full"):
        return small if size == "small" else full
    parts = size.lower().split("x")
    if len(parts) != 3 or not all(p.isdigit() and int(p) >= 2 for p in parts):
        raise InputError(None, f"--size must be small, full or ZxYxX (sizes >= 2), found {size!r}")
    return (int(parts[0]), int(parts[1]), int(parts[2]))


def _chest(out: Path, seed: int, size: str, noise: float | None) -> list[str]:
    from vesalius.simulate.chest_ct import (
        FULL_SHAPE,
        SMALL_SHAPE,
        ChestCTSpec,
        chest_ct,
        write_chest_ct,
    )

    shape = parse_size(size, small=SMALL_SHAPE, full=FULL_SHAPE)
    spec = ChestCTSpec(shape=shape) if noise is None else ChestCTSpec(shape=shape, noise_hu=noise)
    ct = chest_ct(spec, seed=seed)
    write_chest_ct(ct, out)
    t = ct.truth
    lines = [
        f"lung {lung.side}: {lung.volume_ml:.0f} mL, %LAA-950 {lung.laa950_percent_noise_free:.2f}"
        for lung in t.lungs
    ]
    lines += [f"nodule {n.id}: {n.kind}, {n.lung} lung, {n.diameter_mm:.1f} mm" for n in t.nodules]
    lines.append(
        f"Agatston total {t.agatston_total_written:.1f} (3 mm: {t.agatston_total_3mm:.1f})"
    )
    return lines


def _brain(out: Path, seed: int, size: str, noise: float | None, atrophy: float) -> list[str]:
    from vesalius.simulate.brain_mr import (
        FULL_SHAPE,
        SMALL_SHAPE,
        BrainMRSpec,
        brain_mr,
        write_brain_mr,
    )

    shape = parse_size(size, small=SMALL_SHAPE, full=FULL_SHAPE)
    extra: dict[str, Any] = {} if noise is None else {"noise": noise}
    mr = brain_mr(BrainMRSpec(shape=shape, atrophy=atrophy, **extra), seed=seed)
    write_brain_mr(mr, out)
    t = mr.truth
    return [f"CSF {t.csf_volume_ml:.0f} mL, GM {t.gm_volume_ml:.0f} mL, WM {t.wm_volume_ml:.0f} mL"]


def _pet(out: Path, seed: int, size: str, noise: float | None) -> list[str]:
    from vesalius.simulate.pet_ct import PetCTSpec, pet_ct, write_pet_ct

    ct_shape = parse_size(size, small=(48, 64, 64), full=(300, 512, 512))
    pet_shape = (
        max(2, ct_shape[0] * 7 // 12),
        max(2, ct_shape[1] * 3 // 8),
        max(2, ct_shape[2] * 3 // 8),
    )
    extra: dict[str, Any] = {} if noise is None else {"pet_noise": noise}
    pc = pet_ct(PetCTSpec(ct_shape=ct_shape, pet_shape=pet_shape, **extra), seed=seed)
    write_pet_ct(pc, out)
    lines = [
        f"lesion {les.id} ({les.site}): SUVmax {les.suvmax:.2f}, MTV {les.mtv_ml:.1f} mL"
        for les in pc.truth.lesions
    ]
    lines.append(
        f"PET moved by {tuple(round(v, 2) for v in pc.truth.misregistration.translation_mm)}"
        " mm relative to CT"
    )
    return lines


def write_phantom(
    kind: str,
    out: Path,
    *,
    seed: int = 0,
    size: str = "small",
    noise: float | None = None,
    atrophy: float = 0.0,
) -> list[str]:
    """Write one phantom study into ``out``; returns summary lines of its ground truth.

    Raises
    ------
    InputError
        For an unknown kind, a bad size, or ``out`` being a file.
    """
    from vesalius.errors import InputError

    if kind not in KINDS:
        raise InputError(None, f"unknown phantom kind {kind!r}; choose one of {', '.join(KINDS)}")
    if out.exists() and not out.is_dir():
        raise InputError(out, "exists and is not a folder")
    if kind == "chest-ct":
        return _chest(out, seed, size, noise)
    if kind == "brain-mr":
        return _brain(out, seed, size, noise, atrophy)
    return _pet(out, seed, size, noise)


def phantom(
    kind: Annotated[str, typer.Argument(help="chest-ct, brain-mr or pet-ct")],
    out: Annotated[Path, typer.Argument(help="folder to write the study into")],
    seed: Annotated[int, typer.Option(help="same seed, same files")] = 0,
    size: Annotated[str, typer.Option(help="small, full or ZxYxX voxels")] = "small",
    noise: Annotated[
        float | None,
        typer.Option(
            help="noise: HU (chest-ct), relative Rician sigma (brain-mr), relative (pet-ct)"
        ),
    ] = None,
    atrophy: Annotated[float, typer.Option(help="brain-mr only: 0..1")] = 0.0,
) -> None:
    """Write a phantom study (DICOM series, label maps, ground_truth.json) into OUT."""
    from rich.console import Console

    lines = write_phantom(kind, out, seed=seed, size=size, noise=noise, atrophy=atrophy)
    console = Console(soft_wrap=True)
    console.print(f"[bold]{kind}[/bold] phantom, seed {seed}, written to {out}")
    for line in lines:
        console.print(f"  {line}")
    console.print(f"  truth: {out / 'ground_truth.json'}")
