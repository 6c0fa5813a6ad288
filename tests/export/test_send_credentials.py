"""STOW-RS of exports to a DICOMweb server that needs a sign-in, with ``[[export.credentials]]``.

The server is a second Vesalius (its DICOMweb service behind its real access control, on
the loopback): without credentials it answers 401. What a user would see go wrong: exports
refused by the PACS after sign-off, a wrong password reported as "HTTP 401" with no hint,
a password or token showing up in a log line, an error message or ``repr`` of the settings,
or a typo in the credentials table silently ignored.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file

from tests.export.fixtures_exports import LoopbackServer
from tests.service.auth.accounts import Account, make_account
from vesalius.errors import ConfigError
from vesalius.export.send import SendError, send_dicom
from vesalius.service.app import create_app
from vesalius.settings import DicomWebCredentials, ExportSettings, Settings, load_settings
from vesalius.store import BlobStore, Store, open_store, sqlite_url
from vesalius.store.index import find_instance
from vesalius.store.roles import Role


@dataclass(frozen=True)
class Pacs:
    store: Store
    url: str
    account: Account

    @property
    def dicomweb(self) -> str:
        return f"{self.url}/dicom-web"

    def has(self, path: Path) -> bool:
        uid = str(dcmread(path, stop_before_pixels=True).SOPInstanceUID)
        with self.store.read_session() as session:
            return find_instance(session, uid) is not None


@pytest.fixture
def pacs(tmp_path: Path) -> Iterator[Pacs]:
    """A DICOMweb server that signs callers in (service account ``sender``)."""
    store = open_store(sqlite_url(tmp_path / "pacs.sqlite3"))
    account = make_account(store, Role.SERVICE, "sender")
    app = create_app(store, BlobStore(tmp_path / "pacs-blobs"), min_free_bytes=0)
    try:
        with LoopbackServer(app).running() as server:
            yield Pacs(store, server.url, account)
    finally:
        store.close()


@pytest.fixture
def exported(tmp_path: Path) -> Path:
    target = tmp_path / "out" / "sr.dcm"
    target.parent.mkdir()
    shutil.copy(str(get_testdata_file("CT_small.dcm")), target)
    return target


def _settings(*credentials: DicomWebCredentials) -> Settings:
    return Settings(export=ExportSettings(credentials=credentials))


def test_a_bearer_token_from_the_environment_signs_in(
    pacs: Pacs, exported: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the server's token in the named variable, the export arrives."""
    monkeypatch.setenv("PACS_TOKEN", pacs.account.token)
    settings = _settings(DicomWebCredentials(pacs.dicomweb, token_env="PACS_TOKEN"))
    report = send_dicom([exported], f"{pacs.dicomweb}/", settings)
    assert (report.ok, report.sent) == (True, 1)
    assert pacs.has(exported)


def test_basic_credentials_from_the_settings_file_sign_in(
    pacs: Pacs, exported: Path, tmp_path: Path
) -> None:
    """A username and password in ``[[export.credentials]]`` are what is sent."""
    path = tmp_path / "vesalius.toml"
    path.write_text(
        f'[export]\nsend_to = "{pacs.dicomweb}"\n\n[[export.credentials]]\n'
        f'url = "{pacs.url}"\nusername = "sender"\npassword = "{pacs.account.password}"\n'
    )
    settings = load_settings(path)
    report = send_dicom([exported], settings.export.send_to, settings)
    assert report.ok
    assert pacs.has(exported)


def test_a_refused_sign_in_says_so_without_the_secret(
    pacs: Pacs, exported: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """No or wrong credentials: a send error naming the cause, never the password."""
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SendError, match=r"HTTP 401 \(sign-in refused: no \[\[export"):
        send_dicom([exported], pacs.dicomweb, Settings())
    wrong = DicomWebCredentials(pacs.dicomweb, username="sender", password="not-the-password")
    with pytest.raises(SendError, match=r"check the \[\[export\.credentials\]\]") as raised:
        send_dicom([exported], pacs.dicomweb, _settings(wrong))
    assert "not-the-password" not in str(raised.value)
    assert "not-the-password" not in repr(wrong)
    assert "not-the-password" not in caplog.text
    assert not pacs.has(exported)


def test_credentials_go_only_to_their_server(pacs: Pacs, exported: Path) -> None:
    """A token for another server is not sent here (nor is this one's sent elsewhere)."""
    other = DicomWebCredentials("https://other.example.org/dicom-web", token="x")
    with pytest.raises(SendError, match="HTTP 401"):
        send_dicom([exported], pacs.dicomweb, _settings(other))
    sibling = DicomWebCredentials(pacs.url + "/dicom", token=pacs.account.token)
    assert not sibling.covers(pacs.dicomweb)
    specific = DicomWebCredentials(pacs.dicomweb, token=pacs.account.token)
    general = DicomWebCredentials(pacs.url, token="stale")
    settings = _settings(general, specific)
    assert settings.export.credentials_for(pacs.dicomweb) == specific
    assert send_dicom([exported], pacs.dicomweb, settings).ok


def test_an_unset_secret_variable_is_a_config_error(exported: Path) -> None:
    """A token variable forgotten in the service's environment must say which one."""
    credentials = DicomWebCredentials("http://127.0.0.1:1/dicom-web", token_env="NO_SUCH_VAR_X")
    with pytest.raises(ConfigError, match=r"\$NO_SUCH_VAR_X"):
        send_dicom([exported], "http://127.0.0.1:1/dicom-web", _settings(credentials))


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ('url = "https://p/dw"\n', "either a token"),
        ('url = "https://p/dw"\ntoken = "t"\nusername = "u"\npassword = "p"\n', "either a token"),
        ('url = "https://p/dw"\ntoken = "t"\ntoken_env = "T"\n', "token or token_env"),
        ('url = "https://p/dw"\nusername = "u"\n', "username and one of password"),
        ('url = "https://p/dw"\npassword = "p"\n', "username and one of password"),
        ('url = "p/dw"\ntoken = "t"\n', "http\\(s\\) URL"),
        ('url = "https://u:p@p/dw"\ntoken = "t"\n', "must not hold a user"),
        ('url = "https://p/dw"\ntokn = "t"\n', "unknown \\[\\[export.credentials\\]\\] settings"),
        ('token = "t"\n', "needs a url"),
    ],
)
def test_credentials_mistakes_are_config_errors(tmp_path: Path, table: str, problem: str) -> None:
    """A typo in the credentials must stop the start with a message, not be ignored."""
    path = tmp_path / "vesalius.toml"
    path.write_text(f"[[export.credentials]]\n{table}")
    with pytest.raises(ConfigError, match=problem) as raised:
        load_settings(path)
    assert '"p"' not in str(raised.value)
