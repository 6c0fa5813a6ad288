"""De-identification: DICOM PS3.15 Annex E Basic Application Level Confidentiality Profile.

The profile is driven by Table E.1-1 read from a CSV file the caller names
(:func:`load_profile_table`), compiled once per option set (:meth:`ProfileTable.compile`),
and applied per dataset (:func:`deidentify_dataset`) or per file tree
(:func:`deidentify_paths`). Replacement UIDs, pseudonyms and date shifts are keyed by a
secret (:class:`DeidKeys`), so a later batch with the same secret links up.

Examples
--------
>>> from vesalius.ingest.deid import DeidKeys, Option, ProfileRow, ProfileTable
>>> table = ProfileTable((ProfileRow("0020", "000D", "StudyInstanceUID", "U", ()),), source="x")
>>> profile = table.compile({Option.CLEAN_DESCRIPTORS})
>>> profile.rule_for(0x0020000D).op.value
'uid'
"""

from vesalius.ingest.deid.apply import InstanceActions, deidentify_dataset, patient_key
from vesalius.ingest.deid.batch import DeidJob, deidentify_file, deidentify_files, deidentify_paths
from vesalius.ingest.deid.burnin import burned_in_reason
from vesalius.ingest.deid.keys import DeidKeys, create_secret_file, read_secret_file
from vesalius.ingest.deid.profile import (
    CompiledProfile,
    Op,
    Option,
    ProfileRow,
    ProfileTable,
    Rule,
    load_profile_table,
)
from vesalius.ingest.deid.report import BatchReport, FileResult, Status

__all__ = [
    "BatchReport",
    "CompiledProfile",
    "DeidJob",
    "DeidKeys",
    "FileResult",
    "InstanceActions",
    "Op",
    "Option",
    "ProfileRow",
    "ProfileTable",
    "Rule",
    "Status",
    "burned_in_reason",
    "create_secret_file",
    "deidentify_dataset",
    "deidentify_file",
    "deidentify_files",
    "deidentify_paths",
    "load_profile_table",
    "patient_key",
    "read_secret_file",
]
