"""Fuzzing the HTTP API from its OpenAPI schema: no input an administrator can send is a 500.

Schemathesis generates requests for every operation of the application's schema (all the
routers the service ships) and sends them through the ASGI transport with an administrator's
API token, so that each gets past access control into the route code. A 5xx is a bug the
user would see as "Internal Server Error" with nothing to act on. The number of examples
per operation is bounded and the generation is derandomized, so the test is repeatable.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.service.auth.accounts import make_account
from tests.service.auth.apps import ALL_ROUTERS
from vesalius.service.app import create_app
from vesalius.settings import Settings
from vesalius.store import BlobStore, open_store, sqlite_url
from vesalius.store.roles import Role

EXAMPLES = 8
"""Examples per operation."""
STREAMS = {"/api/events"}
"""Operations that never end by design (Server-Sent Events); not fuzzed."""


@pytest.mark.slow
def test_no_generated_request_gets_a_server_error(tmp_path: Path) -> None:
    store = open_store(sqlite_url(tmp_path / "index.sqlite3"))
    try:
        app = create_app(
            store,
            BlobStore(tmp_path / "blobs"),
            min_free_bytes=0,
            settings=Settings(data_dir=tmp_path),
            routers=ALL_ROUTERS,
        )
        admin = make_account(store, Role.ADMIN)
        schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=admin.bearer)
        operations = [
            result.ok() for result in schema.get_all_operations() if result.ok().path not in STREAMS
        ]
        assert len(operations) >= 30
        errors: list[str] = []
        statuses: list[tuple[str, int]] = []

        @settings(
            max_examples=EXAMPLES * len(operations),
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(data=st.data())
        def fuzz(data: st.DataObject) -> None:
            operation = data.draw(st.sampled_from(operations))
            case = data.draw(operation.as_strategy())
            response = case.call(headers=admin.bearer)
            statuses.append((operation.path, response.status_code))
            if response.status_code >= 500:
                errors.append(f"{case.method} {case.formatted_path}: {response.status_code}")

        fuzz()
        assert errors == []
        # past sign-in: only the login (random passwords) and the cookie-only route say 401
        assert {path for path, status in statuses if status == 401} <= {
            "/api/login",
            "/api/session",
        }
        assert any(200 <= status < 300 for _, status in statuses)
    finally:
        store.close()
