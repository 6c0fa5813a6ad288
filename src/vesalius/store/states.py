"""The states a job, a report and an audit outcome can be in.

Examples
--------
>>> JobState.QUEUED.value
'queued'
>>> ReportState("final") is ReportState.FINAL
True
"""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    """Life cycle of a job: ``queued -> running -> done | failed`` (failed may be retried)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ReportState(StrEnum):
    """Life cycle of a report: ``draft -> preliminary -> final -> amended``."""

    DRAFT = "draft"
    PRELIMINARY = "preliminary"
    FINAL = "final"
    AMENDED = "amended"


class AuditOutcome(StrEnum):
    """Whether an audited action succeeded (DICOM audit messages use the same idea)."""

    SUCCESS = "success"
    FAILURE = "failure"


class DuplicatePolicy(StrEnum):
    """What to do when an instance arrives whose SOP Instance UID is already stored."""

    KEEP_FIRST = "keep-first"
    REPLACE = "replace"
