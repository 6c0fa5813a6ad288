"""The de-identification report: one record per input file, written as JSON.

The report names input files by their path relative to the input folder (so a folder named
after a patient would show there: keep the report with the identifiable input, not with the
clean output) and output files by their path relative to the output folder. It never holds
an original DICOM value.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from vesalius.ingest.deid.apply import InstanceActions
from vesalius.io.atomic import write_bytes_atomic


class Status(enum.Enum):
    """What became of one input file."""

    WRITTEN = "written"
    QUARANTINED = "quarantined"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class FileResult:
    """The outcome for one input file.

    Attributes
    ----------
    source
        Input path relative to the input folder.
    status
        Written, quarantined or error.
    output
        Written or quarantined copy, relative to the output folder; ``None`` if none.
    sop_instance_uid
        The new SOP Instance UID of a written instance.
    reason
        Why it was quarantined or failed.
    actions
        What was done to a written instance.
    notes
        Warnings met while reading or writing.
    """

    source: str
    status: Status
    output: str | None = None
    sop_instance_uid: str | None = None
    reason: str | None = None
    actions: InstanceActions | None = None
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        """Return the JSON form of this record."""
        record: dict[str, object] = {"source": self.source, "status": self.status.value}
        for name in ("output", "sop_instance_uid", "reason"):
            if getattr(self, name) is not None:
                record[name] = getattr(self, name)
        if self.actions is not None:
            record["counts"] = {
                "removed": self.actions.removed,
                "replaced": self.actions.replaced,
                "kept": self.actions.kept,
                "shifted": self.actions.shifted,
            }
            record["actions"] = dict(self.actions.actions)
        if self.notes:
            record["notes"] = list(self.notes)
        return record


@dataclass(frozen=True, slots=True)
class BatchReport:
    """Every file's outcome, and the settings that produced them.

    Examples
    --------
    >>> report = BatchReport((FileResult("a.dcm", Status.ERROR, reason="not DICOM"),),
    ...                      profile_table="annex_e.csv", options=())
    >>> report.failed, report.written
    (1, 0)
    """

    files: tuple[FileResult, ...]
    profile_table: str
    options: tuple[str, ...]

    def _count(self, status: Status) -> int:
        return sum(1 for result in self.files if result.status is status)

    @property
    def written(self) -> int:
        """Number of instances de-identified and written."""
        return self._count(Status.WRITTEN)

    @property
    def quarantined(self) -> int:
        """Number of instances held back for burned-in text."""
        return self._count(Status.QUARANTINED)

    @property
    def failed(self) -> int:
        """Number of files that could not be read or written."""
        return self._count(Status.ERROR)

    def to_json(self) -> dict[str, object]:
        """Return the JSON form of the whole report."""
        return {
            "profile_table": self.profile_table,
            "options": list(self.options),
            "summary": {
                "written": self.written,
                "quarantined": self.quarantined,
                "errors": self.failed,
            },
            "files": [result.to_json() for result in self.files],
        }

    def write(self, path: str | PathLike[str]) -> Path:
        """Write the report as JSON, atomically; return the path."""
        text = json.dumps(self.to_json(), indent=2, sort_keys=False) + "\n"
        return write_bytes_atomic(Path(path), text.encode("utf-8"))
