"""``vesalius user``: what an administrator at the console would see go wrong."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from vesalius.cli.main import app as cli
from vesalius.service.app import create_app
from vesalius.settings import load_settings
from vesalius.store import BlobStore, open_store
from vesalius.store.audit import events_for


@pytest.fixture
def config(tmp_path: Path, fast_hashing: None) -> Path:
    path = tmp_path / "vesalius.toml"
    path.write_text('data_dir = "data"\nmin_free_bytes = 0\n')
    return path


def _run(config: Path, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["user", *args, "--config", str(config)], input=stdin)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"traceback for {args}: {result.exception!r}") from result.exception
    return result.exit_code, result.output


def _get(config: Path, url: str, **kw: object) -> httpx.Response:
    settings = load_settings(config)
    store = open_store(settings.database_url)
    try:
        with TestClient(create_app(store, BlobStore(settings.blob_dir), min_free_bytes=0)) as c:
            return c.get(url, **kw)  # type: ignore[arg-type]
    finally:
        store.close()


def test_add_prints_a_generated_password_once_and_it_works(config: Path) -> None:
    code, output = _run(config, "add", "dr.grey", "--role", "radiologist", "--full-name", "M Grey")
    assert code == 0, output
    (password,) = re.findall(r"password \(shown once\): (\S+)", output)
    assert _get(config, "/dicom-web/studies", auth=("dr.grey", password)).status_code == 200
    code, listing = _run(config, "list")
    assert code == 0
    assert re.search(r"^dr\.grey\s+radiologist\s+yes\s+", listing, re.M)
    assert password not in listing


def test_a_password_from_stdin_is_not_echoed(config: Path) -> None:
    code, output = _run(
        config,
        "add",
        "tech",
        "--role",
        "technologist",
        "--password-stdin",
        stdin="a long chosen password\n",
    )
    assert code == 0, output
    assert "a long chosen password" not in output
    auth = ("tech", "a long chosen password")
    assert _get(config, "/dicom-web/studies", auth=auth).status_code == 200


def test_token_role_disable_and_passwd(config: Path) -> None:
    _run(config, "add", "pacs", "--role", "viewer")
    code, output = _run(config, "token", "pacs", "--name", "nightly sync")
    assert code == 0, output
    token = output.strip().splitlines()[-1]
    bearer = {"Authorization": f"Bearer {token}"}
    assert _get(config, "/dicom-web/studies", headers=bearer).status_code == 200
    assert _get(config, "/api/users", headers=bearer).status_code == 403
    assert _run(config, "role", "pacs", "--role", "admin")[0] == 0
    assert _get(config, "/api/users", headers=bearer).status_code == 200
    code, output = _run(config, "passwd", "pacs")
    (password,) = re.findall(r"password \(shown once\): (\S+)", output)
    assert _get(config, "/api/users", auth=("pacs", password)).status_code == 200
    assert _run(config, "disable", "pacs")[0] == 0
    assert _get(config, "/dicom-web/studies", headers=bearer).status_code == 401
    settings = load_settings(config)
    store = open_store(settings.database_url)
    try:
        with store.read_session() as session:
            done = [(e.who, e.action, e.detail) for e in events_for(session, "user", "pacs")]
    finally:
        store.close()
    assert done[0] == ("cli", "create", "role=viewer")
    assert ("cli", "update", "active=False") in done


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("add", "dr.grey"), "--role: needed"),
        (("add", "dr.grey", "--role", "surgeon"), "'surgeon' is not a role"),
        (("passwd", "nobody"), "no user 'nobody'"),
        (("token",), "needs the account's username"),
        (("add", "Dr Grey", "--role", "viewer"), "username"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(config: Path, args: tuple[str, ...], says: str) -> None:
    code, output = _run(config, *args)
    assert code == 2, output
    assert output.startswith("error: ")
    assert says in output
    assert len(output.strip().splitlines()) == 1


def test_a_short_password_on_stdin_is_refused(config: Path) -> None:
    code, output = _run(
        config, "add", "x.y", "--role", "viewer", "--password-stdin", stdin="short\n"
    )
    assert (code, output.strip()) == (2, "error: password: must be at least 10 characters")
    assert _run(config, "add", "x.y", "--role", "viewer")[0] == 0  # nothing half-made before
