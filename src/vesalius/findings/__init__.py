"""Findings: the typed hand-off from analyses to reports, worklists and exports."""
