"""Triage, the worklist and draft reports built from findings."""
