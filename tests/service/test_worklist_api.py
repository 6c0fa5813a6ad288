"""The worklist API as a reading room uses it: the list, a study, claims, live events."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from tests.reporting.factory import add_study
from tests.service.worklist_fixtures import (
    NORMAL,
    SUSPICIOUS,
    Served,
    as_user,
    served,
    test_authorize,
)
from vesalius.reporting.worklist import WorklistQuery, claim
from vesalius.service.context import AppContext
from vesalius.service.worklist_api import PageCache
from vesalius.store.audit import events_by
from vesalius.store.models import AuditEvent
from vesalius.store.states import AuditOutcome
from vesalius.store.types import utc_now

__all__ = ["served"]

GREY = as_user("dr.grey")


def test_worklist_lists_the_suspicious_study_first_with_reasons(served: Served) -> None:
    answer = served.client.get("/api/worklist", headers=as_user("dr.grey"))
    assert answer.status_code == 200
    body = answer.json()
    assert body["total"] == 2
    first, second = body["items"]
    assert (first["study_uid"], second["study_uid"]) == (SUSPICIOUS, NORMAL)
    assert first["priority"]["level"] == "critical"
    assert first["priority"]["reasons"][0] == "Lung-RADS 4B nodule (very suspicious)"
    assert first["patient_name"] == "Smith^Sam"
    assert first["report"]["state"] == "draft"
    assert first["claimed_by"] is None
    with served.store.read_session() as s:
        [event] = events_by(s, "dr.grey")
    assert (event.action, event.object_type, event.source) == ("read", "worklist", "10.0.0.9")


def test_worklist_needs_a_signed_in_caller_and_valid_filters(served: Served) -> None:
    assert served.client.get("/api/worklist").status_code == 401
    bad = served.client.get("/api/worklist?sort=name", headers=as_user("dr.grey"))
    assert bad.status_code == 422
    only_mr = served.client.get("/api/worklist?modality=MR", headers=as_user("dr.grey"))
    assert only_mr.json() == {"total": 0, "items": []}


def test_study_view_has_series_findings_and_viewer_links(served: Served) -> None:
    answer = served.client.get(f"/api/studies/{SUSPICIOUS}", headers=as_user("tech", "viewer"))
    assert answer.status_code == 200
    body = answer.json()
    assert body["study"]["study_uid"] == SUSPICIOUS
    assert body["series"] == [
        {"series_uid": f"{SUSPICIOUS}.1", "modality": "CT", "description": None, "n_instances": 1}
    ]
    nodule = body["findings"][0]
    assert nodule["type"] == "Lung nodule"
    assert nodule["categories"] == [{"scheme": "Lung-RADS", "value": "4B"}]
    assert nodule["algorithm"] == "vesalius.chest-ct.nodules 0.3.0"
    assert nodule["ai"] is True
    assert nodule["location"] == "right Lung"
    assert nodule["viewer_url"] == (
        f"/viewer?StudyInstanceUIDs={SUSPICIOUS}&SeriesInstanceUIDs={SUSPICIOUS}.1"
    )
    assert nodule["feedback"] is None
    missing = served.client.get("/api/studies/9.9.9", headers=as_user("dr.grey"))
    assert missing.status_code == 404
    with served.store.read_session() as s:
        failed = s.scalars(select(AuditEvent).where(AuditEvent.object_id == "9.9.9")).one()
    assert failed.outcome is AuditOutcome.FAILURE


def test_two_radiologists_claiming_at_once_exactly_one_wins(served: Served) -> None:
    start = threading.Barrier(6)

    def attempt(k: int) -> int:
        start.wait()
        url = f"/api/studies/{SUSPICIOUS}/claim"
        return served.client.post(url, headers=as_user(f"dr.{k}")).status_code

    with ThreadPoolExecutor(6) as pool:
        codes = sorted(pool.map(attempt, range(6)))
    assert codes == [200, 409, 409, 409, 409, 409]
    claimed = served.client.get("/api/worklist?status=claimed", headers=as_user("dr.0"))
    assert [i["study_uid"] for i in claimed.json()["items"]] == [SUSPICIOUS]
    unread = served.client.get("/api/worklist", headers=as_user("dr.0"))
    assert [i["study_uid"] for i in unread.json()["items"]] == [NORMAL]


def test_release_by_the_holder_or_an_admin_only(served: Served) -> None:
    url = f"/api/studies/{NORMAL}"
    assert served.client.post(f"{url}/claim", headers=as_user("dr.grey")).status_code == 200
    again = served.client.post(f"{url}/claim", headers=as_user("dr.house"))
    assert (again.status_code, again.json()["detail"]) == (
        409,
        f"study {NORMAL} is being read by dr.grey",
    )
    other = served.client.post(f"{url}/release", headers=as_user("dr.house"))
    assert other.status_code == 403
    viewer = served.client.post(f"{url}/claim", headers=as_user("student", "viewer"))
    assert viewer.status_code == 403
    admin = served.client.post(f"{url}/release", headers=as_user("root", "admin"))
    assert (admin.status_code, admin.json()["claimed_by"]) == (200, None)
    mine = served.client.post(f"{url}/claim", headers=as_user("dr.house"))
    assert mine.json()["claimed_by"] == "dr.house"
    done = served.client.post(f"{url}/release", headers=as_user("dr.house"))
    assert done.json()["claimed_by"] is None


def test_claims_and_releases_are_announced_as_events(served: Served) -> None:
    url = f"/api/studies/{NORMAL}"
    served.client.post(f"{url}/claim", headers=as_user("dr.grey"))
    served.client.post(f"{url}/release", headers=as_user("dr.grey"))
    served.hub.close()  # ends the stream, so that the test can read it to the end
    answer = served.client.get("/api/events", headers={**as_user("dr.grey"), "Last-Event-ID": "0"})
    assert answer.headers["content-type"].startswith("text/event-stream")
    assert answer.text.count("event: worklist") == 2
    assert f'data: {{"study_uid": "{NORMAL}", "what": "claimed"}}' in answer.text
    assert "id: 2\nevent: worklist" in answer.text
    after = served.client.get("/api/events", headers={**as_user("dr.grey"), "Last-Event-ID": "1"})
    assert after.text.count("event: worklist") == 1


def test_pages_are_shared_until_the_worklist_changes(served: Served) -> None:
    """Open worklists share one computed page; any announced change is seen at once."""
    ctx = AppContext(served.store, served.blobs, test_authorize, extras={"events": served.hub})
    pages = PageCache(ctx, ttl_s=3600.0)
    query = WorklistQuery()
    first = pages.get(query)
    with served.store.session() as s:  # a change that was not announced (no event)
        claim(s, NORMAL, "dr.quiet", now=utc_now())
    assert pages.get(query) == first
    served.hub.worklist(NORMAL, "claimed")
    body, shown = pages.get(query)
    assert shown == 1
    assert [i["study_uid"] for i in json.loads(body)["items"]] == [SUSPICIOUS]


def test_every_worklist_request_is_audited(served: Served) -> None:
    for _ in range(3):
        served.client.get("/api/worklist", headers=GREY)
    with served.store.read_session() as s:
        reads = [e for e in events_by(s, "dr.grey") if e.object_type == "worklist"]
    assert len(reads) == 3


def test_a_study_not_triaged_yet_can_still_be_opened_and_claimed(served: Served) -> None:
    add_study(served.store, served.blobs, "1.2.826.0.1.9.6.3", patient_id="P3")
    view = served.client.get("/api/studies/1.2.826.0.1.9.6.3", headers=GREY).json()
    assert view["study"]["priority"]["reasons"][0] == "not triaged yet"
    assert view["study"]["report"] is None
    claimed = served.client.post("/api/studies/1.2.826.0.1.9.6.3/claim", headers=GREY)
    assert claimed.json()["claimed_by"] == "dr.grey"
    listed = served.client.get("/api/worklist?status=all", headers=GREY).json()
    assert listed["total"] == 2  # the worklist lists triaged studies only
