"""Fixtures of the standardize tests."""

from __future__ import annotations

import pytest

from vesalius.core import Volume

from .phantoms import sphere_volume


@pytest.fixture
def sphere_ct() -> Volume:
    """A 24x40x40 anisotropic CT-like sphere phantom."""
    return sphere_volume()
