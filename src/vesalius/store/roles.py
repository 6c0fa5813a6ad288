"""Roles and what each may do.

A user has one :class:`Role`; a route asks for one :class:`Permission`. The table
:data:`ROLE_PERMISSIONS` is the whole policy, in one place, so that a reviewer can read it:

- ``admin`` manages users and reads the audit log, and may do what a radiologist does
  except sign (an administrator account is not a reading physician);
- ``radiologist`` reads studies, claims them, edits, signs and amends reports, exports;
- ``technologist`` reads studies and the worklist, sends and stores images, cannot report;
- ``viewer`` reads studies, the worklist and reports, changes nothing;
- ``service`` is for machines (a modality's STOW-RS, a script): stores and reads images.

Examples
--------
>>> Permission.SIGN_REPORT in ROLE_PERMISSIONS[Role.RADIOLOGIST]
True
>>> Permission.SIGN_REPORT in ROLE_PERMISSIONS[Role.ADMIN]
False
>>> may(Role("viewer"), Permission.EDIT_REPORT)
False
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """The role of a user account."""

    ADMIN = "admin"
    RADIOLOGIST = "radiologist"
    TECHNOLOGIST = "technologist"
    VIEWER = "viewer"
    SERVICE = "service"


class Permission(StrEnum):
    """One thing a route may need the caller to be allowed to do."""

    READ_STUDIES = "read-studies"
    """Read images (DICOMweb QIDO/WADO), findings and the worklist."""
    STORE_INSTANCES = "store-instances"
    """Store instances (STOW-RS)."""
    CLAIM_STUDY = "claim-study"
    """Claim or release a study on the worklist."""
    READ_REPORTS = "read-reports"
    """Read reports and their history."""
    EDIT_REPORT = "edit-report"
    """Edit a draft or preliminary report, give feedback on findings."""
    SIGN_REPORT = "sign-report"
    """Sign (finalize) or amend a report."""
    EXPORT = "export"
    """Export a study's results (SEG, SR, FHIR, PDF, meshes)."""
    MANAGE_USERS = "manage-users"
    """Add, change and deactivate user accounts."""
    READ_AUDIT = "read-audit"
    """Read the audit log."""


_READ = {Permission.READ_STUDIES, Permission.READ_REPORTS}
_REPORTING = _READ | {
    Permission.CLAIM_STUDY,
    Permission.EDIT_REPORT,
    Permission.EXPORT,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(_REPORTING | {Permission.MANAGE_USERS, Permission.READ_AUDIT}),
    Role.RADIOLOGIST: frozenset(_REPORTING | {Permission.SIGN_REPORT}),
    Role.TECHNOLOGIST: frozenset(_READ | {Permission.STORE_INSTANCES}),
    Role.VIEWER: frozenset(_READ),
    Role.SERVICE: frozenset({Permission.READ_STUDIES, Permission.STORE_INSTANCES}),
}
"""What each role may do."""


def may(role: Role, permission: Permission) -> bool:
    """Whether ``role`` has ``permission``."""
    return permission in ROLE_PERMISSIONS[role]
