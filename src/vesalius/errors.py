"""The one exception tree of Vesalius.

Every error raised on purpose by Vesalius derives from :class:`VesaliusError`::

    VesaliusError
    ├── InputError            bad input from the user: a file, a folder, an argument
    │   ├── DicomReadError    a DICOM file that cannot be read or used
    │   ├── GeometryError     slices or affines that do not form a valid volume
    │   ├── NiftiError        a NIfTI file that cannot be read or written
    │   └── UnsupportedError  valid input that Vesalius refuses to guess about
    ├── ConfigError           a settings file or value that is wrong
    └── StoreError            the index or the blob store refused an operation

The command line turns an :class:`InputError` or :class:`ConfigError` into a message and
exit code 2, never a traceback.

Examples
--------
>>> err = DicomReadError("/data/ct/1.dcm", "no Pixel Data element")
>>> str(err)
'/data/ct/1.dcm: no Pixel Data element'
>>> isinstance(err, InputError)
True
"""

from __future__ import annotations

from os import PathLike


class VesaliusError(Exception):
    """Base class of every error Vesalius raises on purpose."""


class InputError(VesaliusError):
    """Bad input from the user; optionally names the file it came from.

    Parameters
    ----------
    path
        The file or folder at fault, or ``None`` when the input is not a file.
    problem
        What is wrong, in words a user can act on.
    """

    def __init__(self, path: str | PathLike[str] | None, problem: str) -> None:
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(problem if self.path is None else f"{self.path}: {problem}")


class DicomReadError(InputError):
    """A DICOM file that cannot be read, decoded or used as an image."""


class GeometryError(InputError):
    """Slices or an affine that do not describe a valid volume."""


class NiftiError(InputError):
    """A NIfTI file that cannot be read or written."""


class UnsupportedError(InputError):
    """Valid input that Vesalius will not guess about (for example unknown PET units)."""


class ConfigError(VesaliusError):
    """A settings file or value that is wrong."""


class StoreError(VesaliusError):
    """The index or blob store refused an operation."""
