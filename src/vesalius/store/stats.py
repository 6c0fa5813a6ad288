"""How much the index holds: counts for status pages and the ``vesalius store`` command.

Examples
--------
>>> import tempfile, pathlib
>>> from vesalius.store import open_store, sqlite_url
>>> store = open_store(sqlite_url(pathlib.Path(tempfile.mkdtemp()) / "i.sqlite3"))
>>> with store.read_session() as s:
...     index_counts(s).rows()[:2]
[('patients', 0), ('studies', 0)]
>>> store.close()
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vesalius.store.jobs import count_by_state
from vesalius.store.models import Base, Instance, Patient, Report, Series, Study
from vesalius.store.states import JobState


@dataclass(frozen=True)
class IndexCounts:
    """Rows per table, and jobs per state."""

    patients: int
    studies: int
    series: int
    instances: int
    reports: int
    jobs: dict[JobState, int]

    def rows(self) -> list[tuple[str, int]]:
        """(label, count) pairs in display order."""
        tables = [
            ("patients", self.patients),
            ("studies", self.studies),
            ("series", self.series),
            ("instances", self.instances),
            ("reports", self.reports),
        ]
        return tables + [(f"jobs {state.value}", n) for state, n in self.jobs.items()]


def _count(session: Session, model: type[Base]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def index_counts(session: Session) -> IndexCounts:
    """Count what the index holds."""
    return IndexCounts(
        patients=_count(session, Patient),
        studies=_count(session, Study),
        series=_count(session, Series),
        instances=_count(session, Instance),
        reports=_count(session, Report),
        jobs=count_by_state(session),
    )
