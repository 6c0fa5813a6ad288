"""The Annex E table is read from the CSV and compiled into the right per-tag actions."""

from __future__ import annotations

from pathlib import Path

import pytest

from vesalius.errors import ConfigError, InputError
from vesalius.ingest.deid import CompiledProfile, Op, Option, ProfileTable, load_profile_table


def test_real_table_loads_all_621_attributes(table: ProfileTable) -> None:
    """A user pointing at annex_e.csv gets every one of its 621 rows, none silently dropped."""
    assert len(table.rows) == 621
    codes = {row.basic for row in table.rows}
    assert codes == {"X", "Z", "D", "U", "X/Z", "X/D", "X/Z/D", "Z/D", "X/Z/U*"}


def test_basic_actions_follow_the_table(basic: CompiledProfile) -> None:
    """Without options, names are pseudonymised, UIDs replaced, IDs removed as the table says."""
    ops = {
        0x00100010: Op.PSEUDONYM,  # PatientName Z
        0x00100020: Op.PSEUDONYM,  # PatientID Z/D
        0x0020000D: Op.REPLACE_UID,  # StudyInstanceUID U
        0x00101000: Op.REMOVE,  # OtherPatientIDs X
        0x00080050: Op.EMPTY,  # AccessionNumber Z
        0x00080020: Op.EMPTY,  # StudyDate Z
    }
    for tag, op in ops.items():
        rule = basic.rule_for(tag)
        assert (rule.op if rule else None) is op, hex(tag)


def test_combined_codes_take_the_action_that_keeps_any_type_valid(basic: CompiledProfile) -> None:
    """X/Z -> Z, X/D -> D, X/Z/D -> D, Z/D -> D, X/Z/U* -> U: never an invalid Type 1/2 hole."""
    expected = {
        0x00080022: Op.EMPTY,  # AcquisitionDate X/Z
        0x00080021: Op.DUMMY,  # SeriesDate X/D
        0x00080080: Op.DUMMY,  # InstitutionName X/Z/D
        0x00080023: Op.DUMMY,  # ContentDate Z/D
        0x00081140: Op.REPLACE_UID,  # ReferencedImageSequence X/Z/U*
    }
    for tag, op in expected.items():
        rule = basic.rule_for(tag)
        assert (rule.op if rule else None) is op, hex(tag)


def test_sop_class_and_transfer_syntax_are_not_in_the_uid_rules(basic: CompiledProfile) -> None:
    """Well-known UIDs (SOP Class, Transfer Syntax) are never replaced: the table omits them."""
    assert basic.rule_for(0x00080016) is None  # SOPClassUID
    assert basic.rule_for(0x00020010) is None  # TransferSyntaxUID


def test_curves_and_overlays_are_removed(basic: CompiledProfile) -> None:
    """Curve data (50xx) and overlays (60xx) are removed, whatever the group in the range."""
    for tag in (0x50000010, 0x50223000, 0x60003000, 0x601E4000, 0x60000022):
        rule = basic.rule_for(tag)
        assert (rule.op if rule else None) is Op.REMOVE, hex(tag)


def test_options_turn_actions_into_keep_shift_or_clean(table: ProfileTable) -> None:
    """Each option changes exactly the attributes its column marks."""
    profile = table.compile(
        {
            Option.RETAIN_LONG_MODIFIED_DATES,
            Option.RETAIN_PATIENT_CHARACTERISTICS,
            Option.RETAIN_DEVICE_IDENTITY,
            Option.CLEAN_DESCRIPTORS,
        }
    )
    checks = {
        0x00080020: Op.SHIFT_DATE,  # StudyDate
        0x00100040: Op.KEEP,  # PatientSex
        0x00101010: Op.KEEP,  # PatientAge
        0x00181000: Op.KEEP,  # DeviceSerialNumber
        0x00081030: Op.CLEAN,  # StudyDescription
        0x00100010: Op.PSEUDONYM,  # PatientName untouched by options
    }
    for tag, op in checks.items():
        rule = profile.rule_for(tag)
        assert (rule.op if rule else None) is op, hex(tag)
    description = profile.rule_for(0x00081030)
    assert description is not None
    assert description.fallback is Op.REMOVE


def test_both_date_options_at_once_is_a_config_error(table: ProfileTable) -> None:
    """Asking for full and modified dates together is refused, not silently resolved."""
    with pytest.raises(ConfigError, match="full dates or modified dates"):
        table.compile({Option.RETAIN_LONG_FULL_DATES, Option.RETAIN_LONG_MODIFIED_DATES})


def test_missing_table_names_the_file(tmp_path: Path) -> None:
    """A wrong --profile-table path gives an InputError naming that path."""
    with pytest.raises(InputError, match=r"nope\.csv: cannot read profile table"):
        load_profile_table(tmp_path / "nope.csv")


def test_table_without_action_column_is_refused(tmp_path: Path) -> None:
    """A CSV that is not Table E.1-1 is refused with the missing column named."""
    bad = tmp_path / "bad.csv"
    bad.write_text("tag,keyword\n(0010,0010),PatientName\n")
    with pytest.raises(InputError, match="lacks column"):
        load_profile_table(bad)


def test_unknown_action_code_names_the_line(tmp_path: Path) -> None:
    """A typo in an action code is reported with its line instead of being guessed."""
    bad = tmp_path / "bad.csv"
    bad.write_text(
        'tag,group,element,keyword,basic_profile\n"(0010,0010)",0010,0010,PatientName,Q\n'
    )
    with pytest.raises(InputError, match="line 2: unknown basic profile action 'Q'"):
        load_profile_table(bad)
