"""Database fixtures of the store tests: every ``store`` test runs on SQLite and PostgreSQL.

PostgreSQL comes from, in this order:

1. the URL in ``VESALIUS_TEST_POSTGRES_URL`` (a server CI or a developer started; each
   test gets its own freshly created database on it);
2. a throwaway cluster this file starts for the test session when the Debian server
   binaries are installed (``/usr/lib/postgresql/*/bin``): ``initdb`` in a temp folder,
   ``pg_ctl start`` listening on 127.0.0.1 only, on a free port, stopped at the end. As root
   it runs them as the ``postgres`` system user (they refuse to run as root);
3. otherwise the PostgreSQL tests are skipped, with the reason; under CI (``CI=true``) they
   fail instead, so that a CI run cannot pass with one database untested.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from sqlalchemy import create_engine, make_url, text

from vesalius.store import Store, open_store, sqlite_url

ENV_URL = "VESALIUS_TEST_POSTGRES_URL"


def _server_bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(argv: list[str]) -> list[str]:
    """Prefix ``argv`` so it runs as ``postgres`` when we are root."""
    if os.geteuid() != 0:
        return argv
    runuser = shutil.which("runuser")
    if runuser is None:
        raise RuntimeError("running as root without runuser: cannot start PostgreSQL")
    pwd.getpwnam("postgres")  # KeyError when the system user does not exist
    return [runuser, "-u", "postgres", "--", *argv]


def _run(argv: list[str]) -> None:
    subprocess.run(_as_server_user(argv), check=True, capture_output=True, timeout=120)


def _start_cluster(bin_dir: Path, folder: Path) -> str:
    """initdb + pg_ctl start in the empty ``folder``; returns the URL."""
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    data, port = folder / "data", _free_port()
    _run([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"])
    options = (
        f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c max_connections=100"
    )
    pg_ctl = str(bin_dir / "pg_ctl")
    _run([pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-o", options, "-w", "start"])
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"


def _stop_cluster(bin_dir: Path, folder: Path) -> None:
    subprocess.run(
        _as_server_user(
            [str(bin_dir / "pg_ctl"), "-D", str(folder / "data"), "-m", "fast", "stop"]
        ),
        check=False,
        capture_output=True,
        timeout=120,
    )
    shutil.rmtree(folder, ignore_errors=True)


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI needs PostgreSQL for the store tests: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL server's maintenance database (``postgres``)."""
    if os.environ.get(ENV_URL):
        yield os.environ[ENV_URL]
        return
    bin_dir = _server_bin_dir()
    if bin_dir is None:
        _unavailable(f"no PostgreSQL: set {ENV_URL} or install the server (Debian: postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="vesalius-pg-"))
    try:
        url = _start_cluster(bin_dir, folder)
    except (subprocess.SubprocessError, OSError, KeyError, RuntimeError) as err:
        shutil.rmtree(folder, ignore_errors=True)
        detail = getattr(err, "stderr", b"") or b""
        _unavailable(f"cannot start a PostgreSQL cluster: {err} {detail.decode(errors='replace')}")
    try:
        yield url
    finally:
        _stop_cluster(bin_dir, folder)


@contextlib.contextmanager
def _fresh_postgres_database(server_url: str, *, template: str = "template0") -> Iterator[str]:
    """Create a database (a copy of ``template``), yield its URL, drop it afterwards."""
    name = f"vesalius_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_migrated_template(postgres_server: str) -> Iterator[str]:
    """Name of a database migrated to head once per session, copied for each test."""
    with _fresh_postgres_database(postgres_server) as url:
        open_store(url).close()  # migrate, then release every connection (copying needs it)
        name = make_url(url).database
        assert name is not None
        yield name


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "index.sqlite3")
        return
    server = request.getfixturevalue("postgres_server")
    with _fresh_postgres_database(server) as url:
        yield url


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated, empty store on each database (on PostgreSQL a copy of a migrated one)."""
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = sqlite_url(tmp_path / "index.sqlite3")
        else:
            server = request.getfixturevalue("postgres_server")
            template = request.getfixturevalue("postgres_migrated_template")
            url = stack.enter_context(_fresh_postgres_database(server, template=template))
        opened = open_store(url)
        stack.callback(opened.close)
        yield opened
