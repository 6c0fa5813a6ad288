"""Transfer syntaxes and presentation contexts the listener and the clients negotiate.

Importing this module imports pynetdicom, which on import adds missing transfer syntaxes
to pydicom's UID dictionary and a ``NullHandler`` to the ``pynetdicom`` logger; that is why
only the :mod:`vesalius.ingest.dimse` modules import it, and nothing at ``import vesalius``.

Examples
--------
>>> len(TRANSFER_SYNTAXES) >= 12, ImplicitVRLittleEndian in TRANSFER_SYNTAXES
(True, True)
>>> contexts = contexts_for([("1.2.840.10008.5.1.4.1.1.2", JPEG2000Lossless)])
>>> [[str(ts) for ts in cx.transfer_syntax] for cx in contexts]
[['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'], ['1.2.840.10008.1.2.4.90']]
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from pydicom.uid import (
    HTJ2K,
    JPEG2000,
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    HTJ2KLossless,
    HTJ2KLosslessRPCL,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)
from pynetdicom.presentation import (
    AllStoragePresentationContexts,
    PresentationContext,
    StoragePresentationContexts,
    build_context,
)

log = logging.getLogger(__name__)

#: What the listener accepts for storage, in its order of preference: a sender proposes a
#: compressed syntax only for data it holds compressed, so those come first (no transcoding),
#: then explicit and implicit little endian, deflated, and big endian.
TRANSFER_SYNTAXES: tuple[UID, ...] = (
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    JPEG2000Lossless,
    JPEG2000,
    HTJ2KLossless,
    HTJ2KLosslessRPCL,
    HTJ2K,
    RLELossless,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
)

#: SOP classes of the verification and query/retrieve services (PS3.4 Annex A and C).
Verification = UID("1.2.840.10008.1.1")
PatientRootFind = UID("1.2.840.10008.5.1.4.1.2.1.1")
PatientRootMove = UID("1.2.840.10008.5.1.4.1.2.1.2")
PatientRootGet = UID("1.2.840.10008.5.1.4.1.2.1.3")
StudyRootFind = UID("1.2.840.10008.5.1.4.1.2.2.1")
StudyRootMove = UID("1.2.840.10008.5.1.4.1.2.2.2")
StudyRootGet = UID("1.2.840.10008.5.1.4.1.2.2.3")

#: At most this many presentation contexts may be proposed in one association.
MAX_CONTEXTS = 128

_UNCOMPRESSED = (ExplicitVRLittleEndian, ImplicitVRLittleEndian)


def storage_sop_classes(*, proposable: bool = False) -> tuple[UID, ...]:
    """Every storage SOP class pynetdicom knows; ``proposable`` keeps the 120 or so that
    fit in one association request (pynetdicom's ``StoragePresentationContexts``)."""
    contexts = StoragePresentationContexts if proposable else AllStoragePresentationContexts
    return tuple(UID(str(cx.abstract_syntax)) for cx in contexts)


def contexts_for(pairs: Iterable[tuple[str, str | None]]) -> list[PresentationContext]:
    """Contexts to send instances of these (SOP class, transfer syntax) pairs.

    Per SOP class: one context with explicit and implicit little endian (uncompressed data
    can be converted between them), and one context of its own for each other syntax the
    instances are in, so that an acceptor preferring uncompressed data still accepts the
    compressed syntax (a sender cannot transcode compressed pixels). Beyond
    :data:`MAX_CONTEXTS` contexts the rest are left out, with a warning.
    """
    wanted: dict[tuple[str, tuple[UID, ...]], None] = {}
    for sop_class, syntax in pairs:
        wanted[(sop_class, _UNCOMPRESSED)] = None
        if syntax and UID(syntax) not in _UNCOMPRESSED:
            wanted[(sop_class, (UID(syntax),))] = None
    if len(wanted) > MAX_CONTEXTS:
        log.warning("%d presentation contexts needed; only %d fit", len(wanted), MAX_CONTEXTS)
    return [build_context(c, list[str | UID](ts)) for c, ts in list(wanted)[:MAX_CONTEXTS]]
