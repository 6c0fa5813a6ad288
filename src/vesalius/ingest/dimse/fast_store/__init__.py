"""The lean storage path of the listener: our own DICOM Upper Layer for storage associations.

An association that proposes only Storage and Verification SOP classes is served here
(:func:`~vesalius.ingest.dimse.fast_store.association.serve_storage`): large reads, no
per-PDU events, the data set handed to the durable store as one buffer. Every other
association (query/retrieve, role selection, user identity) stays with pynetdicom; the
listener decides by peeking at the A-ASSOCIATE-RQ
(:func:`~vesalius.ingest.dimse.fast_store.association.peek_associate_rq`).

- :mod:`~vesalius.ingest.dimse.fast_store.pdu`: PDUs (PS3.8);
- :mod:`~vesalius.ingest.dimse.fast_store.command`: DIMSE command sets (PS3.7);
- :mod:`~vesalius.ingest.dimse.fast_store.meta`: the File Meta Information of a stored data set.
"""
