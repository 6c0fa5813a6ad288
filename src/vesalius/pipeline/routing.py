"""Routing rules: which analysis apps a series goes to, decided from its DICOM header.

A :class:`RoutingRule` names one app and the conditions a series must meet: modality, a
Body Part Examined and a Series Description pattern (regular expressions matched in full,
ignoring case), a slice thickness range in mm and whether contrast was given (Contrast/Bolus
Agent present). :func:`route` returns the apps of every rule the header meets, in rule order,
without repeats. :func:`rules_from_toml` builds rules from ``[[routing]]`` tables.

Examples
--------
>>> from pydicom import Dataset
>>> ds = Dataset()
>>> ds.Modality, ds.BodyPartExamined, ds.SliceThickness = "CT", "CHEST", "1.25"
>>> route(ds)
('chest-ct',)
>>> ds.SliceThickness = "8"
>>> route(ds)
()
>>> rules = rules_from_toml([{"app": "neuro-mr", "modality": "MR", "body_part": "HEAD|BRAIN"}])
>>> ds.Modality, ds.BodyPartExamined = "MR", "BRAIN"
>>> route(ds, rules)
('neuro-mr',)
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from vesalius.errors import ConfigError
from vesalius.settings import Settings


def _compile(pattern: str | None, what: str) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as err:
        raise ConfigError(
            f"routing {what} pattern {pattern!r} is not a regular expression: {err}"
        ) from None


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword, "")
    return str(value or "").strip()


def _thickness(ds: Dataset) -> float | None:
    try:
        value = float(ds.get("SliceThickness") or "nan")
    except (TypeError, ValueError):
        return None
    return None if value != value else value  # NaN: missing


@dataclass(frozen=True)
class RoutingRule:
    """Send series that meet every given condition to the app ``app``.

    Parameters
    ----------
    app
        Name of the analysis app (``"chest-ct"``).
    modality
        DICOM Modality the series must have (``"CT"``); ``None`` accepts any.
    body_part
        Regular expression the Body Part Examined must match in full (case ignored); an
        absent value is matched as ``""``. ``None`` accepts any.
    series_description
        Regular expression the Series Description must match in full (case ignored).
    min_slice_thickness_mm, max_slice_thickness_mm
        Inclusive bounds on Slice Thickness; a series without Slice Thickness fails a
        rule that has either bound.
    contrast
        ``True``: Contrast/Bolus Agent must be present; ``False``: it must be absent.
    """

    app: str
    modality: str | None = None
    body_part: str | None = None
    series_description: str | None = None
    min_slice_thickness_mm: float | None = None
    max_slice_thickness_mm: float | None = None
    contrast: bool | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.app, str) or not self.app:
            raise ConfigError(f"a routing rule needs an app name, found {self.app!r}")
        _compile(self.body_part, "body_part")
        _compile(self.series_description, "series_description")
        low, high = self.min_slice_thickness_mm, self.max_slice_thickness_mm
        if low is not None and high is not None and low > high:
            raise ConfigError(
                f"routing rule {self.app!r}: min_slice_thickness_mm {low} > max {high}"
            )

    def matches(self, header: Dataset) -> bool:
        """Whether the series whose header is ``header`` meets every condition."""
        if self.modality is not None and _text(header, "Modality") != self.modality:
            return False
        for pattern, keyword in (
            (self.body_part, "BodyPartExamined"),
            (self.series_description, "SeriesDescription"),
        ):
            compiled = _compile(pattern, keyword)
            if compiled is not None and not compiled.fullmatch(_text(header, keyword)):
                return False
        if self.contrast is not None and bool(_text(header, "ContrastBolusAgent")) != (
            self.contrast
        ):
            return False
        return self._thickness_ok(_thickness(header))

    def _thickness_ok(self, thickness: float | None) -> bool:
        low, high = self.min_slice_thickness_mm, self.max_slice_thickness_mm
        if low is None and high is None:
            return True
        if thickness is None:
            return False
        return (low is None or thickness >= low) and (high is None or thickness <= high)


DEFAULT_RULES: tuple[RoutingRule, ...] = (
    RoutingRule("chest-ct", modality="CT", body_part="(CHEST|THORAX)?", max_slice_thickness_mm=5.0),
)
"""Thin-slice CT of the chest (or without a body part) goes to ``chest-ct``."""


def route(header: Dataset, rules: Iterable[RoutingRule] = DEFAULT_RULES) -> tuple[str, ...]:
    """The apps the series with this header goes to, in rule order, without repeats."""
    apps: dict[str, None] = {}
    for rule in rules:
        if rule.matches(header):
            apps[rule.app] = None
    return tuple(apps)


_NUMBERS = ("min_slice_thickness_mm", "max_slice_thickness_mm")
_TEXTS = ("app", "modality", "body_part", "series_description")


def _checked(index: int, table: Mapping[str, Any]) -> dict[str, Any]:
    known = {f.name for f in fields(RoutingRule)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"routing rule {index + 1}: unknown keys {unknown}; known: {sorted(known)}"
        )
    for key, value in table.items():
        bad_number = key in _NUMBERS and (
            isinstance(value, bool) or not isinstance(value, int | float)
        )
        bad_text = key in _TEXTS and not isinstance(value, str)
        bad_flag = key == "contrast" and not isinstance(value, bool)
        if bad_number or bad_text or bad_flag:
            raise ConfigError(f"routing rule {index + 1}: {key} has the wrong type: {value!r}")
    return dict(table)


def rules_from_toml(data: list[dict[str, Any]]) -> tuple[RoutingRule, ...]:
    """Rules from the parsed ``[[routing]]`` tables of a TOML file.

    Raises
    ------
    ConfigError
        Not a list of tables, an unknown key, a value of the wrong type, a missing app, a
        pattern that is not a regular expression, or a thickness range upside down; the
        message names the rule by its position (1-based).

    Examples
    --------
    >>> rules_from_toml([{"app": "chest-ct", "modality": "CT", "contrast": True}])[0].contrast
    True
    >>> rules_from_toml([{"modality": "CT"}])
    Traceback (most recent call last):
    vesalius.errors.ConfigError: routing rule 1: a routing rule needs an app name, found ''
    """
    if not isinstance(data, list) or not all(isinstance(t, dict) for t in data):
        raise ConfigError(f"routing must be a list of [[routing]] tables, found {data!r}")
    rules = []
    for index, table in enumerate(data):
        values = _checked(index, table)
        try:
            rules.append(RoutingRule(**{"app": "", **values}))
        except ConfigError as err:
            raise ConfigError(f"routing rule {index + 1}: {err}") from None
    return tuple(rules)


def load_rules(path: Path) -> tuple[RoutingRule, ...]:
    """The rules of the ``[[routing]]`` tables of the TOML file ``path``.

    Raises
    ------
    ConfigError
        The file is missing, not TOML, has no ``[[routing]]`` tables, or a rule is wrong;
        the message names the file.
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"{path}: cannot read the routing rules: {err.strerror or err}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    if "routing" not in raw:
        raise ConfigError(f"{path}: no [[routing]] tables")
    try:
        return rules_from_toml(raw["routing"])
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None


def rules_from_settings(settings: Settings) -> tuple[RoutingRule, ...]:
    """The routing rules of the settings' ``[[routing]]`` tables, or the built-in rules.

    Raises
    ------
    ConfigError
        A rule is wrong; the message names the rule by its position.

    Examples
    --------
    >>> rules_from_settings(Settings()) == DEFAULT_RULES
    True
    >>> custom = Settings(routing=({"app": "chest-ct", "modality": "CT", "body_part": "CHEST"},))
    >>> [(r.app, r.body_part) for r in rules_from_settings(custom)]
    [('chest-ct', 'CHEST')]
    """
    if not settings.routing:
        return DEFAULT_RULES
    return rules_from_toml(list(settings.routing))
