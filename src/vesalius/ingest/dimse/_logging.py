"""Keep pynetdicom's logging quiet: it logs every PDU at DEBUG and every message at INFO."""

from __future__ import annotations

import logging


def quiet_pynetdicom(level: int = logging.WARNING) -> None:
    """Make the ``pynetdicom`` logger drop records below ``level``, unless set by the user.

    Called when a listener or a client starts, never at import. Raise the level with
    ``logging.getLogger("pynetdicom").setLevel(logging.DEBUG)`` to debug a peer.
    """
    logger = logging.getLogger("pynetdicom")
    if logger.level == logging.NOTSET:
        logger.setLevel(level)
