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
>>> Settings().ae_title
'VESALIUS'
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from vesalius.errors import ConfigError

DEFAULT_DATA_DIR = Path("vesalius-data")


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
    """

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = ""
    ae_title: str = "VESALIUS"
    dicom_port: int = 11112

    def __post_init__(self) -> None:
        if not 1 <= len(self.ae_title) <= 16:
            raise ConfigError(f"ae_title must be 1 to 16 characters, found {self.ae_title!r}")
        if not 0 < self.dicom_port < 65536:
            raise ConfigError(f"dicom_port must be 1..65535, found {self.dicom_port}")
        if not self.database_url:
            url = f"sqlite:///{(self.data_dir / 'index.sqlite3').resolve()}"
            object.__setattr__(self, "database_url", url)


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
    try:
        return Settings(**raw)
    except TypeError as err:
        raise ConfigError(f"{path}: {err}") from None
