"""Which instances may carry text burned into their pixels, and must be quarantined.

Header de-identification cannot clean pixels, so an instance is quarantined (never passed
to the clean output) when:

- Burned In Annotation (0028,0301) is ``YES``; or
- the flag is absent and the modality is one known to burn text in: ``US`` (ultrasound),
  ``SC`` / ``OT`` (secondary capture, other), ``ES`` (endoscopy), ``XC`` (external camera),
  ``DOC`` (documents); or
- the flag is absent and the SOP Class is a Secondary Capture class (1.2.840.10008.5.1.4.1.1.7
  and .7.1 to .7.4), an Ultrasound class, or Encapsulated PDF/CDA.

An explicit ``NO`` is trusted.
"""

from __future__ import annotations

from pydicom.dataset import Dataset

BURN_IN_MODALITIES = frozenset({"US", "SC", "OT", "ES", "XC", "DOC"})
"""Modalities quarantined when Burned In Annotation is absent."""

BURN_IN_SOP_CLASSES = frozenset(
    {
        "1.2.840.10008.5.1.4.1.1.7",  # Secondary Capture Image
        "1.2.840.10008.5.1.4.1.1.7.1",  # Multi-frame Single Bit SC
        "1.2.840.10008.5.1.4.1.1.7.2",  # Multi-frame Grayscale Byte SC
        "1.2.840.10008.5.1.4.1.1.7.3",  # Multi-frame Grayscale Word SC
        "1.2.840.10008.5.1.4.1.1.7.4",  # Multi-frame True Color SC
        "1.2.840.10008.5.1.4.1.1.6.1",  # Ultrasound Image
        "1.2.840.10008.5.1.4.1.1.3.1",  # Ultrasound Multi-frame Image
        "1.2.840.10008.5.1.4.1.1.104.1",  # Encapsulated PDF
        "1.2.840.10008.5.1.4.1.1.104.2",  # Encapsulated CDA
    }
)
"""SOP Classes quarantined when Burned In Annotation is absent."""


def burned_in_reason(ds: Dataset) -> str | None:
    """Return why ``ds`` may hold burned-in text, or ``None`` when it may pass.

    Examples
    --------
    >>> ds = Dataset()
    >>> ds.Modality = "US"
    >>> burned_in_reason(ds)
    'no BurnedInAnnotation flag and modality US may burn in text'
    >>> ds.BurnedInAnnotation = "NO"
    >>> burned_in_reason(ds) is None
    True
    """
    flag = str(ds.get("BurnedInAnnotation", "") or "").strip().upper()
    if flag == "YES":
        return "BurnedInAnnotation is YES"
    if flag == "NO":
        return None
    modality = str(ds.get("Modality", "") or "").strip().upper()
    if modality in BURN_IN_MODALITIES:
        return f"no BurnedInAnnotation flag and modality {modality} may burn in text"
    sop_class = str(ds.get("SOPClassUID", "") or "").strip()
    if sop_class in BURN_IN_SOP_CLASSES:
        return f"no BurnedInAnnotation flag and SOP Class {sop_class} may burn in text"
    return None
