"""Typed settings, read once from a TOML file by the command line or the service.

Library code never reads settings itself: it receives the values it needs as arguments.

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "vesalius.toml").write_text('data_dir = "store"\\n')
>>> s = load_settings(folder / "vesalius.toml")
>>> s.data_dir == folder / "store", s.database_url.startswith("sqlite:///")
(True, True)
>>> Settings().ae_title, Settings().http_port
('VESALIUS', 8080)

DICOM peers are ``[[peers]]`` tables; their AE titles may call the listener:

>>> _ = (folder / "pacs.toml").write_text(
...     '[[peers]]\\nname = "pacs"\\nae_title = "ORTHANC"\\nhost = "10.0.0.5"\\nport = 4242\\n')
>>> s = load_settings(folder / "pacs.toml")
>>> s.peer("pacs").ae_title, s.calling_ae_allowed("ORTHANC"), s.calling_ae_allowed("EVIL")
('ORTHANC', True, False)
"""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from vesalius.errors import ConfigError

DEFAULT_DATA_DIR = Path("vesalius-data")
DUPLICATE_POLICIES = ("keep-first", "replace")


def check_ae_title(value: str, *, what: str = "ae_title") -> str:
    """Return ``value`` if it is a valid DICOM AE title (1-16 characters, no backslash).

    Raises
    ------
    ConfigError
        Naming ``what`` and the value found.

    Examples
    --------
    >>> check_ae_title("CT_SCANNER")
    'CT_SCANNER'
    """
    stripped = value.strip()
    printable = all(" " <= c <= "~" and c != "\\" for c in stripped)
    if not 1 <= len(stripped) <= 16 or not printable:
        raise ConfigError(
            f"{what} must be 1 to 16 characters without backslash or control characters, "
            f"found {value!r}"
        )
    return value


def _check_port(port: int, what: str) -> None:
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigError(f"{what} must be 1..65535, found {port!r}")


@dataclass(frozen=True)
class DicomPeer:
    """Another DICOM node (a PACS, a modality, a workstation) Vesalius talks to.

    Parameters
    ----------
    name
        A short local name used on the command line (``vesalius send DIR --to pacs``).
    ae_title
        Its Application Entity title.
    host
        Its host name or IP address.
    port
        Its DICOM port.
    """

    name: str
    ae_title: str
    host: str
    port: int

    def __post_init__(self) -> None:
        if not self.name:
            raise ConfigError("a peer needs a name")
        check_ae_title(self.ae_title, what=f"peer {self.name!r} ae_title")
        if not self.host:
            raise ConfigError(f"peer {self.name!r} needs a host")
        _check_port(self.port, f"peer {self.name!r} port")


EXPORT_KINDS = ("seg", "sr", "fhir", "pdf", "mesh", "pmap")


@dataclass(frozen=True)
class DicomWebCredentials:
    """How to sign in to one DICOMweb server that exports are sent to (``[[export.credentials]]``).

    Either a bearer token or a username and password (HTTP Basic); each secret is given in
    the file (``token``, ``password``) or, better, as the name of an environment variable
    that holds it (``token_env``, ``password_env``), read when sending. Secrets never show in
    ``repr`` (nor so in logs or the audit trail).

    Parameters
    ----------
    url
        The DICOMweb root the credentials are for; they are used for every destination URL
        under it.
    token, token_env
        A bearer token, or the environment variable holding it.
    username, password, password_env
        HTTP Basic user, and the password or the environment variable holding it.

    Examples
    --------
    >>> pacs = DicomWebCredentials("https://pacs.example.org/dicom-web", token="s3cret")
    >>> "s3cret" in repr(pacs), pacs.covers("https://pacs.example.org/dicom-web/studies")
    (False, True)
    """

    url: str
    token: str = field(default="", repr=False)
    token_env: str = ""
    username: str = ""
    password: str = field(default="", repr=False)
    password_env: str = ""

    def __post_init__(self) -> None:
        for f in fields(self):
            if not isinstance(getattr(self, f.name), str):
                raise ConfigError(f"export credentials {f.name} must be text")
        if not self.url.startswith(("http://", "https://")):
            raise ConfigError(f"export credentials url must be an http(s) URL, found {self.url!r}")
        if "@" in self.url.split("/")[2]:
            raise ConfigError("export credentials url must not hold a user or password")
        bearer = bool(self.token or self.token_env)
        basic = bool(self.username or self.password or self.password_env)
        if bearer == basic:
            raise ConfigError(
                f"export credentials for {self.url} need either a token (token or token_env) "
                "or a username and password (password or password_env)"
            )
        if bool(self.token) and bool(self.token_env):
            raise ConfigError(f"export credentials for {self.url}: give token or token_env")
        if basic and (not self.username or bool(self.password) == bool(self.password_env)):
            raise ConfigError(
                f"export credentials for {self.url} need a username and one of password "
                "or password_env"
            )

    def covers(self, destination: str) -> bool:
        """Whether ``destination`` is this server's root or a URL under it.

        >>> DicomWebCredentials("http://h/dicom-web", token="t").covers("http://h/dicom-web/")
        True
        """
        root, wanted = self.url.rstrip("/"), destination.rstrip("/")
        return wanted == root or wanted.startswith(root + "/")


@dataclass(frozen=True)
class ExportSettings:
    """The ``[export]`` table: what is exported when a report is signed, and where it goes.

    Parameters
    ----------
    on_sign
        Exports made when a report is signed, of ``"seg"``, ``"sr"``, ``"fhir"``,
        ``"pdf"``, ``"mesh"``, ``"pmap"`` (none by default).
    send_to
        Where exported DICOM objects (SEG, SR, Parametric Map) are sent: a ``[[peers]]``
        name (C-STORE) or a DICOMweb URL (STOW-RS); empty: not sent.
    fhir_endpoint
        Base URL of the FHIR server the FHIR bundle is posted to; empty: not sent.
    out_dir
        Folder of the exported files; empty means ``data_dir / "exports"``.
    credentials
        How to sign in to the DICOMweb servers exports are sent to, one
        ``[[export.credentials]]`` table per server (:class:`DicomWebCredentials`).
    """

    on_sign: tuple[str, ...] = ()
    send_to: str = ""
    fhir_endpoint: str = ""
    out_dir: Path | None = None
    credentials: tuple[DicomWebCredentials, ...] = ()

    def credentials_for(self, destination: str) -> DicomWebCredentials | None:
        """The credentials of the most specific server root ``destination`` is under."""
        covering = [c for c in self.credentials if c.covers(destination)]
        return max(covering, key=lambda c: len(c.url.rstrip("/")), default=None)

    def __post_init__(self) -> None:
        for name in ("send_to", "fhir_endpoint"):
            if not isinstance(getattr(self, name), str):
                raise ConfigError(f"export {name} must be text, found {getattr(self, name)!r}")
        unknown = [k for k in self.on_sign if k not in EXPORT_KINDS]
        if unknown:
            raise ConfigError(f"export on_sign must be of {EXPORT_KINDS}, found {unknown}")
        if len(set(self.on_sign)) != len(self.on_sign):
            raise ConfigError(f"export on_sign lists a kind twice: {list(self.on_sign)}")
        endpoint = self.fhir_endpoint
        if endpoint and not endpoint.startswith(("http://", "https://")):
            raise ConfigError(f"export fhir_endpoint must be an http(s) URL, found {endpoint!r}")


@dataclass(frozen=True)
class Settings:
    """Settings of one Vesalius installation.

    Parameters
    ----------
    data_dir
        Folder holding the blob store and, by default, the SQLite index.
    database_url
        SQLAlchemy URL of the index; empty means SQLite ``index.sqlite3`` in ``data_dir``.
    ae_title
        DICOM Application Entity title of the listener.
    dicom_port
        TCP port of the DICOM listener.
    dicom_host
        Address the DICOM listener binds (all interfaces by default).
    peers
        The DICOM nodes Vesalius knows: where ``send``, ``query`` and ``retrieve`` go, and
        where C-MOVE may send to.
    allowed_calling_aes
        AE titles (besides the peers') allowed to open an association with the listener.
    accept_any_calling_ae
        Accept associations from any calling AE title (tests and demos only).
    min_free_bytes
        The listener refuses instances (status A700, out of resources) when the blob store's
        file system has less free space than this.
    study_quiet_s
        A study is declared complete when no instance of it arrived for this many seconds.
    http_host
        Address the HTTP service (DICOMweb, health) binds; the loopback by default.
    http_port
        TCP port of the HTTP service.
    trusted_proxies
        Addresses or networks (``"10.0.0.5"``, ``"10.0.0.0/24"``) of reverse proxies whose
        ``X-Forwarded-For`` and ``X-Forwarded-Proto`` headers are believed (the audit trail
        and throttling then see the real client, cookies get ``Secure`` behind https).
        Empty (default): the headers are ignored.
    duplicate_policy
        An instance arriving with a SOP Instance UID already stored: ``"keep-first"``
        (default; the new copy is acknowledged and dropped) or ``"replace"``.
    ingest_journal
        Instances received one at a time become durable through a write-ahead journal
        beside the blobs (default: one short flush, then the answer); instances received
        at the same time over several associations, and all of them with ``false``, have
        each blob fsynced and their index rows committed durably together.
    routing
        ``[[routing]]`` tables: which analysis apps run on which series (modality, body part,
        series description, slice thickness, contrast). Empty means the built-in rules;
        :func:`vesalius.pipeline.routing.rules_from_settings` checks and compiles them.
    export
        The ``[export]`` table (:class:`ExportSettings`).
    """

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = ""
    ae_title: str = "VESALIUS"
    dicom_port: int = 11112
    dicom_host: str = "0.0.0.0"
    peers: tuple[DicomPeer, ...] = ()
    allowed_calling_aes: tuple[str, ...] = ()
    accept_any_calling_ae: bool = False
    min_free_bytes: int = 1 << 30
    study_quiet_s: float = 60.0
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    trusted_proxies: tuple[str, ...] = ()
    duplicate_policy: str = "keep-first"
    ingest_journal: bool = True
    routing: tuple[dict[str, Any], ...] = ()
    export: ExportSettings = field(default_factory=ExportSettings)

    def __post_init__(self) -> None:
        if not 1 <= len(self.ae_title) <= 16:
            raise ConfigError(f"ae_title must be 1 to 16 characters, found {self.ae_title!r}")
        check_ae_title(self.ae_title)
        _check_port(self.dicom_port, "dicom_port")
        _check_port(self.http_port, "http_port")
        if not self.http_host:
            raise ConfigError("http_host must not be empty")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ConfigError(
                    f"trusted_proxies entry {proxy!r} is not an IP address or network"
                ) from None
        if self.duplicate_policy not in DUPLICATE_POLICIES:
            raise ConfigError(
                f"duplicate_policy must be one of {DUPLICATE_POLICIES}, "
                f"found {self.duplicate_policy!r}"
            )
        for ae in self.allowed_calling_aes:
            check_ae_title(ae, what="allowed_calling_aes entry")
        names = [p.name for p in self.peers]
        if len(set(names)) != len(names):
            raise ConfigError(f"peer names must be unique, found {names}")
        if self.min_free_bytes < 0:
            raise ConfigError(f"min_free_bytes must not be negative, found {self.min_free_bytes}")
        if not self.study_quiet_s > 0:
            raise ConfigError(f"study_quiet_s must be positive, found {self.study_quiet_s}")
        if not self.database_url:
            url = f"sqlite:///{(self.data_dir / 'index.sqlite3').resolve()}"
            object.__setattr__(self, "database_url", url)

    def peer(self, name: str) -> DicomPeer:
        """The peer called ``name`` (or, failing that, with AE title ``name``).

        Raises
        ------
        ConfigError
            When no peer matches; the message lists the known ones.
        """
        for peer in self.peers:
            if peer.name == name:
                return peer
        for peer in self.peers:
            if peer.ae_title == name:
                return peer
        known = ", ".join(p.name for p in self.peers) or "none; add [[peers]] to the settings"
        raise ConfigError(f"unknown DICOM peer {name!r}; known peers: {known}")

    def calling_ae_allowed(self, ae_title: str) -> bool:
        """Whether the listener accepts an association from ``ae_title``."""
        if self.accept_any_calling_ae:
            return True
        title = ae_title.strip()
        return title in self.allowed_calling_aes or any(p.ae_title == title for p in self.peers)

    @property
    def blob_dir(self) -> Path:
        """The blob store's folder: ``data_dir / "blobs"``."""
        return self.data_dir / "blobs"


def _peers(path: Path, raw: Any) -> tuple[DicomPeer, ...]:
    if not isinstance(raw, list) or not all(isinstance(p, dict) for p in raw):
        raise ConfigError(f"{path}: peers must be [[peers]] tables")
    known = {f.name for f in fields(DicomPeer)}
    peers = []
    for table in raw:
        if set(table) != known:
            raise ConfigError(
                f"{path}: each [[peers]] table needs exactly {sorted(known)}, found {sorted(table)}"
            )
        peers.append(DicomPeer(**table))
    return tuple(peers)


def _routing(path: Path, raw: Any) -> tuple[dict[str, Any], ...]:
    if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
        raise ConfigError(f"{path}: routing must be [[routing]] tables")
    return tuple(raw)


def _credentials(path: Path, raw: Any) -> tuple[DicomWebCredentials, ...]:
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise ConfigError(f"{path}: export credentials must be [[export.credentials]] tables")
    known = {f.name for f in fields(DicomWebCredentials)}
    found = []
    for item in raw:
        unknown = sorted(set(item) - known)
        if unknown:
            raise ConfigError(
                f"{path}: unknown [[export.credentials]] settings {unknown}; known: {sorted(known)}"
            )
        if "url" not in item:
            raise ConfigError(f"{path}: [[export.credentials]] needs a url")
        try:
            found.append(DicomWebCredentials(**item))
        except ConfigError as err:
            raise ConfigError(f"{path}: {err}") from None
    return tuple(found)


def _export(path: Path, raw: Any) -> ExportSettings:
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: export must be an [export] table")
    known = {f.name for f in fields(ExportSettings)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown [export] settings {unknown}; known: {sorted(known)}")
    values = dict(raw)
    if not isinstance(values.get("on_sign", []), list):
        raise ConfigError(f"{path}: export on_sign must be a list, found {values['on_sign']!r}")
    values["on_sign"] = tuple(values.get("on_sign", ()))
    values["credentials"] = _credentials(path, values.get("credentials", []))
    if values.get("out_dir"):
        values["out_dir"] = path.parent / Path(str(values["out_dir"]))
    else:
        values.pop("out_dir", None)
    try:
        return ExportSettings(**values)
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None


def load_settings(path: Path | None) -> Settings:
    """Read settings from a TOML file; ``None`` gives the defaults.

    Relative ``data_dir`` values are taken relative to the file's folder.
    """
    if path is None:
        return Settings()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: settings file not found") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown settings {unknown}; known: {sorted(known)}")
    if "data_dir" in raw:
        raw["data_dir"] = path.parent / Path(str(raw["data_dir"]))
    if "peers" in raw:
        raw["peers"] = _peers(path, raw["peers"])
    if "routing" in raw:
        raw["routing"] = _routing(path, raw["routing"])
    if "export" in raw:
        raw["export"] = _export(path, raw["export"])
    if "allowed_calling_aes" in raw:
        raw["allowed_calling_aes"] = tuple(raw["allowed_calling_aes"])
    if "trusted_proxies" in raw:
        proxies = raw["trusted_proxies"]
        if not isinstance(proxies, list) or not all(isinstance(p, str) for p in proxies):
            raise ConfigError(f"{path}: trusted_proxies must be a list of addresses")
        raw["trusted_proxies"] = tuple(proxies)
    try:
        return Settings(**raw)
    except TypeError as err:
        raise ConfigError(f"{path}: {err}") from None
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None
