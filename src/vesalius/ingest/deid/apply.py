"""Apply a compiled profile to one pydicom dataset, recursing into sequences.

Elements the table does not name are kept (PS3.15 lists the attributes that can identify);
private elements are always removed; sequences are recursed into unless the action removes
or empties them. A ``D`` on a sequence empties it (no dummy item is invented) and a ``D`` or
``Z`` on a UI element replaces the UID, so a reference is never broken by a dummy.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from pydicom import config
from pydicom._uid_dict import UID_dictionary
from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag

from vesalius.ingest.deid.keys import DeidKeys
from vesalius.ingest.deid.profile import BASIC_PROFILE_CODE, CompiledProfile, Op, Option, Rule
from vesalius.ingest.deid.read import peek
from vesalius.ingest.deid.values import (
    DUMMY_BY_VR,
    TEXT_VRS,
    is_safe_descriptor,
    shift_date,
    shift_datetime,
)

logger = logging.getLogger(__name__)

_REPLACING = frozenset({Op.EMPTY, Op.DUMMY, Op.PSEUDONYM})
_FILE_META_DROP = (0x00020016, 0x00020017, 0x00020018, 0x00020100, 0x00020102)
_CATEGORY = {
    Op.REMOVE: "removed",
    Op.EMPTY: "replaced",
    Op.DUMMY: "replaced",
    Op.REPLACE_UID: "replaced",
    Op.PSEUDONYM: "replaced",
    Op.CLEAN: "kept",
    Op.KEEP: "kept",
    Op.SHIFT_DATE: "shifted",
}


@dataclass(frozen=True, slots=True)
class InstanceActions:
    """What was done to one instance.

    Attributes
    ----------
    removed, replaced, kept, shifted
        Element counts (``kept`` includes the elements the table does not name).
    actions
        ``(path, action)`` pairs, sorted, one per attribute acted on by the table; a nested
        attribute's path joins the keywords with ``/`` (``ReferencedImageSequence/
        ReferencedSOPInstanceUID``); private elements appear once as ``(private)``.
    """

    removed: int
    replaced: int
    kept: int
    shifted: int
    actions: tuple[tuple[str, str], ...]


@dataclass
class _Walk:
    profile: CompiledProfile
    keys: DeidKeys
    pseudonym: str
    shift_days: int
    counts: Counter[str] = field(default_factory=Counter)
    actions: set[tuple[str, str]] = field(default_factory=set)

    def record(self, path: str, op: Op, *, log: bool = True) -> None:
        self.counts[_CATEGORY[op]] += 1
        if log:
            self.actions.add((path, op.value))


def patient_key(ds: Dataset) -> str:
    """Return the value the pseudonym and date shift derive from.

    The PatientID, else the PatientName, else the StudyInstanceUID, else ``""``.

    Examples
    --------
    >>> ds = Dataset()
    >>> ds.PatientName = "DOE^JANE"
    >>> patient_key(ds)
    'name:DOE^JANE'
    """
    for keyword, prefix in (("PatientID", "id:"), ("PatientName", "name:")):
        value = str(ds.get(keyword, "") or "").strip()
        if value:
            return prefix + value
    return "study:" + str(ds.get("StudyInstanceUID", "") or "")


def deidentify_dataset(ds: Dataset, *, profile: CompiledProfile, keys: DeidKeys) -> InstanceActions:
    """De-identify ``ds`` in place and mark it as de-identified.

    Examples
    --------
    >>> from vesalius.ingest.deid.profile import ProfileRow, ProfileTable
    >>> rows = (ProfileRow("0010", "0010", "PatientName", "Z", ()),
    ...         ProfileRow("0010", "1000", "OtherPatientIDs", "X", ()))
    >>> profile = ProfileTable(rows, source="inline").compile()
    >>> ds = Dataset()
    >>> ds.PatientName, ds.OtherPatientIDs = "DOE^JANE", "MRN123"
    >>> done = deidentify_dataset(ds, profile=profile, keys=DeidKeys(b"k"))
    >>> str(ds.PatientName).startswith("ANON^"), "OtherPatientIDs" in ds, ds.PatientIdentityRemoved
    (True, False, 'YES')
    >>> done.removed, done.replaced
    (1, 1)
    """
    key = patient_key(ds)
    walk = _Walk(profile, keys, keys.pseudonym(key), keys.date_shift_days(key))
    _walk(ds, walk, "")
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        _walk_file_meta(meta, walk)
        # The file meta names the instance it holds: the new UIDs, as the data set has them.
        for meta_keyword, keyword in (
            ("MediaStorageSOPInstanceUID", "SOPInstanceUID"),
            ("MediaStorageSOPClassUID", "SOPClassUID"),
        ):
            if keyword in ds:
                setattr(meta, meta_keyword, ds[keyword].value)
        if "SOPInstanceUID" not in ds and meta.get("MediaStorageSOPInstanceUID"):
            meta.MediaStorageSOPInstanceUID = keys.uid(str(meta.MediaStorageSOPInstanceUID))
    _mark(ds, profile)
    return InstanceActions(
        removed=walk.counts["removed"],
        replaced=walk.counts["replaced"],
        kept=walk.counts["kept"],
        shifted=walk.counts["shifted"],
        actions=tuple(sorted(walk.actions)),
    )


def _walk(ds: Dataset, walk: _Walk, prefix: str) -> None:
    rules = walk.profile.rules
    for tag in list(ds.keys()):
        if tag >> 16 & 1:  # an odd group: private
            del ds[tag]
            walk.record(prefix + "(private)", Op.REMOVE)
            continue
        rule = rules.get(tag) or walk.profile.rule_for(tag)
        if rule is None:
            walk.counts["kept"] += 1
            if _vr_of(ds, tag) == "SQ":
                _walk_items(ds[tag].value, walk, prefix + _name(walk.profile, tag) + "/")
            continue
        _apply(ds, tag, rule, walk, prefix + _name(walk.profile, tag))


def _walk_items(items: Sequence, walk: _Walk, prefix: str) -> None:
    for item in items:
        _walk(item, walk, prefix)


def _walk_file_meta(meta: Dataset, walk: _Walk) -> None:
    for tag in _FILE_META_DROP:
        if tag in meta:
            del meta[tag]
            walk.record("(file meta)", Op.REMOVE)


def _name(profile: CompiledProfile, tag: BaseTag) -> str:
    keyword = profile.keywords.get(int(tag))
    if keyword:
        return keyword
    return keyword_for_tag(tag) or profile.keyword(int(tag))


def _vr_of(ds: Dataset, tag: BaseTag) -> str:
    vr = peek(ds, tag).VR
    if vr:
        return str(vr)
    try:
        return str(dictionary_VR(tag))
    except KeyError:
        return "UN"


def _apply(ds: Dataset, tag: BaseTag, rule: Rule, walk: _Walk, path: str) -> None:
    if rule.op is Op.REMOVE:
        del ds[tag]
        walk.record(path, Op.REMOVE)
        return
    vr = _vr_of(ds, tag)
    if vr not in ("SQ", "UI") and len(vr) == 2 and rule.op in _REPLACING:
        # The old value is not needed: skip decoding it and write the new one directly.
        value = _replacement(rule.op, vr, walk.pseudonym)
        ds[tag] = DataElement(tag, vr, value, validation_mode=config.IGNORE)
        walk.record(path, rule.op)
        return
    elem = ds[tag]
    if elem.VR == "SQ":
        _apply_sequence(ds, tag, rule, walk, path)
        return
    op = _value_op(elem.VR, elem.value, rule, walk)
    if op is Op.REMOVE:
        del ds[tag]
    elif op is Op.SHIFT_DATE:
        elem.value = _shifted(elem.VR, elem.value, walk.shift_days)
    elif op is Op.REPLACE_UID:
        elem.value = _map_uids(elem.value, walk.keys)
    elif op in _REPLACING:
        elem.value = _replacement(op, elem.VR, walk.pseudonym)
    walk.record(path, op)


def _replacement(op: Op, vr: str, pseudonym: str) -> object:
    if op is Op.PSEUDONYM:
        return ("ANON^" if vr == "PN" else "ANON-") + pseudonym
    if op is Op.DUMMY:
        return DUMMY_BY_VR.get(vr)
    return None


def _value_op(vr: str, value: object, rule: Rule, walk: _Walk) -> Op:
    """Decide the effective op for a non-sequence value (CLEAN/SHIFT may fall back)."""
    op = rule.op
    if op is Op.SHIFT_DATE:
        if vr == "TM":
            return Op.KEEP
        if vr not in ("DA", "DT") or _shifted(vr, value, walk.shift_days) is None:
            op = rule.fallback
    elif op is Op.CLEAN:
        safe = vr in TEXT_VRS and all(is_safe_descriptor(str(v)) for v in _values(value))
        op = Op.CLEAN if safe else rule.fallback
    if vr == "UI" and op in (Op.DUMMY, Op.EMPTY, Op.PSEUDONYM) and value:
        return Op.REPLACE_UID
    return op


def _apply_sequence(ds: Dataset, tag: BaseTag, rule: Rule, walk: _Walk, path: str) -> None:
    # Clean on a sequence cannot be checked word by word: use the basic action.
    op = rule.fallback if rule.op is Op.CLEAN else rule.op
    if op is Op.REMOVE:
        del ds[tag]
        walk.record(path, Op.REMOVE)
    elif op in (Op.EMPTY, Op.DUMMY, Op.PSEUDONYM):
        ds[tag].value = Sequence()
        walk.record(path, Op.EMPTY)
    else:
        walk.record(path, Op.KEEP)
        _walk_items(ds[tag].value, walk, path + "/")


def _values(value: object) -> list[object]:
    if value is None:
        return []
    if isinstance(value, MultiValue | list | tuple):
        return list(value)
    return [value]


def _shifted(vr: str, value: object, days: int) -> object:
    shift = shift_date if vr == "DA" else shift_datetime
    results = [shift(str(v), days) if str(v).strip() else "" for v in _values(value)]
    if any(r is None for r in results):
        return None
    if isinstance(value, MultiValue | list | tuple):
        return results
    return results[0] if results else value


def _map_uids(value: object, keys: DeidKeys) -> object:
    def one(uid: object) -> str:
        text = str(uid).strip()
        return text if not text or text in UID_dictionary else keys.uid(text)

    if isinstance(value, MultiValue | list | tuple):
        return [one(v) for v in value]
    return None if value is None else one(value)


def _mark(ds: Dataset, profile: CompiledProfile) -> None:
    options = sorted(profile.options, key=lambda opt: opt.code_value)
    _put(ds, 0x00120062, "CS", "YES")  # PatientIdentityRemoved
    methods = ["Vesalius PS3.15 Annex E Basic Profile"]
    methods += [opt.meaning.removesuffix(" Option")[:64] for opt in options]
    _put(ds, 0x00120063, "LO", methods)  # DeidentificationMethod
    codes = [BASIC_PROFILE_CODE] + [(opt.code_value, opt.meaning) for opt in options]
    # DeidentificationMethodCodeSequence
    _put(ds, 0x00120064, "SQ", Sequence([_code(v, m) for v, m in codes]))
    if Option.RETAIN_LONG_MODIFIED_DATES in profile.options:
        temporal = "MODIFIED"
    elif Option.RETAIN_LONG_FULL_DATES in profile.options:
        temporal = "UNMODIFIED"
    else:
        temporal = "REMOVED"
    _put(ds, 0x00280303, "CS", temporal)  # LongitudinalTemporalInformationModified


def _put(ds: Dataset, tag: int, vr: str, value: object) -> None:
    """Set an element as ``ds.Keyword = value`` does, without the keyword look-ups."""
    if tag in ds._dict:
        ds[tag].value = value
    else:
        ds[tag] = DataElement(tag, vr, value)


def _code(value: str, meaning: str) -> Dataset:
    item = Dataset()
    _put(item, 0x00080100, "SH", value)  # CodeValue
    _put(item, 0x00080102, "SH", "DCM")  # CodingSchemeDesignator
    _put(item, 0x00080104, "LO", meaning)  # CodeMeaning
    return item
