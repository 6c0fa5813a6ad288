"""The FastAPI service: REST API, DICOMweb, authentication and the web UI."""
