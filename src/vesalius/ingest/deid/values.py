"""Replacement values: dummies per VR, shifted dates and the descriptor allow-list.

Clean Descriptors (option 113105) is implemented as an allow-list, honestly and simply: a
descriptor is kept only when every word of it is on :data:`SAFE_WORDS` (anatomy, technique,
contrast, sequence and reconstruction terms) or is a short number with an optional unit
(``5``, ``2.5MM``, ``120KV``) or a reconstruction-kernel code (``B30F``). Anything else,
including any name, identifier or long number, makes the whole value fall back to the
basic-profile action. This removes some harmless text; it never keeps unknown text.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

_TEXT_DUMMY = "ANONYMIZED"
DUMMY_BY_VR: dict[str, object] = {
    "PN": "ANONYMOUS",
    "LO": _TEXT_DUMMY,
    "SH": _TEXT_DUMMY,
    "ST": _TEXT_DUMMY,
    "LT": _TEXT_DUMMY,
    "UT": _TEXT_DUMMY,
    "UC": _TEXT_DUMMY,
    "CS": _TEXT_DUMMY,
    "AE": _TEXT_DUMMY,
    "DA": "19000101",
    "TM": "000000.00",
    "DT": "19000101000000.000000",
    "AS": "000Y",
    "IS": "0",
    "DS": "0",
    "US": 0,
    "SS": 0,
    "UL": 0,
    "SL": 0,
    "UV": 0,
    "SV": 0,
    "FL": 0.0,
    "FD": 0.0,
    "AT": 0,
}
"""Dummy value for action ``D`` by VR; VRs not listed (OB, OW, UN, UR...) become empty."""

TEXT_VRS = frozenset({"LO", "SH", "ST", "LT", "UT", "UC", "CS", "AE", "PN"})

_SAFE_TEXT = """
    CT MR MRI PET SPECT NM US CR DX XA MG PT RT SCOUT LOCALIZER LOCALISER TOPOGRAM SURVIEW
    HEAD BRAIN NECK FACE SINUS SINUSES ORBIT ORBITS IAC TEMPORAL CHEST THORAX LUNG LUNGS
    CARDIAC HEART CORONARY AORTA AORTIC ABDOMEN ABD PELVIS PELVIC LIVER KIDNEY KIDNEYS RENAL
    PANCREAS SPLEEN BOWEL COLON BLADDER PROSTATE BREAST BREASTS SPINE CERVICAL THORACIC
    LUMBAR SACRUM SHOULDER ELBOW WRIST HAND HIP KNEE ANKLE FOOT EXTREMITY UPPER LOWER WHOLE
    BODY CAP LEFT RIGHT BILATERAL LT RT L R AP PA LAT LATERAL OBLIQUE
    AXIAL AX SAG SAGITTAL COR CORONAL TRANS TRANSVERSE OBL 2D 3D MPR MIP MINIP VR REFORMAT
    REFORMATS RECON RECONSTRUCTION THIN THICK SLICE SLICES SECTION SECTIONS HELICAL SPIRAL
    SEQUENTIAL STANDARD ROUTINE PROTOCOL SERIES IMAGE IMAGES STUDY EXAM SCAN SCREENING
    DIAGNOSTIC FOLLOW UP FU BASELINE STAGING SURVEY ANGIO ANGIOGRAPHY CTA MRA PERFUSION
    WITH WITHOUT W O WO AND OR OF TO THE IN FOR NO NON PRE POST CONTRAST IV ORAL ENHANCED
    UNENHANCED NATIVE PLAIN ARTERIAL VENOUS PORTAL DELAYED LATE EARLY PHASE PHASES
    SOFT TISSUE BONE BONES LUNG MEDIASTINUM WINDOW KERNEL SHARP SMOOTH DETAIL LOW DOSE LDCT
    HIGH RESOLUTION HR HRCT ULTRA FAST ISO ISOTROPIC
    T1 T2 PD FLAIR DWI DTI ADC SWI GRE SE FSE TSE EPI STIR FS FAT SAT WATER MPRAGE SPACE
    VIBE DIXON TOF BOLD B0 B1000 IR INVERSION RECOVERY GRADIENT ECHO SPIN LOCALIZATION
    CINE FLOW TRACE MAP MAPS DERIVED PRIMARY ORIGINAL SECONDARY CAPTURE SUMMARY DOSE REPORT
"""
SAFE_WORDS = frozenset(_SAFE_TEXT.split())
"""Upper-case words a descriptor may hold and still be kept by Clean Descriptors."""

_SAFE_TOKEN = re.compile(r"\d{1,3}(?:\.\d{1,3})?(?:MM|CM|KV|MAS|MS|S|T|SEC)?|[A-Z]\d{2}[A-Z]?")
_WORD_SPLIT = re.compile(r"[^A-Z0-9.]+")


def is_safe_descriptor(text: str) -> bool:
    """Return whether every word of ``text`` is on the allow-list (empty text is safe).

    Examples
    --------
    >>> is_safe_descriptor("CT CHEST W/O CONTRAST 2.5mm B30f")
    True
    >>> is_safe_descriptor("Chest for Dr. Smith")
    False
    >>> is_safe_descriptor("MRN 12345678")
    False
    """
    for token in _WORD_SPLIT.split(text.upper()):
        token = token.strip(".")
        if token and token not in SAFE_WORDS and _SAFE_TOKEN.fullmatch(token) is None:
            return False
    return True


def shift_date(value: str, days: int) -> str | None:
    """Shift a DA value (``YYYYMMDD``) by ``days``; ``None`` when it is not a full date.

    Examples
    --------
    >>> shift_date("20240301", -1)
    '20240229'
    >>> shift_date("2024", -1) is None
    True
    """
    text = value.strip()
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        day = date(int(text[:4]), int(text[4:6]), int(text[6:8])) + timedelta(days=days)
    except (ValueError, OverflowError):
        return None
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def shift_datetime(value: str, days: int) -> str | None:
    """Shift the date of a DT value by ``days``, keeping time and offset; ``None`` if too short.

    Examples
    --------
    >>> shift_datetime("20240101093000.5+0100", -1)
    '20231231093000.5+0100'
    """
    text = value.strip()
    shifted = shift_date(text[:8], days)
    return None if shifted is None else shifted + text[8:]
