"""Remembered sign-ins: a caller is looked up once, but a change to access is seen at once.

The gate trusts a looked-up session or API token for a few seconds. What a user would see
go wrong if that memory were stale: a disabled colleague still reading the worklist, a
demoted user still claiming studies, a signed-out browser still in.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.service.auth.accounts import PASSWORD, Account
from vesalius.service.auth.gate import Gate, LookupMemory
from vesalius.store import Store
from vesalius.store.roles import Role
from vesalius.store.users import deactivate, revoke_tokens, set_role

MISSING_STUDY = "1.2.826.0.1.3680043.8.498.404"


def _gate(client: TestClient) -> Gate:
    gate = client.app.state.context.authorize  # type: ignore[attr-defined]
    assert isinstance(gate, Gate)
    return gate


def test_a_disabled_users_token_is_refused_by_the_next_request(
    client: TestClient, store: Store, accounts: dict[Role, Account]
) -> None:
    grey = accounts[Role.RADIOLOGIST]
    for _ in range(2):  # the second is answered from memory
        assert client.get("/api/worklist", headers=grey.bearer).status_code == 200
    with store.session() as session:
        deactivate(session, grey.username)
    assert client.get("/api/worklist", headers=grey.bearer).status_code == 401


def test_a_revoked_token_is_refused_by_the_next_request(
    client: TestClient, store: Store, accounts: dict[Role, Account]
) -> None:
    scanner = accounts[Role.SERVICE]
    assert client.get("/api/worklist", headers=scanner.bearer).status_code == 200
    with store.session() as session:
        assert revoke_tokens(session, scanner.username) == 1
    assert client.get("/api/worklist", headers=scanner.bearer).status_code == 401


def test_a_new_role_applies_to_the_next_request(
    client: TestClient, store: Store, accounts: dict[Role, Account]
) -> None:
    grey = accounts[Role.RADIOLOGIST]
    claim = f"/api/studies/{MISSING_STUDY}/claim"
    assert client.post(claim, headers=grey.bearer).status_code == 404  # may claim: no study
    with store.session() as session:
        set_role(session, grey.username, Role.VIEWER)
    assert client.post(claim, headers=grey.bearer).status_code == 403


def test_signing_out_ends_the_remembered_session(
    client: TestClient, accounts: dict[Role, Account]
) -> None:
    username = accounts[Role.RADIOLOGIST].username
    answer = client.post("/api/login", json={"username": username, "password": PASSWORD})
    csrf = answer.json()["csrf_token"]
    assert client.get("/api/worklist").status_code == 200
    assert client.get("/api/worklist").status_code == 200
    assert client.post("/api/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    client.cookies.clear()  # what a browser holding on to the old cookie would send:
    client.cookies.set("vesalius_session", answer.cookies["vesalius_session"])
    assert client.get("/api/worklist").status_code == 401


def test_a_change_from_another_process_is_seen_once_the_memory_lapses(
    client: TestClient, store: Store, accounts: dict[Role, Account]
) -> None:
    """A raw UPDATE, as the ``vesalius user`` command in another process would commit."""
    now = [1000.0]
    gate = _gate(client)
    gate.lookups = LookupMemory(4.0, clock=lambda: now[0])
    grey = accounts[Role.RADIOLOGIST]
    assert client.get("/api/worklist", headers=grey.bearer).status_code == 200
    with store.engine.begin() as connection:  # no ORM session: this process is not told
        connection.execute(
            text("UPDATE users SET active = false WHERE username = 'test-radiologist'")
        )
    assert client.get("/api/worklist", headers=grey.bearer).status_code == 200  # remembered
    now[0] += 4.0
    assert client.get("/api/worklist", headers=grey.bearer).status_code == 401


def test_unknown_tokens_are_never_remembered(
    client: TestClient, accounts: dict[Role, Account]
) -> None:
    gate = _gate(client)
    for _ in range(2):
        answer = client.get("/api/worklist", headers={"Authorization": "Bearer vst_made_up"})
        assert answer.status_code == 401
    assert gate.lookups.recall("token:" + "0" * 64) is None
