"""Password guessing and reverse proxies: what an attacker, a PACS or an auditor would see.

- N guesses sent at once count N: a burst does not slip through while the first ones are
  still being verified.
- A stranger guessing a service account's password over HTTP Basic is throttled without
  locking the PACS (signed in as that account from its own address) out.
- Behind a trusted reverse proxy the audit trail and throttling see the real client and
  cookies are ``Secure`` when the client used https; from anyone else the forwarded headers
  are ignored, so nobody picks the address they are audited and throttled under.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.service.auth.accounts import PASSWORD, Account
from tests.service.auth.conftest import make_app
from vesalius.errors import ConfigError
from vesalius.settings import load_settings
from vesalius.store import Store
from vesalius.store.models import AuditEvent
from vesalius.store.roles import Role

PROXY = ("10.0.0.2", 40000)
WRONG = {"username": "test-viewer", "password": "guess1234"}


def _failed_login_sources(store: Store) -> list[str]:
    stmt = (
        select(AuditEvent.source)
        .where(AuditEvent.action == "login", AuditEvent.outcome == "failure")
        .order_by(AuditEvent.id)
    )
    with store.read_session() as session:
        return list(session.scalars(stmt))


async def _guess_at_once(app: FastAPI, count: int) -> list[int]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.5", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://vesalius") as client:
        answers = await asyncio.gather(
            *(client.post("/api/login", json=WRONG) for _ in range(count))
        )
    return [answer.status_code for answer in answers]


def test_forty_parallel_guesses_get_only_the_limit_through(
    app: FastAPI, accounts: dict[Role, Account]
) -> None:
    codes = asyncio.run(_guess_at_once(app, 40))
    assert codes.count(401) == 5, codes  # the per-account limit, not "however many raced"
    assert codes.count(429) == 35


def test_a_stranger_guessing_the_pacs_password_does_not_lock_the_pacs_out(
    app: FastAPI, accounts: dict[Role, Account]
) -> None:
    with TestClient(app, client=("198.51.100.66", 1)) as stranger:
        codes = [
            stranger.get("/dicom-web/studies", auth=("test-service", f"guess{n}")).status_code
            for n in range(12)
        ]
    assert codes[:5] == [401] * 5
    assert set(codes[5:]) == {429}  # the stranger waits ...
    with TestClient(app, client=("10.20.0.5", 1)) as pacs:  # ... the PACS does not
        answer = pacs.get("/dicom-web/studies", auth=("test-service", PASSWORD))
    assert answer.status_code == 200


@pytest.fixture
def proxied_app(store: Store, tmp_path: Path) -> FastAPI:
    return make_app(store, tmp_path, trusted_proxies=("10.0.0.0/24",))


def test_behind_a_trusted_proxy_the_real_client_is_audited_and_gets_a_secure_cookie(
    proxied_app: FastAPI, store: Store, accounts: dict[Role, Account]
) -> None:
    forwarded = {"X-Forwarded-For": "6.6.6.6, 198.51.100.7", "X-Forwarded-Proto": "https"}
    with TestClient(proxied_app, client=PROXY) as client:
        assert client.post("/api/login", json=WRONG, headers=forwarded).status_code == 401
        right = {"username": "test-viewer", "password": PASSWORD}
        answer = client.post("/api/login", json=right, headers=forwarded)
    assert answer.status_code == 200
    assert "secure" in answer.headers["set-cookie"].lower()
    # the rightmost address the proxy did not vouch for; "6.6.6.6" was the client's own claim
    assert _failed_login_sources(store) == ["198.51.100.7"]


def test_forwarded_headers_from_anyone_else_are_ignored(
    app: FastAPI, proxied_app: FastAPI, store: Store, accounts: dict[Role, Account]
) -> None:
    spoofed = {"X-Forwarded-For": "192.0.2.1", "X-Forwarded-Proto": "https"}
    with TestClient(proxied_app, client=("203.0.113.9", 1)) as outsider:
        outsider.post("/api/login", json=WRONG, headers=spoofed)
        login = {"username": "test-admin", "password": PASSWORD}
        cookie = outsider.post("/api/login", json=login, headers=spoofed).headers["set-cookie"]
    assert "secure" not in cookie.lower()
    with TestClient(app, client=("127.0.0.1", 1)) as unconfigured:  # no trusted_proxies
        unconfigured.post("/api/login", json=WRONG, headers=spoofed)
    assert _failed_login_sources(store) == ["203.0.113.9", "127.0.0.1"]


def test_throttling_behind_the_proxy_is_per_real_client(
    proxied_app: FastAPI, accounts: dict[Role, Account]
) -> None:
    def guess(client: TestClient, address: str, username: str) -> int:
        body = {"username": username, "password": "guess1234"}
        headers = {"X-Forwarded-For": address}
        return client.post("/api/login", json=body, headers=headers).status_code

    with TestClient(proxied_app, client=PROXY) as client:
        codes = [guess(client, "198.51.100.7", f"name{n}") for n in range(21)]
        assert codes[:20] == [401] * 20
        assert codes[20] == 429  # that client has guessed too often ...
        assert guess(client, "198.51.100.8", "name0") == 401  # ... not everyone behind the proxy


def test_a_trusted_proxy_that_is_not_an_address_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "vesalius.toml"
    path.write_text('trusted_proxies = ["10.0.0.2", "the-proxy"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="the-proxy"):
        load_settings(path)
    path.write_text('trusted_proxies = ["10.0.0.0/24"]\n', encoding="utf-8")
    assert load_settings(path).trusted_proxies == ("10.0.0.0/24",)
