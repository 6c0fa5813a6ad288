"""The listener takes its duplicate policy from the settings file."""

from __future__ import annotations

from vesalius.ingest.dimse.config import ListenerConfig
from vesalius.settings import Settings
from vesalius.store import DuplicatePolicy


def test_listener_keeps_the_first_copy_unless_told_to_replace() -> None:
    assert ListenerConfig.from_settings(Settings()).on_duplicate is DuplicatePolicy.KEEP_FIRST
    replace = ListenerConfig.from_settings(Settings(duplicate_policy="replace"))
    assert replace.on_duplicate is DuplicatePolicy.REPLACE
