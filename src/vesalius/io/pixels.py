"""Read the pixels of planned frames into one preallocated array, rescaled.

Uncompressed little-endian 8/16-bit data is read straight from the files into the output
array (no pydicom decoding, no intermediate copies); everything else is decoded by pydicom
with the installed plugins (pylibjpeg, openjpeg, libjpeg, rle). Files are read by a thread
pool: file I/O and the decoders release the GIL.

The output is ``int16`` when every frame's Rescale Slope is 1, its Rescale Intercept an
integer and the rescaled values fit; otherwise ``float32``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pydicom
from pydicom.uid import UID

from vesalius.errors import DicomReadError, UnsupportedError
from vesalius.io.headers import FrameInfo, InstanceHeader

logger = logging.getLogger(__name__)

_INT16_MIN, _INT16_MAX = -32768, 32767


@dataclass(frozen=True)
class FrameSlot:
    """Frame ``info.index`` of ``header`` goes to slice ``slot`` of the output."""

    slot: int
    header: InstanceHeader
    info: FrameInfo


Overflow = tuple[FrameSlot, npt.NDArray[Any] | None]
"""A frame whose rescaled values do not fit int16, with its raw values (None: still in out)."""


def check_pixels_usable(header: InstanceHeader) -> None:
    """Raise when an instance's pixels cannot form a grey-level volume.

    Raises
    ------
    UnsupportedError
        For colour (more than one sample per pixel) or palette-colour images.
    DicomReadError
        For missing or impossible image size attributes.
    """
    if header.samples_per_pixel != 1:
        raise UnsupportedError(
            header.path,
            f"colour image ({header.samples_per_pixel} samples "
            f"per pixel, {header.photometric}) cannot be read as a volume",
        )
    if header.photometric == "PALETTE COLOR":
        raise UnsupportedError(header.path, "palette colour image cannot be read as a volume")
    if header.rows < 1 or header.columns < 1:
        raise DicomReadError(
            header.path, f"invalid image size Rows={header.rows} Columns={header.columns}"
        )
    if not header.float_pixels and header.bits_allocated not in (1, 8, 16, 32):
        raise DicomReadError(header.path, f"unsupported Bits Allocated {header.bits_allocated}")


def read_frames(
    slots: Sequence[FrameSlot], shape: tuple[int, int, int], *, workers: int | None = None
) -> npt.NDArray[Any]:
    """Read and rescale every slot into a new ``(z, y, x)`` array (see the module docstring)."""
    int_ok = all(_integral_rescale(s) for s in slots) and not any(
        s.header.float_pixels or s.header.bits_allocated > 16 for s in slots
    )
    out = np.empty(shape, dtype=np.int16 if int_ok else np.float32)
    by_file: dict[str, list[FrameSlot]] = {}
    for slot in slots:
        by_file.setdefault(slot.header.path, []).append(slot)
    n_workers = workers or min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        results = list(pool.map(lambda group: _read_file(group, out), by_file.values()))
    overflow = [item for group in results for item in group]
    if overflow:
        logger.info("rescaled values do not fit int16 in %d frame(s): using float32", len(overflow))
        return _to_float(out, overflow)
    return out


def _integral_rescale(slot: FrameSlot) -> bool:
    return slot.info.slope == 1.0 and float(slot.info.intercept).is_integer()


def _read_file(group: list[FrameSlot], out: npt.NDArray[Any]) -> list[Overflow]:
    header = group[0].header
    if header.native_fast_path:
        return _read_native(group, out)
    frames = _decode(header)
    overflow: list[Overflow] = []
    for slot in group:
        if not _store(slot, frames[slot.info.index], out):
            overflow.append((slot, frames[slot.info.index]))
    return overflow


def _read_native(group: list[FrameSlot], out: npt.NDArray[Any]) -> list[Overflow]:
    header = group[0].header
    stored = _stored_dtype(header)
    direct = out.dtype == np.int16 and stored.itemsize == 2
    overflow: list[Overflow] = []
    with open(header.path, "rb") as f:
        for slot in group:
            assert header.pixel_offset is not None
            f.seek(header.pixel_offset + slot.info.index * header.frame_bytes)
            if direct:
                target = out[slot.slot].view(stored)
                _read_into(f, target, header.path)
                if not _rescale_int16_in_place(target, slot.info.intercept):
                    overflow.append((slot, None))
                continue
            raw = np.empty((header.rows, header.columns), dtype=stored)
            _read_into(f, raw, header.path)
            if not _store(slot, raw, out):
                overflow.append((slot, raw))
    return overflow


def _read_into(f: Any, target: npt.NDArray[Any], path: str) -> None:
    view = target.data.cast("B")
    if f.readinto(view) != view.nbytes:
        raise DicomReadError(path, "pixel data is shorter than Rows x Columns x frames")


def _stored_dtype(header: InstanceHeader) -> np.dtype[Any]:
    kind = "i" if header.pixel_representation == 1 else "u"
    return np.dtype(f"<{kind}{header.bits_allocated // 8}")


def _rescale_int16_in_place(target: npt.NDArray[Any], intercept: float) -> bool:
    """Add an integral intercept in place if the result fits int16 (modular arithmetic)."""
    b = int(intercept)
    if b == 0 and target.dtype == np.int16:
        return True
    lo, hi = int(target.min()) + b, int(target.max()) + b
    if lo < _INT16_MIN or hi > _INT16_MAX:
        return False
    bits = target.view(np.uint16)
    bits += np.uint16(b % 65536)
    return True


def _store(slot: FrameSlot, raw: npt.NDArray[Any], out: npt.NDArray[Any]) -> bool:
    """Rescale ``raw`` into ``out[slot]``; False (raw kept as-is) when int16 overflows."""
    if raw.shape != out.shape[1:]:
        raise DicomReadError(
            slot.header.path,
            f"frame {slot.info.index} has shape {raw.shape}, expected {out.shape[1:]}",
        )
    if out.dtype == np.int16:
        lo = int(raw.min()) + int(slot.info.intercept)
        hi = int(raw.max()) + int(slot.info.intercept)
        if lo < _INT16_MIN or hi > _INT16_MAX:
            return False
        np.add(raw, np.int32(slot.info.intercept), out=out[slot.slot], casting="unsafe")
        return True
    np.multiply(raw, slot.info.slope, out=out[slot.slot], casting="unsafe")
    out[slot.slot] += np.float32(slot.info.intercept)
    return True


def _to_float(out: npt.NDArray[Any], overflow: list[Overflow]) -> npt.NDArray[np.float32]:
    result = out.astype(np.float32)
    for slot, kept in overflow:
        raw = out[slot.slot].view(_stored_dtype(slot.header)) if kept is None else kept
        result[slot.slot] = raw.astype(np.float32) * np.float32(slot.info.slope) + np.float32(
            slot.info.intercept
        )
    return result


def _decode(header: InstanceHeader) -> npt.NDArray[Any]:
    """Decode every frame of one instance with pydicom; shape ``(frames, rows, cols)``."""
    syntax = UID(header.transfer_syntax).name if header.transfer_syntax else "unknown"
    try:
        ds = pydicom.dcmread(header.path)
        array = np.asarray(ds.pixel_array)
    except Exception as err:  # decoders raise many types on corrupt or unsupported data
        raise DicomReadError(
            header.path, f"cannot decode pixel data ({syntax}): {type(err).__name__}: {err}"
        ) from None
    frames = array.reshape((-1, header.rows, header.columns)) if array.size else array
    if frames.ndim != 3 or frames.shape[0] < header.n_frames:
        raise DicomReadError(
            header.path,
            f"decoded pixel data has shape {array.shape}, "
            f"expected {header.n_frames} frame(s) of "
            f"{header.rows}x{header.columns}",
        )
    return frames
