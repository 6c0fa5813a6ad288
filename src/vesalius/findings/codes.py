"""The coded concepts the analyses' findings use.

Codes are real SNOMED CT (``SCT``) and DICOM (``DCM``, PS3.16) codes, as listed in
pydicom's code dictionary (``pydicom.sr.codedict.codes``); the tests check each against
it. Concepts no scheme has a code for are stated as text only
(:meth:`~vesalius.findings.model.CodedConcept.text`), never given an invented code.

Examples
--------
>>> CALCIUM_SCORE.value, CALCIUM_SCORE.scheme, CALCIUM_SCORE.meaning
('112058', 'DCM', 'Calcium score')
>>> CORONARY_CALCIFICATION.coded
False
>>> TERRITORY_SITES["LAD"].value
'59438005'
"""

from __future__ import annotations

from vesalius.findings.model import CodedConcept

# Findings and anatomy (SNOMED CT)
CALCIFIED_PLAQUE = CodedConcept("29483008", "SCT", "Calcified atheromatous plaque")
CORONARY_ARTERY = CodedConcept("41801008", "SCT", "Coronary artery")
LAD = CodedConcept("59438005", "SCT", "Anterior Descending Branch of Left Coronary Artery")
LCX = CodedConcept("57396003", "SCT", "Circumflex Coronary Artery")
RCA = CodedConcept("13647002", "SCT", "Right Coronary Artery")
LEFT_MAIN = CodedConcept("3227004", "SCT", "Left Main Coronary Artery")
LUNG = CodedConcept("39607008", "SCT", "Lung")
VOLUME = CodedConcept("118565006", "SCT", "Volume")

# Measurements (DICOM)
CALCIUM_SCORE = CodedConcept("112058", "DCM", "Calcium score")
CALCIUM_VOLUME = CodedConcept("122660", "DCM", "Calcium Volume")
CALCIUM_MASS = CodedConcept("122661", "DCM", "Calcium Mass")

# Concepts with no code in SNOMED CT or DCM as listed by pydicom: text only.
CORONARY_CALCIFICATION = CodedConcept.text("Coronary artery calcification")
LAA_PERCENT = CodedConcept.text("Low attenuation area below -950 HU, percent of lung volume")
LAA_VOLUME = CodedConcept.text("Low attenuation area below -950 HU, volume")

TERRITORY_SITES = {"LAD": LAD, "LCX": LCX, "RCA": RCA, "LM": LEFT_MAIN}
"""Anatomic site of each coronary territory name the calcium scorer reports."""

CODED: tuple[CodedConcept, ...] = (
    CALCIFIED_PLAQUE,
    CORONARY_ARTERY,
    LAD,
    LCX,
    RCA,
    LEFT_MAIN,
    LUNG,
    VOLUME,
    CALCIUM_SCORE,
    CALCIUM_VOLUME,
    CALCIUM_MASS,
)
"""Every coded concept of this module (checked against pydicom's dictionary in the tests)."""

# Lung nodules (findings/from_nodules.py): SNOMED CT and DCM codes as listed by pydicom.
NODULE = CodedConcept("27925004", "SCT", "Nodule")
MASS = CodedConcept("4147007", "SCT", "Mass")
LONG_AXIS = CodedConcept("103339001", "SCT", "Long axis")
SHORT_AXIS = CodedConcept("103340004", "SCT", "Short axis")
DIAMETER = CodedConcept("81827009", "SCT", "Diameter")
MEAN_ATTENUATION = CodedConcept("112181", "DCM", "Mean Attenuation Coefficient")
SOLID_COMPONENT_LONG_AXIS = CodedConcept.text("Solid component long axis")
SOLID_COMPONENT_DIAMETER = CodedConcept.text("Solid component mean diameter")
TECHNIQUE_LIMITATION = CodedConcept.text("Technique limitation")
"""A study-level statement of what the acquisition keeps an analysis from seeing."""
CODED += (NODULE, MASS, LONG_AXIS, SHORT_AXIS, DIAMETER, MEAN_ATTENUATION)
