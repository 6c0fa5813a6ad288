"""Routing rules: which series reach which analysis app.

What a user would see go wrong: a brain MR or a thick-slice CT analysed as a chest CT, a
chest CT never analysed, or a mistyped routing table accepted silently or crashing with a
traceback instead of a ConfigError naming the rule.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydicom import Dataset

from vesalius.errors import ConfigError
from vesalius.pipeline.routing import (
    DEFAULT_RULES,
    RoutingRule,
    load_rules,
    route,
    rules_from_settings,
    rules_from_toml,
)
from vesalius.settings import Settings, load_settings


def _header(**values: Any) -> Dataset:
    ds = Dataset()
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    return ds


@pytest.mark.parametrize(
    ("values", "apps"),
    [
        ({"Modality": "CT", "BodyPartExamined": "CHEST", "SliceThickness": "1.0"}, ("chest-ct",)),
        ({"Modality": "CT", "SliceThickness": "5"}, ("chest-ct",)),
        ({"Modality": "CT", "BodyPartExamined": "THORAX", "SliceThickness": "2"}, ("chest-ct",)),
        ({"Modality": "CT", "BodyPartExamined": "HEAD", "SliceThickness": "1"}, ()),
        ({"Modality": "CT", "BodyPartExamined": "CHEST", "SliceThickness": "5.5"}, ()),
        ({"Modality": "CT", "BodyPartExamined": "CHEST"}, ()),
        ({"Modality": "MR", "BodyPartExamined": "CHEST", "SliceThickness": "1"}, ()),
    ],
)
def test_default_rules_send_only_thin_chest_ct_to_chest_ct(
    values: dict[str, str], apps: tuple[str, ...]
) -> None:
    """A head CT, thick CT or MR analysed as chest, or a thin chest CT left out."""
    assert route(_header(**values)) == apps


def test_contrast_and_description_conditions_and_no_repeated_apps() -> None:
    """A contrast-only app run on plain scans, or the same app queued twice for a series."""
    rules = (
        RoutingRule("cta", modality="CT", contrast=True, series_description=".*angio.*"),
        RoutingRule("plain", modality="CT", contrast=False),
        RoutingRule("cta", modality="CT", min_slice_thickness_mm=0.5),
    )
    angio = _header(
        Modality="CT", ContrastBolusAgent="Iohexol", SeriesDescription="CT Angio", SliceThickness=1
    )
    assert route(angio, rules) == ("cta",)
    assert route(_header(Modality="CT", SeriesDescription="CT Angio"), rules) == ("plain",)


def test_rules_from_toml_builds_rules_with_every_field() -> None:
    """A routing table from the settings losing a condition on the way in."""
    (rule,) = rules_from_toml(
        [
            {
                "app": "chest-ct",
                "modality": "CT",
                "body_part": "CHEST",
                "series_description": "LUNG.*",
                "min_slice_thickness_mm": 0.5,
                "max_slice_thickness_mm": 3,
                "contrast": False,
            }
        ]
    )
    assert rule == RoutingRule("chest-ct", "CT", "CHEST", "LUNG.*", 0.5, 3, False)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([{"app": "x", "modalty": "CT"}], "routing rule 1: unknown keys ['modalty']"),
        ([{"app": "x"}, {"app": "y", "contrast": "yes"}], "routing rule 2: contrast"),
        ([{"app": "x", "max_slice_thickness_mm": "5"}], "max_slice_thickness_mm"),
        ([{"app": "x", "body_part": "(CHEST"}], "not a regular expression"),
        ([{"app": "x", "min_slice_thickness_mm": 5, "max_slice_thickness_mm": 1}], "min_slice"),
        ([{"modality": "CT"}], "needs an app name"),
        ({"app": "x"}, "list of [[routing]] tables"),
    ],
)
def test_bad_routing_tables_raise_config_error_naming_the_rule(data: Any, message: str) -> None:
    """A typo in a routing table silently ignored, or a traceback instead of a clear error."""
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        rules_from_toml(data)


def test_load_rules_reads_routing_tables_and_names_the_file(tmp_path: Path) -> None:
    """A rules file that cannot be read giving an error without its path."""
    good = tmp_path / "rules.toml"
    good.write_text('[[routing]]\napp = "chest-ct"\nmodality = "CT"\n')
    assert load_rules(good) == (RoutingRule("chest-ct", modality="CT"),)
    bad = tmp_path / "bad.toml"
    bad.write_text('[[routing]]\napp = "chest-ct"\nmodality = 3\n')
    with pytest.raises(ConfigError, match=f"{bad}: routing rule 1: modality"):
        load_rules(bad)
    with pytest.raises(ConfigError, match="no \\[\\[routing\\]\\] tables"):
        load_rules(_empty(tmp_path))
    with pytest.raises(ConfigError, match="cannot read"):
        load_rules(tmp_path / "missing.toml")


def _empty(folder: Path) -> Path:
    path = folder / "empty.toml"
    path.write_text("x = 1\n")
    return path


def test_routing_tables_in_the_settings_file_choose_the_apps(tmp_path: Path) -> None:
    config = tmp_path / "vesalius.toml"
    config.write_text(
        '[[routing]]\napp = "chest-ct"\nmodality = "CT"\nbody_part = "CHEST|LUNG"\n'
        "max_slice_thickness_mm = 1.5\n",
        encoding="utf-8",
    )
    rules = rules_from_settings(load_settings(config))
    assert route(_header(Modality="CT", BodyPartExamined="LUNG", SliceThickness="1.0"), rules) == (
        "chest-ct",
    )
    assert route(_header(Modality="CT", BodyPartExamined="LUNG", SliceThickness="3"), rules) == ()
    assert route(_header(Modality="CT", BodyPartExamined="HEAD", SliceThickness="1"), rules) == ()


def test_settings_without_routing_tables_use_the_built_in_rules() -> None:
    assert rules_from_settings(Settings()) == DEFAULT_RULES


def test_a_wrong_rule_in_the_settings_names_the_rule(tmp_path: Path) -> None:
    config = tmp_path / "vesalius.toml"
    config.write_text('[[routing]]\nmodality = "CT"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="routing rule 1"):
        rules_from_settings(load_settings(config))
    config.write_text('routing = "chest-ct"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="routing must be"):
        load_settings(config)
