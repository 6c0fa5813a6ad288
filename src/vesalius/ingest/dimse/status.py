"""DIMSE status codes Vesalius answers with (PS3.4 Annex B, C and PS3.7 Annex C).

Examples
--------
>>> hex(OUT_OF_RESOURCES), describe(CANNOT_UNDERSTAND)
('0xa700', 'failure: cannot understand (not a readable DICOM data set)')
"""

from __future__ import annotations

SUCCESS = 0x0000
PENDING = 0xFF00
CANCEL = 0xFE00
#: Refused: out of resources (disk below the configured floor, index unavailable).
OUT_OF_RESOURCES = 0xA700
#: Error: cannot understand (the data set cannot be parsed).
CANNOT_UNDERSTAND = 0xC000
#: Error: the data set's UIDs do not match the C-STORE request (wrong transfer syntax...).
DATASET_MISMATCH = 0xC001
#: Error: the store refused the instance (e.g. a study filed under another patient).
STORE_REFUSED = 0xC002
#: Error: anything unexpected while storing (logged with its traceback).
PROCESSING_FAILURE = 0xC003
#: C-FIND / C-MOVE / C-GET: identifier does not match the SOP class (bad level).
IDENTIFIER_MISMATCH = 0xA900
#: C-FIND / C-MOVE / C-GET: unable to process.
UNABLE_TO_PROCESS = 0xC000

_WORDS = {
    SUCCESS: "success",
    OUT_OF_RESOURCES: "failure: out of resources",
    CANNOT_UNDERSTAND: "failure: cannot understand (not a readable DICOM data set)",
    DATASET_MISMATCH: "failure: data set does not match the request",
    STORE_REFUSED: "failure: refused by the store",
    PROCESSING_FAILURE: "failure: processing failure",
    0xA702: "failure: sub-operations failed",
    0xA801: "failure: move destination unknown",
    0xA900: "failure: identifier does not match SOP class",
    0xB000: "warning: some sub-operations failed",
    CANCEL: "cancelled",
    PENDING: "pending",
}


def describe(status: int) -> str:
    """A few words for ``status``."""
    return _WORDS.get(status, f"status 0x{status:04X}")
