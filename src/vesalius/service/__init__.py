"""The FastAPI service: REST, DICOMweb, authentication and the web UI.

:func:`vesalius.service.app.create_app` builds the application; importing this package
imports nothing heavy.
"""
