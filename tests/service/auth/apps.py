"""Every router the service ships, to build the whole application in tests."""

from __future__ import annotations

from vesalius.service.app import DEFAULT_ROUTERS

ALL_ROUTERS = DEFAULT_ROUTERS
