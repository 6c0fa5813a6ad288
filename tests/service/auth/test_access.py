"""Who may reach what: what a user (or an attacker) would see if access control slipped.

Every route of the application's OpenAPI schema but ``/health`` and ``/api/login`` refuses
a caller without credentials; each role reaches what its job needs and nothing else; a
browser session needs its CSRF token to change anything; sessions end (logout, expiry);
failures and patient-data reads land in the audit trail with the caller's address.
"""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.service.auth.accounts import PASSWORD, Account
from vesalius.service.auth.gate import SESSION_COOKIE
from vesalius.store import Store
from vesalius.store.models import AuditEvent
from vesalius.store.roles import Role
from vesalius.store.types import utc_now
from vesalius.store.users import UserSession

OPEN = {("get", "/health"), ("post", "/api/login")}
STUDY = "1.2.826.0.1.3680043.8.498.1"


def _schema_operations(app: FastAPI) -> list[tuple[str, str]]:
    paths = app.openapi()["paths"]
    return sorted((method, path) for path, ops in paths.items() for method in ops)


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_route_but_health_and_login_refuses_anonymous_callers(
    client: TestClient, accounts: dict[Role, Account]
) -> None:
    """No credentials, a wrong token or wrong Basic password: 401 on every other route."""
    operations = _schema_operations(client.app)  # type: ignore[arg-type]
    assert ("get", "/api/worklist") in operations  # the schema has the routers' routes
    assert ("post", "/api/reports/{report_id}/sign") in operations
    checked = 0
    for method, path in operations:
        if (method, path) in OPEN:
            continue
        url = _concrete(path)
        answer = client.request(method.upper(), url)
        assert answer.status_code == 401, (method, path, answer.text)
        # a wrong API token: 401, then 429 once this address has sent too many
        answer = client.request(method.upper(), url, headers={"Authorization": "Bearer nope"})
        assert answer.status_code in (401, 429), (method, path, answer.text)
        # wrong Basic passwords: 401, then 429 once this address has failed too often
        guess = client.request(method.upper(), url, auth=("test-viewer", "guessed wrong"))
        assert guess.status_code in (401, 429), (method, path, guess.text)
        checked += 1
    assert checked >= 30
    assert client.get("/health").status_code == 200


def test_pages_send_an_anonymous_browser_to_the_login_page(client: TestClient) -> None:
    for page in ("/", "/admin", f"/studies/{STUDY}"):
        answer = client.get(page, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login")


# What each role may do, written from the issue (not from the policy table it checks).
MATRIX: list[tuple[str, str, set[Role]]] = [
    ("GET", "/dicom-web/studies", set(Role)),
    ("POST", "/dicom-web/studies", {Role.TECHNOLOGIST, Role.SERVICE}),
    ("GET", "/api/worklist", set(Role)),
    (
        "GET",
        f"/api/studies/{STUDY}/report",
        {Role.ADMIN, Role.RADIOLOGIST, Role.TECHNOLOGIST, Role.VIEWER},
    ),
    ("POST", f"/api/studies/{STUDY}/claim", {Role.ADMIN, Role.RADIOLOGIST}),
    ("PUT", "/api/reports/1/text", {Role.ADMIN, Role.RADIOLOGIST}),
    ("POST", "/api/reports/1/sign", {Role.RADIOLOGIST}),
    ("POST", "/api/reports/1/amend", {Role.RADIOLOGIST}),
    ("POST", f"/api/studies/{STUDY}/exports", {Role.ADMIN, Role.RADIOLOGIST}),
    ("GET", "/api/users", {Role.ADMIN}),
    ("PATCH", "/api/users/nobody", {Role.ADMIN}),
    ("GET", "/api/audit", {Role.ADMIN}),
]


def test_each_role_reaches_what_its_job_needs_and_nothing_else(
    client: TestClient, accounts: dict[Role, Account]
) -> None:
    """Allowed roles get past access control (the route may still say 404/409/422); others 403."""
    bodies = {"PUT": {"text": "x"}, "PATCH": {"full_name": "x"}, "POST": {"text": "x", "to": "pdf"}}
    for method, url, allowed in MATRIX:
        for role, account in accounts.items():
            answer = client.request(method, url, headers=account.bearer, json=bodies.get(method))
            if role in allowed:
                assert answer.status_code not in (401, 403), (method, url, role, answer.text)
            else:
                assert answer.status_code == 403, (method, url, role, answer.text)


def _login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    answer = client.post("/api/login", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["csrf_token"])


def test_a_browser_session_needs_its_csrf_token_to_change_anything(
    client: TestClient, accounts: dict[Role, Account]
) -> None:
    csrf = _login(client, accounts[Role.RADIOLOGIST].username)
    assert client.get("/api/worklist").status_code == 200  # reads need no token
    claim = f"/api/studies/{STUDY}/claim"
    assert client.post(claim).status_code == 403
    assert client.post(claim, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert client.post(claim, headers={"X-CSRF-Token": csrf}).status_code == 404  # no study
    # a token-authenticated machine is not a browser: no CSRF token needed
    bearer = accounts[Role.RADIOLOGIST].bearer
    client.cookies.clear()
    assert client.post(claim, headers=bearer).status_code == 404


def test_login_sets_a_strict_http_only_cookie_secure_over_https(
    app: FastAPI, accounts: dict[Role, Account]
) -> None:
    with TestClient(app, base_url="https://vesalius.example") as client:
        answer = client.post("/api/login", json={"username": "test-viewer", "password": PASSWORD})
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    for attribute in ("HttpOnly", "SameSite=strict", "Path=/", "Secure"):
        assert attribute.lower() in cookie.lower()
    body = answer.json()
    assert body["user"] == {"username": "test-viewer", "full_name": "Test viewer", "role": "viewer"}
    with TestClient(app) as plain:
        cookie = plain.post(
            "/api/login", json={"username": "test-viewer", "password": PASSWORD}
        ).headers["set-cookie"]
    assert "secure" not in cookie.lower()


def test_logout_ends_the_session_even_for_a_kept_cookie(
    client: TestClient, accounts: dict[Role, Account]
) -> None:
    csrf = _login(client, "test-viewer")
    token = client.cookies[SESSION_COOKIE]
    assert client.get("/api/session").json()["csrf_token"] == csrf
    assert client.post("/api/logout").status_code == 403  # CSRF applies to logout too
    assert client.post("/api/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/session").status_code == 401
    client.cookies.set(SESSION_COOKIE, token)  # a copy of the old cookie is worthless
    assert client.get("/api/worklist").status_code == 401


def test_an_idle_session_expires(
    client: TestClient, store: Store, accounts: dict[Role, Account]
) -> None:
    _login(client, "test-viewer")
    assert client.get("/api/worklist").status_code == 200
    with store.session() as session:
        session.execute(update(UserSession).values(expires_at=utc_now() - timedelta(seconds=1)))
    assert client.get("/api/worklist").status_code == 401
    assert client.get("/api/session").status_code == 401
    with store.read_session() as session:  # the expired session is gone from the table
        assert session.scalars(select(UserSession)).all() == []


def _events(store: Store, **where: str) -> list[AuditEvent]:
    stmt = select(AuditEvent).order_by(AuditEvent.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(AuditEvent, name) == value)
    with store.read_session() as session:
        return list(session.scalars(stmt))


def test_wrong_passwords_get_one_answer_are_audited_and_throttled(
    client: TestClient, store: Store, accounts: dict[Role, Account]
) -> None:
    unknown = client.post("/api/login", json={"username": "nobody", "password": "guess1234"})
    wrong = client.post("/api/login", json={"username": "test-viewer", "password": "guess1234"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    failed = _events(store, action="login", outcome="failure")
    assert [(e.who, e.source) for e in failed] == [
        ("nobody", "testclient"),
        ("test-viewer", "testclient"),
    ]
    for _ in range(4):
        client.post("/api/login", json={"username": "test-viewer", "password": "guess1234"})
    # five failures: even the right password waits now, and says so
    throttled = client.post("/api/login", json={"username": "test-viewer", "password": PASSWORD})
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) > 0
    # HTTP Basic is throttled per address and account pair: the form's lock does not apply
    assert client.get("/api/worklist", auth=("test-viewer", PASSWORD)).status_code == 200
    # another user is not locked out by someone guessing test-viewer's password
    assert (
        client.post("/api/login", json={"username": "test-admin", "password": PASSWORD}).status_code
        == 200
    )


def test_reads_and_refusals_are_audited_with_the_source_address(
    client: TestClient, store: Store, accounts: dict[Role, Account]
) -> None:
    viewer = accounts[Role.VIEWER]
    client.get(f"/dicom-web/studies/{STUDY}/metadata", headers=viewer.bearer)
    client.get("/api/users", headers=viewer.bearer)  # 403
    (read,) = _events(store, who=viewer.username, action="read")
    assert (read.object_type, read.object_id, read.source, read.outcome.value) == (
        "study",
        STUDY,
        "testclient",
        "success",
    )
    (refused,) = _events(store, who=viewer.username, action="access")
    assert refused.outcome.value == "failure"
    assert refused.object_id == "GET /api/users"
    # and the administrator sees both in the audit log, newest first
    admin = accounts[Role.ADMIN]
    items = client.get(f"/api/audit?who={viewer.username}", headers=admin.bearer).json()["items"]
    assert [i["action"] for i in items] == ["access", "read"]
    assert items[1]["source"] == "testclient"
    older = client.get(
        f"/api/audit?who={viewer.username}&before_id={items[0]['id']}", headers=admin.bearer
    ).json()["items"]
    assert [i["action"] for i in older] == ["read"]


def test_basic_and_bearer_callers_are_who_they_say(
    client: TestClient, accounts: dict[Role, Account]
) -> None:
    scanner = accounts[Role.SERVICE]
    assert client.get("/dicom-web/studies", auth=scanner.basic).status_code == 200
    assert (
        client.get("/dicom-web/studies", auth=(scanner.username, "wrong password")).status_code
        == 401
    )
    assert (
        client.get("/dicom-web/studies", headers={"Authorization": "Digest x"}).status_code == 401
    )
    assert client.get("/api/users", auth=accounts[Role.ADMIN].basic).status_code == 200


def test_the_api_schema_and_its_page_are_for_signed_in_users(
    client: TestClient, accounts: dict[Role, Account]
) -> None:
    for path in ("/openapi.json", "/api/docs"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers=accounts[Role.VIEWER].bearer).status_code == 200


def test_signed_in_reads_do_not_queue_behind_a_writer(
    client: TestClient, store: Store, accounts: dict[Role, Account]
) -> None:
    """A viewer's repeated search answers while an ingest holds the index's write lock."""
    viewer = accounts[Role.VIEWER]
    _login(client, viewer.username)
    assert client.get("/dicom-web/studies?PatientID=P1").status_code == 200  # use recorded
    assert client.get("/dicom-web/studies?PatientID=P1", headers=viewer.bearer).status_code == 200
    with store.session() as writer:  # BEGIN IMMEDIATE: the write lock, held
        writer.add(AuditEvent(who="ingest", action="store", object_type="study", object_id="1"))
        writer.flush()
        assert client.get("/dicom-web/studies?PatientID=P1").status_code == 200
        search = client.get("/dicom-web/studies?PatientID=P1", headers=viewer.bearer)
        assert search.status_code == 200


def test_guessing_api_tokens_is_slowed_and_does_not_fill_the_audit_log(
    client: TestClient, accounts: dict[Role, Account]
) -> None:
    """A script trying tokens forever, each try written to the audit log, valid ones blocked."""
    admin, viewer = accounts[Role.ADMIN], accounts[Role.VIEWER]

    def refusals() -> int:
        query = "/api/audit?who=anonymous&action=access&limit=500"
        items = client.get(query, headers=admin.bearer).json()["items"]
        return sum("API token" in (item["detail"] or "") for item in items)

    before = refusals()
    codes = [
        client.get("/api/worklist", headers={"Authorization": f"Bearer guess{n}"}).status_code
        for n in range(60)
    ]
    assert set(codes) <= {401, 429}
    assert codes[-1] == 429
    assert refusals() - before == codes.count(401) <= 20
    assert client.get("/api/worklist", headers=viewer.bearer).status_code == 200
