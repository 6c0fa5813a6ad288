"""User administration over HTTP, as the admin page does it (cookie session and CSRF token)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.service.auth.accounts import PASSWORD, Account
from vesalius.store import Store
from vesalius.store.audit import events_for
from vesalius.store.roles import Role

NEW = {"username": "dr.house", "full_name": "G. House", "role": "radiologist", "password": "x" * 12}


def _admin_session(client: TestClient) -> dict[str, str]:
    answer = client.post("/api/login", json={"username": "test-admin", "password": PASSWORD})
    return {"X-CSRF-Token": answer.json()["csrf_token"]}


def test_an_admin_adds_changes_and_disables_a_user(
    client: TestClient, store: Store, accounts: dict[Role, Account]
) -> None:
    csrf = _admin_session(client)
    assert client.post("/api/users", json=NEW, headers=csrf).status_code == 201
    assert client.post("/api/users", json=NEW, headers=csrf).status_code == 409
    short = client.post(
        "/api/users", json={**NEW, "username": "x.y", "password": "short"}, headers=csrf
    )
    assert short.status_code == 422
    assert "at least 10" in short.json()["detail"]
    listed = {u["username"]: u for u in client.get("/api/users").json()["items"]}
    assert listed["dr.house"]["role"] == "radiologist"
    assert "password" not in listed["dr.house"]
    assert "password_hash" not in listed["dr.house"]
    with TestClient(client.app) as house:  # type: ignore[arg-type]
        login = {"username": "dr.house", "password": NEW["password"]}
        assert house.post("/api/login", json=login).status_code == 200
        changed = client.patch("/api/users/dr.house", json={"role": "viewer"}, headers=csrf)
        assert changed.json()["role"] == "viewer"
        assert house.get("/api/session").json()["user"]["role"] == "viewer"  # at once
        assert (
            client.patch("/api/users/dr.house", json={"active": False}, headers=csrf).json()[
                "active"
            ]
            is False
        )
        assert house.get("/api/session").status_code == 401  # signed out with the account
    assert (
        client.patch("/api/users/nobody", json={"role": "viewer"}, headers=csrf).status_code == 404
    )
    with store.read_session() as session:
        done = [(e.who, e.action, e.detail) for e in events_for(session, "user", "dr.house")]
    assert done[0] == ("test-admin", "create", "role=radiologist")
    assert ("test-admin", "update", "role=viewer") in done
    assert all(NEW["password"] not in (detail or "") for _, _, detail in done)


def test_an_admin_cannot_lock_themselves_out(
    client: TestClient, accounts: dict[Role, Account]
) -> None:
    csrf = _admin_session(client)
    for change in ({"active": False}, {"role": "viewer"}):
        answer = client.patch("/api/users/test-admin", json=change, headers=csrf)
        assert answer.status_code == 409
    assert client.get("/api/users").status_code == 200
