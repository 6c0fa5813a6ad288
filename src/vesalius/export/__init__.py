"""Exports of studies, findings and reports: DICOM SEG and SR, FHIR, PDF, meshes."""
