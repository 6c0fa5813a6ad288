"""Rendered frames (WADO-RS ``.../rendered``): 8-bit PNG or JPEG images for display.

Grayscale frames are rescaled (RescaleSlope/Intercept), windowed with the window given in
the request, else the first WindowCenter/WindowWidth of the instance, else the frame's
minimum and maximum, and inverted for MONOCHROME1. Colour frames are shown as decoded
(RGB). Images are written with Pillow, an optional dependency: without it a
:class:`~vesalius.errors.UnsupportedError` says what to install.

Examples
--------
>>> from pydicom import dcmread
>>> from pydicom.data import get_testdata_file
>>> ds = dcmread(get_testdata_file("CT_small.dcm"))
>>> image = render_frame(ds, 1, media_type="image/png", source="CT_small")
>>> image[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from pydicom import Dataset
from pydicom.pixels.processing import apply_rescale
from pydicom.pixels.utils import pixel_array

from vesalius.errors import InputError, UnsupportedError
from vesalius.ingest.dicomweb.frames import number_of_frames

RENDERED_TYPES = ("image/jpeg", "image/png")


@dataclass(frozen=True)
class Window:
    """A display window: centre and width in rescaled (modality) units."""

    center: float
    width: float

    @classmethod
    def parse(cls, text: str) -> Window:
        """``center,width[,function]`` as the ``window`` query parameter gives it.

        Examples
        --------
        >>> Window.parse("40,400,linear")
        Window(center=40.0, width=400.0)
        """
        parts = text.split(",")
        try:
            center, width = float(parts[0]), float(parts[1])
        except (IndexError, ValueError):
            raise InputError(None, f"window: {text!r} is not 'center,width[,function]'") from None
        if width <= 0:
            raise InputError(None, f"window: width must be positive, got {width}")
        return cls(center, width)


def _first(value: object) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value[0] if isinstance(value, list | tuple) else value)  # type: ignore[arg-type]
    except (TypeError, ValueError, IndexError):
        return None


def stored_window(ds: Dataset) -> Window | None:
    """The first WindowCenter/WindowWidth of ``ds``, if it has a usable one."""
    center, width = _first(ds.get("WindowCenter")), _first(ds.get("WindowWidth"))
    if center is None or width is None or width <= 0:
        return None
    return Window(center, width)


def _to_8bit(values: NDArray[np.float64], window: Window | None) -> NDArray[np.uint8]:
    if window is None:
        low, high = float(values.min()), float(values.max())
    else:
        low, high = window.center - window.width / 2, window.center + window.width / 2
    scaled = (values - low) / max(high - low, 1e-12) * 255.0
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def _pixels(ds: Dataset, number: int, source: str) -> NDArray[np.generic]:
    if "PixelData" not in ds:
        raise InputError(source, "has no Pixel Data to render")
    if not 1 <= number <= number_of_frames(ds):
        raise InputError(source, f"frame {number} not in 1..{number_of_frames(ds)}")
    try:
        return pixel_array(ds, index=number - 1)
    except (ValueError, RuntimeError, NotImplementedError) as err:
        raise UnsupportedError(source, f"cannot decode frame {number}: {err}") from None


def frame_8bit(
    ds: Dataset, number: int, *, window: Window | None = None, source: str
) -> NDArray[np.uint8]:
    """Frame ``number`` (1-based) as 8-bit grayscale (rows, cols) or RGB (rows, cols, 3)."""
    arr = _pixels(ds, number, source)
    if int(ds.get("SamplesPerPixel", 1)) > 1:
        return arr.astype(np.uint8) if arr.dtype == np.uint8 else _to_8bit(arr.astype(float), None)
    values = np.asarray(apply_rescale(arr, ds), dtype=np.float64)
    out = _to_8bit(values, window or stored_window(ds))
    if str(ds.get("PhotometricInterpretation", "")) == "MONOCHROME1":
        out = 255 - out
    return out


def encode_image(pixels: NDArray[np.uint8], *, media_type: str, quality: int = 90) -> bytes:
    """PNG or JPEG bytes of an 8-bit image.

    Raises
    ------
    UnsupportedError
        ``media_type`` is not rendered, or Pillow is not installed.
    """
    if media_type not in RENDERED_TYPES:
        raise UnsupportedError(
            None, f"rendered media type {media_type!r} is not one of {RENDERED_TYPES}"
        )
    try:
        from PIL import Image
    except ImportError:
        raise UnsupportedError(
            None, "rendering images needs Pillow: pip install pillow (or vesalius[service])"
        ) from None
    buffer = io.BytesIO()
    image = Image.fromarray(pixels)
    if media_type == "image/png":
        image.save(buffer, format="PNG")
    else:
        image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def render_frame(
    ds: Dataset,
    number: int,
    *,
    media_type: str = "image/jpeg",
    window: Window | None = None,
    quality: int = 90,
    source: str,
) -> bytes:
    """Frame ``number`` of ``ds`` rendered to ``media_type`` bytes."""
    pixels = frame_8bit(ds, number, window=window, source=source)
    return encode_image(pixels, media_type=media_type, quality=quality)
