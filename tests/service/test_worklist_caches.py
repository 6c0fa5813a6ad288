"""The worklist's fast paths: kept pages and group-committed audit events stay correct.

What a reading room would see go wrong: a claim not showing on the next refresh, a page
recomputed by every client at once, a read that is answered but never audited, or an
audit failure that is swallowed.
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, text

from tests.service.worklist_fixtures import NORMAL, SUSPICIOUS, Served, as_user, served
from tests.service.worklist_fixtures import test_authorize as authorize
from vesalius.errors import StoreError
from vesalius.reporting.worklist import WorklistQuery
from vesalius.service.auth.audit_log import GroupWriter, write, write_async
from vesalius.service.context import AppContext
from vesalius.service.worklist_api import PageCache
from vesalius.store.audit import AuditRecord
from vesalius.store.models import AuditEvent

__all__ = ["served"]

GREY = as_user("dr.grey")


def _reads(served: Served) -> int:
    with served.store.read_session() as s:
        stmt = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "read")
        return int(s.scalar(stmt) or 0)


def test_a_claim_is_visible_to_the_very_next_request(served: Served) -> None:
    assert len(served.client.get("/api/worklist", headers=GREY).json()["items"]) == 2
    claimed = served.client.post(f"/api/studies/{NORMAL}/claim", headers=as_user("dr.house"))
    assert claimed.status_code == 200
    unread = served.client.get("/api/worklist", headers=GREY).json()
    assert [i["study_uid"] for i in unread["items"]] == [SUSPICIOUS]
    mine = served.client.get("/api/worklist?status=claimed", headers=GREY).json()
    assert [(i["study_uid"], i["claimed_by"]) for i in mine["items"]] == [(NORMAL, "dr.house")]


def test_a_page_past_its_time_is_recomputed_by_one_request_while_others_get_it(
    served: Served,
) -> None:
    ctx = AppContext(served.store, served.blobs, authorize, extras={"events": served.hub})
    pages = PageCache(ctx, ttl_s=0.0)  # every kept page is past its time
    query = WorklistQuery()
    first = pages.get(query)
    assert pages.kept(query) is None  # this caller recomputes...
    assert pages.kept(query) == first  # ...the others meanwhile get the kept page
    assert pages.get(query) == first  # recomputed (nothing changed)
    assert pages.kept(query) is None  # the next one past its time recomputes again


def test_after_an_announced_change_nobody_gets_the_old_page(served: Served) -> None:
    ctx = AppContext(served.store, served.blobs, authorize, extras={"events": served.hub})
    pages = PageCache(ctx, ttl_s=0.0)
    query = WorklistQuery()
    pages.get(query)
    assert pages.kept(query) is None  # one caller starts recomputing
    served.hub.worklist(NORMAL, "claimed")
    assert pages.kept(query) is None  # a change: the others wait for the new page too


def test_a_page_is_served_as_the_json_it_was_computed_to(served: Served) -> None:
    answer = served.client.get("/api/worklist?limit=1", headers=GREY)
    assert answer.headers["content-type"] == "application/json"
    assert json.loads(answer.content) == {"total": 2, "items": [answer.json()["items"][0]]}
    assert served.client.get("/api/worklist?limit=0", headers=GREY).status_code == 422
    bad = served.client.get("/api/worklist?status=done", headers=GREY).json()
    assert bad["detail"][0]["loc"] == ["query", "status"]


def test_concurrent_reads_are_each_audited_before_their_answer(served: Served) -> None:
    before = _reads(served)

    def read(k: int) -> tuple[int, int]:
        answer = served.client.get("/api/worklist", headers=as_user(f"dr.{k}"))
        return answer.status_code, _reads(served)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(read, range(24)))
    assert all(code == 200 for code, _ in answers)
    assert all(seen > before for _, seen in answers)  # its own event was already there
    assert _reads(served) == before + 24


def test_an_audit_event_that_cannot_be_committed_fails_the_caller(served: Served) -> None:
    record = AuditRecord("dr.grey", "read", "worklist", "")
    with served.store.session() as s:
        s.execute(text("DROP TABLE audit_events"))
    with pytest.raises(Exception, match="audit_events"):
        write(served.store, record)
    with pytest.raises(Exception, match="audit_events"):
        asyncio.run(write_async(served.store, record))
    with pytest.raises(Exception, match="audit_events"):  # the server answers 500
        served.client.get("/api/worklist", headers=GREY)


def test_an_incomplete_audit_event_is_refused_before_it_is_queued(served: Served) -> None:
    writer = GroupWriter(served.store)
    with pytest.raises(StoreError, match="needs who, action and object type"):
        writer.submit(AuditRecord("", "read", "worklist", ""))
    writer.write(AuditRecord("dr.grey", "read", "worklist", ""))
    assert _reads(served) == 1
