"""DICOM networking (DIMSE): the listener (SCP) and the client (SCU), on pynetdicom.

- :mod:`~vesalius.ingest.dimse.scp`: :class:`DicomListener` (C-ECHO, C-STORE, C-FIND,
  C-MOVE, C-GET), configured by :class:`~vesalius.ingest.dimse.config.ListenerConfig`;
- :mod:`~vesalius.ingest.dimse.scu`: C-ECHO and C-STORE to a peer;
- :mod:`~vesalius.ingest.dimse.scu_retrieve`: C-FIND, C-MOVE and C-GET from a peer;
- :mod:`~vesalius.ingest.dimse.catalog`: the index queries behind C-FIND and retrieves;
- :mod:`~vesalius.ingest.dimse.fast_store`: the listener's own DICOM Upper Layer for
  storage associations (the ingest hot path, without pynetdicom).

pynetdicom has import-time side effects (it edits pydicom's UID dictionary and adds a
handler to its logger), so this package imports nothing at import time: import the
submodule you need. Starting a listener or a client sets the ``pynetdicom`` logger to
WARNING unless its level was set already.
"""
