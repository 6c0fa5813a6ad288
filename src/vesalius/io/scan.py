"""Find DICOM instances in folders or file lists and group them by study and series.

Only headers are read. Files that are not DICOM or are broken become :class:`Problem`
records naming the file; everything else is still grouped. Objects without pixel data, and
objects whose pixels are not an image of the patient (SR, RT Structure Set, RT Plan,
Segmentation, presentation states, waveforms, DICOMDIR...), are listed as
:class:`NonImageObject`. An image object (its SOP class is an Image Storage) without pixel
data, or whose pixel data is cut short, is a problem, not a non-image object.

Examples
--------
>>> from pydicom.data import get_testdata_file
>>> scan = scan_dicom([get_testdata_file("CT_small.dcm"), get_testdata_file("test-SR.dcm")])
>>> [s.modality for s in scan.series], [o.sop_class_name for o in scan.non_images]
(['CT'], ['Comprehensive SR Storage'])
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.uid import UID

from vesalius.errors import DicomReadError, InputError
from vesalius.io.headers import InstanceHeader, read_header
from vesalius.io.problems import Problem, ProblemCode

logger = logging.getLogger(__name__)

PathInput = str | PathLike[str]

# SOP classes that carry pixel data but are not an image of the patient to read as a volume.
_NON_IMAGE_PREFIXES = (
    "1.2.840.10008.5.1.4.1.1.66",  # Raw data, Spatial registration, Segmentation, ...
    "1.2.840.10008.5.1.4.1.1.88",  # Structured reports
    "1.2.840.10008.5.1.4.1.1.11",  # Presentation states
    "1.2.840.10008.5.1.4.1.1.9",  # Waveforms
    "1.2.840.10008.5.1.4.1.1.104",  # Encapsulated documents
    "1.2.840.10008.5.1.4.1.1.481.3",  # RT Structure Set
    "1.2.840.10008.5.1.4.1.1.481.5",  # RT Plan
    "1.2.840.10008.5.1.4.1.1.481.8",  # RT Ion Plan
)


@dataclass(frozen=True)
class NonImageObject:
    """A DICOM object that is listed but not read as a volume."""

    path: str
    study_uid: str
    series_uid: str
    sop_class_uid: str
    sop_class_name: str
    modality: str
    reason: str


@dataclass(frozen=True, eq=False)
class SeriesFiles:
    """The image instances of one series, in the order they were found."""

    study_uid: str
    series_uid: str
    instances: tuple[InstanceHeader, ...]

    @property
    def modality(self) -> str:
        """Modality of the first instance."""
        return self.instances[0].modality

    @property
    def description(self) -> str:
        """Series Description of the first instance (may be empty)."""
        return str(self.instances[0].dataset.get("SeriesDescription", "") or "")

    @property
    def n_instances(self) -> int:
        """Number of instances (files) in the series."""
        return len(self.instances)

    @property
    def first_header(self) -> Dataset:
        """Header of the first instance found (pydicom Dataset, no pixel data)."""
        return self.instances[0].dataset


@dataclass(frozen=True, eq=False)
class DicomScan:
    """What a scan found: image series, non-image objects and file problems."""

    series: tuple[SeriesFiles, ...]
    non_images: tuple[NonImageObject, ...]
    problems: tuple[Problem, ...]

    def get(self, series_uid: str) -> SeriesFiles:
        """The series with this Series Instance UID.

        Raises
        ------
        InputError
            If no scanned series has that UID.
        """
        for series in self.series:
            if series.series_uid == series_uid:
                return series
        known = ", ".join(s.series_uid for s in self.series) or "none"
        raise InputError(None, f"no image series with UID {series_uid!r}; found: {known}")


def list_files(source: PathInput | Iterable[PathInput], *, recursive: bool = True) -> list[str]:
    """Expand folders (recursively by default) into a sorted list of file paths.

    Raises
    ------
    InputError
        If a given path does not exist.
    """
    items = [source] if isinstance(source, str | PathLike) else list(source)
    files: list[str] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            pattern = "**/*" if recursive else "*"
            files.extend(str(p) for p in sorted(path.glob(pattern)) if p.is_file())
        elif path.is_file():
            files.append(str(path))
        else:
            raise InputError(path, "no such file or folder")
    return files


def scan_dicom(source: PathInput | Iterable[PathInput], *, recursive: bool = True) -> DicomScan:
    """Read the headers of every file under ``source`` and group them by study and series.

    Parameters
    ----------
    source
        A folder, a file, or a list of them.
    recursive
        Whether to descend into sub-folders.

    Returns
    -------
    DicomScan
        Image series (sorted by study then series UID), non-image objects, and one
        problem per file that is not DICOM, is broken, or lacks its UIDs.
    """
    groups: dict[tuple[str, str], list[InstanceHeader]] = {}
    non_images: list[NonImageObject] = []
    problems: list[Problem] = []
    for path in list_files(source, recursive=recursive):
        header = _read_one(path, problems)
        if header is None:
            continue
        if _is_non_image(header):
            non_images.append(_non_image(header))
            continue
        if not header.has_pixels:
            problems.append(
                Problem(
                    ProblemCode.UNREADABLE,
                    f"{UID(header.sop_class_uid).name} object without (complete) Pixel Data",
                    path,
                )
            )
            continue
        if not header.series_uid or not header.study_uid:
            problems.append(
                Problem(
                    ProblemCode.MISSING_UID,
                    "no Study or Series Instance UID; grouped as unknown",
                    path,
                )
            )
        groups.setdefault((header.study_uid, header.series_uid), []).append(header)
    series = tuple(SeriesFiles(k[0], k[1], tuple(v)) for k, v in sorted(groups.items()))
    logger.debug(
        "scanned %d series, %d non-image objects, %d problems",
        len(series),
        len(non_images),
        len(problems),
    )
    return DicomScan(series, tuple(non_images), tuple(problems))


def _read_one(path: str, problems: list[Problem]) -> InstanceHeader | None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            header = read_header(path)
        except DicomReadError as err:
            code = (
                ProblemCode.NOT_DICOM
                if "not a DICOM file" in err.problem
                else ProblemCode.UNREADABLE
            )
            problems.append(Problem(code, err.problem, path))
            return None
    for warning in caught:
        problems.append(Problem(ProblemCode.DECODER_WARNING, str(warning.message), path))
    return header


def _is_non_image(header: InstanceHeader) -> bool:
    uid = header.sop_class_uid
    if any(uid == p or uid.startswith(p + ".") for p in _NON_IMAGE_PREFIXES):
        return True
    return not header.has_pixels and "Image Storage" not in UID(uid).name


def _non_image(header: InstanceHeader) -> NonImageObject:
    uid = UID(header.sop_class_uid)
    name = uid.name
    reason = "non-image SOP class" if header.has_pixels else "no pixel data"
    return NonImageObject(
        header.path,
        header.study_uid,
        header.series_uid,
        header.sop_class_uid,
        name,
        header.modality,
        reason,
    )
