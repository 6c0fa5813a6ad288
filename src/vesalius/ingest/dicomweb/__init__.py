"""DICOMweb (PS3.18): QIDO-RS, WADO-RS and STOW-RS server routes, and a client.

- :func:`vesalius.ingest.dicomweb.router.make_router` builds the FastAPI routes over a
  store (mounted by :func:`vesalius.service.create_app` at ``/dicom-web``);
- :class:`vesalius.ingest.dicomweb.client.DicomWebPeer` talks to a remote server
  (Orthanc, dcm4chee, another Vesalius) through ``dicomweb-client``.

The modules import FastAPI and ``dicomweb-client`` (the ``service`` extra); importing this
package alone imports neither.
"""
