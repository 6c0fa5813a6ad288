"""The PS3.15 Annex E confidentiality profile, read from its table and compiled once.

The table (``annex_e.csv``, DICOM PS3.15 Table E.1-1) has one row per attribute with the
Basic Application Level Confidentiality Profile action (``X``, ``Z``, ``D``, ``U`` and the
combined codes ``X/Z``, ``X/D``, ``X/Z/D``, ``Z/D``, ``X/Z/U*``) and one column per option
holding ``K`` (keep) or ``C`` (clean). :meth:`ProfileTable.compile` turns the rows and the
chosen :class:`Option` set into a :class:`CompiledProfile`: a plain ``dict`` from tag to
:class:`Rule`, so that each element costs one dictionary look-up.

Combined codes depend on the attribute's Type in the IOD, which the table does not carry.
Vesalius resolves them with one conservative rule that keeps any file valid whatever the
Type: take the last action listed (``X/Z`` -> ``Z``, ``X/D`` -> ``D``, ``X/Z/D`` -> ``D``,
``Z/D`` -> ``D``, ``X/Z/U*`` -> ``U``). ``Z`` and ``D`` disclose nothing of the original
value, so this costs no privacy, only a few elements that could have been removed.

Options combine per attribute in this order: the modified-dates option's ``C`` (shift the
date) first, then any ``K`` (keep), then any other ``C`` (clean, falling back to the basic
action when the value is not safe), then the basic action.
"""

from __future__ import annotations

import csv
import enum
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from vesalius.errors import ConfigError, InputError

logger = logging.getLogger(__name__)

PATIENT_NAME = 0x00100010
PATIENT_ID = 0x00100020

_REQUIRED_COLUMNS = ("tag", "group", "element", "keyword", "basic_profile")


class Op(enum.Enum):
    """What happens to one element; the value is the word written in the report."""

    REMOVE = "removed"
    EMPTY = "emptied"
    DUMMY = "dummy"
    REPLACE_UID = "uid"
    KEEP = "kept"
    SHIFT_DATE = "shifted"
    CLEAN = "cleaned"
    PSEUDONYM = "pseudonym"


_BASIC: dict[str, Op] = {
    "X": Op.REMOVE,
    "Z": Op.EMPTY,
    "D": Op.DUMMY,
    "U": Op.REPLACE_UID,
    "X/Z": Op.EMPTY,
    "X/D": Op.DUMMY,
    "X/Z/D": Op.DUMMY,
    "Z/D": Op.DUMMY,
    "X/Z/U*": Op.REPLACE_UID,
}


class Option(enum.Enum):
    """A profile option: its table column, its DCM code (CID 7050) and its meaning."""

    RETAIN_UIDS = ("retain_uids", "113110", "Retain UIDs Option")
    RETAIN_DEVICE_IDENTITY = ("retain_device_identity", "113109", "Retain Device Identity Option")
    RETAIN_INSTITUTION_IDENTITY = (
        "retain_institution_identity",
        "113112",
        "Retain Institution Identity Option",
    )
    RETAIN_PATIENT_CHARACTERISTICS = (
        "retain_patient_characteristics",
        "113108",
        "Retain Patient Characteristics Option",
    )
    RETAIN_LONG_FULL_DATES = (
        "retain_long_full_dates",
        "113106",
        "Retain Longitudinal Temporal Information Full Dates Option",
    )
    RETAIN_LONG_MODIFIED_DATES = (
        "retain_long_modified_dates",
        "113107",
        "Retain Longitudinal Temporal Information Modified Dates Option",
    )
    CLEAN_DESCRIPTORS = ("clean_descriptors", "113105", "Clean Descriptors Option")

    @property
    def column(self) -> str:
        """Name of the option's column in the table."""
        return self.value[0]

    @property
    def code_value(self) -> str:
        """DCM code value of the option."""
        return self.value[1]

    @property
    def meaning(self) -> str:
        """DCM code meaning of the option."""
        return self.value[2]


BASIC_PROFILE_CODE = ("113100", "Basic Application Confidentiality Profile")


@dataclass(frozen=True, slots=True)
class Rule:
    """The compiled action for one attribute.

    Attributes
    ----------
    op
        What to do.
    fallback
        What to do when ``op`` cannot apply (a date that cannot be shifted, a descriptor
        that is not safe to keep): always the basic-profile action.
    code
        The table's code and option that led here, for the report (e.g. ``"X/Z/D"``).
    """

    op: Op
    fallback: Op
    code: str


@dataclass(frozen=True, slots=True)
class ProfileRow:
    """One row of the table: the tag pattern, the keyword and the action codes."""

    group: str
    element: str
    keyword: str
    basic: str
    options: tuple[tuple[str, str], ...]

    def option_code(self, column: str) -> str:
        """Return the ``K``/``C`` code of an option column, or ``""``."""
        return dict(self.options).get(column, "")


@dataclass(frozen=True, slots=True)
class CompiledProfile:
    """A tag -> :class:`Rule` look-up for one option set; picklable for worker processes.

    Attributes
    ----------
    rules
        Exact tags (as ``int``) to rules.
    repeating
        ``(mask, value, rule)`` for the repeating groups (curves ``50xx``, overlays ``60xx``).
    private
        Rule for private (odd-group) elements: always removal.
    options
        The options compiled in.
    keywords
        Tag -> keyword from the table, for the report.
    source
        Where the table was read from.
    """

    rules: dict[int, Rule]
    repeating: tuple[tuple[int, int, Rule], ...]
    private: Rule
    options: frozenset[Option]
    keywords: dict[int, str]
    source: str = ""

    def rule_for(self, tag: int) -> Rule | None:
        """Return the rule of a public tag, or ``None`` when the table does not name it.

        Examples
        --------
        >>> profile = ProfileTable(tuple(), source="none").compile()
        >>> profile.rule_for(0x60003000).op.value
        'removed'
        >>> profile.rule_for(0x00280010) is None
        True
        """
        rule = self.rules.get(tag)
        if rule is not None:
            return rule
        for mask, value, repeating_rule in self.repeating:
            if tag & mask == value:
                return repeating_rule
        return None

    def keyword(self, tag: int) -> str:
        """Return the table's keyword of a tag or its ``(gggg,eeee)`` form."""
        return self.keywords.get(tag) or f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


_REMOVE = Rule(Op.REMOVE, Op.REMOVE, "X")
_OVERLAY_GROUP = Rule(Op.REMOVE, Op.REMOVE, "X (overlay group)")
_BUILTIN_REPEATING = (
    (0xFF000000, 0x50000000, Rule(Op.REMOVE, Op.REMOVE, "X (curve)")),
    # The table removes Overlay Data and Overlay Comments; an overlay module without its
    # data is unusable and its label and description are free text, so the whole 60xx
    # group goes (stricter than the table).
    (0xFF000000, 0x60000000, _OVERLAY_GROUP),
)


@dataclass(frozen=True, slots=True)
class ProfileTable:
    """The parsed rows of Table E.1-1, as read from the caller's CSV file.

    Examples
    --------
    >>> row = ProfileRow("0010", "0010", "PatientName", "Z", ())
    >>> profile = ProfileTable((row,), source="inline").compile()
    >>> profile.rule_for(0x00100010).op.value
    'pseudonym'
    """

    rows: tuple[ProfileRow, ...]
    source: str

    def compile(self, options: Iterable[Option] = ()) -> CompiledProfile:
        """Resolve every row for ``options`` into a fast tag -> :class:`Rule` look-up."""
        chosen = frozenset(options)
        dates = {Option.RETAIN_LONG_FULL_DATES, Option.RETAIN_LONG_MODIFIED_DATES}
        if dates <= chosen:
            raise ConfigError("choose either full dates or modified dates, not both")
        rules: dict[int, Rule] = {}
        keywords: dict[int, str] = {}
        for row in self.rows:
            tag = _exact_tag(row)
            if tag is None:
                continue
            rules[tag] = _resolve(row, chosen, tag)
            keywords[tag] = row.keyword
        return CompiledProfile(
            rules, _BUILTIN_REPEATING, _REMOVE, chosen, keywords, source=self.source
        )


def _exact_tag(row: ProfileRow) -> int | None:
    try:
        return int(row.group + row.element, 16)
    except ValueError:  # a pattern row: 50xx,xxxx / 60xx,3000 / gggg,eeee (built in)
        return None


def _resolve(row: ProfileRow, options: frozenset[Option], tag: int) -> Rule:
    basic = _BASIC[row.basic]
    shift = Option.RETAIN_LONG_MODIFIED_DATES
    if shift in options and row.option_code(shift.column) == "C":
        return Rule(Op.SHIFT_DATE, basic, f"{row.basic} +{shift.column}")
    codes = {opt: row.option_code(opt.column) for opt in options}
    for opt, code in codes.items():
        if code == "K":
            return Rule(Op.KEEP, basic, f"{row.basic} +{opt.column}:K")
    for opt, code in codes.items():
        if code == "C":
            return Rule(Op.CLEAN, basic, f"{row.basic} +{opt.column}:C")
    if tag in (PATIENT_NAME, PATIENT_ID) and basic in (Op.EMPTY, Op.DUMMY):
        return Rule(Op.PSEUDONYM, basic, row.basic)
    return Rule(basic, basic, row.basic)


def load_profile_table(path: str | PathLike[str]) -> ProfileTable:
    """Read Table E.1-1 from a CSV file (``annex_e.csv``).

    Parameters
    ----------
    path
        CSV with at least the columns ``tag, group, element, keyword, basic_profile`` and
        any option columns (``retain_uids``, ``clean_descriptors``...).

    Raises
    ------
    InputError
        The file is missing, unreadable, lacks a column or holds an unknown action code.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "t.csv").write_text(
    ...     'tag,group,element,keyword,basic_profile\\n"(0010,0010)",0010,0010,PatientName,Z\\n')
    >>> len(load_profile_table(folder / "t.csv").rows)
    1
    """
    source = Path(path)
    try:
        with source.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in _REQUIRED_COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise InputError(source, f"profile table lacks column(s) {', '.join(missing)}")
            rows = tuple(_parse_row(source, n, raw) for n, raw in enumerate(reader, start=2))
    except OSError as err:
        raise InputError(source, f"cannot read profile table ({err.strerror})") from err
    except (UnicodeDecodeError, csv.Error) as err:
        raise InputError(source, f"not a CSV profile table ({err})") from err
    logger.debug("loaded %d profile rows from %s", len(rows), source)
    return ProfileTable(rows, source=str(source))


def _parse_row(source: Path, line: int, raw: dict[str | None, str]) -> ProfileRow:
    if None in raw:
        raise InputError(source, f"line {line}: more fields than the header (unquoted comma?)")
    basic = (raw.get("basic_profile") or "").strip()
    if basic not in _BASIC:
        raise InputError(source, f"line {line}: unknown basic profile action {basic!r}")
    options = tuple(
        (opt.column, (raw.get(opt.column) or "").strip())
        for opt in Option
        if (raw.get(opt.column) or "").strip()
    )
    for column, code in options:
        if code not in ("K", "C"):
            raise InputError(source, f"line {line}: unknown option code {code!r} in {column}")
    group, element = raw["group"].strip(), raw["element"].strip()
    return ProfileRow(group, element, raw["keyword"].strip(), basic, options)
