"""Typed problem records: what was odd about the input, reported instead of guessed away.

A :class:`Problem` names a :class:`ProblemCode`, says what happened in words and, when a
single file is at fault, which file.

Examples
--------
>>> p = Problem(ProblemCode.MISSING_SLICES, "1 slice missing between 12.0 and 18.0 mm")
>>> p.code.value, p.to_json()["message"]
('missing_slices', '1 slice missing between 12.0 and 18.0 mm')
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ProblemCode(StrEnum):
    """What kind of problem was found."""

    NOT_DICOM = "not_dicom"
    UNREADABLE = "unreadable"
    MISSING_UID = "missing_uid"
    NO_GEOMETRY = "no_geometry"
    MISSING_SLICES = "missing_slices"
    IRREGULAR_SPACING = "irregular_spacing"
    DUPLICATE_POSITION = "duplicate_position"
    INCONSISTENT_ORIENTATION = "inconsistent_orientation"
    INCONSISTENT_PIXEL_SPACING = "inconsistent_pixel_spacing"
    INCONSISTENT_SIZE = "inconsistent_size"
    GANTRY_TILT = "gantry_tilt"
    RESAMPLED = "resampled"
    DECODER_WARNING = "decoder_warning"


@dataclass(frozen=True)
class Problem:
    """One problem found while scanning or reading.

    Parameters
    ----------
    code
        The kind of problem.
    message
        What happened, in words a user can act on.
    path
        The file at fault, when one file is.
    """

    code: ProblemCode
    message: str
    path: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"[{self.code.value}] {where}{self.message}"

    def to_json(self) -> dict[str, str | None]:
        """A JSON-ready form: ``{"code", "message", "path"}``."""
        return {"code": self.code.value, "message": self.message, "path": self.path}
