"""Benchmark: resample a 512x512x300 CT (0.7 x 0.7 x 1.25 mm) to 1 mm isotropic, linear.

Runs side by side on the same input, in one process:

- ours: ``vesalius.standardize.Resample(1.0)`` (SimpleITK ResampleImageFilter underneath,
  one copy in, one out, float32 output);
- peer: ``nibabel.processing.resample_to_output(..., order=1)`` (scipy.ndimage), the usual
  NIfTI-world way;
- reference: the same resampling written by hand with SimpleITK, to show our overhead.

Prints the median of several repetitions of each; the last line is
``RATIO standardize_resample <nibabel median / ours median>`` (> 1: we are faster).
Usage: ``.venv/bin/python bench/standardize_resample.py [--small]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import nibabel as nib
import nibabel.processing
import numpy as np
import SimpleITK as sitk  # noqa: N813 - the usual name

from vesalius.core import Volume
from vesalius.standardize import Resample


def make_ct(shape: tuple[int, int, int]) -> Volume:
    """A CT-like int16 volume: air, a body ellipsoid of soft tissue, some bone and noise."""
    rng = np.random.default_rng(0)
    z, y, x = np.ogrid[: shape[0], : shape[1], : shape[2]]
    body = ((y - shape[1] / 2) / (shape[1] * 0.4)) ** 2 + (
        (x - shape[2] / 2) / (shape[2] * 0.45)
    ) ** 2
    array = np.broadcast_to(np.where(body < 1.0, 40, -1000), shape).astype(np.int16)
    array += rng.integers(-20, 20, size=shape, dtype=np.int16)
    array[:, shape[1] // 2 - 10 : shape[1] // 2 + 10, shape[2] // 2 - 10 : shape[2] // 2 + 10] = 900
    del z
    return Volume.from_spacing(
        array, spacing=(1.25, 0.7, 0.7), origin=(-180.0, -180.0, -200.0), modality="CT"
    )


def ours(vol: Volume) -> Any:
    return Resample(1.0, fill=-1024.0)(vol).array


def by_hand_sitk(vol: Volume) -> Any:
    image = sitk.GetImageFromArray(vol.array)
    image.SetSpacing(vol.spacing[::-1])
    image.SetOrigin(vol.origin)
    new_size = [round(n * s) for n, s in zip(image.GetSize(), image.GetSpacing(), strict=True)]
    out = sitk.Resample(
        image,
        new_size,
        sitk.Transform(),
        sitk.sitkLinear,
        image.GetOrigin(),
        (1.0, 1.0, 1.0),
        image.GetDirection(),
        -1024.0,
        sitk.sitkFloat32,
    )
    return sitk.GetArrayFromImage(out)


def nibabel_peer(vol: Volume) -> Any:
    # NIfTI wants (i, j, k) = (x, y, z) order and RAS; LPS -> RAS flips x and y.
    affine = np.diag([-1.0, -1.0, 1.0, 1.0]) @ vol.affine[:, [2, 1, 0, 3]]
    image = nib.Nifti1Image(np.asarray(vol.array.transpose(2, 1, 0)), affine)
    out = nibabel.processing.resample_to_output(
        image, voxel_sizes=(1.0, 1.0, 1.0), order=1, cval=-1024.0
    )
    return np.asarray(out.dataobj)


def median_time(func: Callable[[Volume], Any], vol: Volume, repeats: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func(vol)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="64x128x128 input, quick check")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    shape = (64, 128, 128) if args.small else (300, 512, 512)
    vol = make_ct(shape)
    print(
        f"input {shape} int16, spacing {vol.spacing} mm -> 1 mm isotropic, linear; "
        f"SimpleITK threads {sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()}"
    )
    t_ours, a_ours = median_time(ours, vol, args.repeats)
    t_sitk, a_sitk = median_time(by_hand_sitk, vol, args.repeats)
    t_nib, a_nib = median_time(nibabel_peer, vol, args.repeats)
    print(
        f"ours (vesalius Resample)      median {t_ours:8.3f} s  output {a_ours.shape} "
        f"{a_ours.dtype}"
    )
    print(
        f"hand-written SimpleITK        median {t_sitk:8.3f} s  output {a_sitk.shape} "
        f"{a_sitk.dtype}"
    )
    print(
        f"peer nibabel resample_to_output median {t_nib:8.3f} s  output {a_nib.shape} "
        f"{a_nib.dtype} (x, y, z order)"
    )
    print(f"ours vs hand-written SimpleITK: {t_sitk / t_ours:.2f} (1.0 = no overhead)")
    print(f"RATIO standardize_resample {t_nib / t_ours:.2f}")


if __name__ == "__main__":
    main()
