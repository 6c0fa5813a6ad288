"""The real client behind a TLS-terminating reverse proxy, from trusted proxies only.

Behind a reverse proxy every request comes from the proxy's address, over plain http. The
proxy says who the client was in ``X-Forwarded-For`` and which scheme it used in
``X-Forwarded-Proto``; :class:`TrustedProxies` believes those headers only when the
request's immediate peer is one of the configured ``trusted_proxies`` (addresses or
networks in the settings), and then rewrites the request's client address and scheme. The
audit trail and login throttling then see the real client, and session cookies get
``Secure`` when the client used https. Without trusted proxies, or from any other peer,
the headers are ignored, so a client cannot choose the address it is audited and throttled
under.

In ``X-Forwarded-For`` the client is the rightmost address that is not itself a trusted
proxy (addresses to its left were written by the client and prove nothing).

Examples
--------
>>> proxies = TrustedProxies(None, ("10.0.0.0/8",))
>>> proxies.client_of("10.1.2.3", "6.6.6.6, 198.51.100.7, 10.0.0.2")
'198.51.100.7'
>>> proxies.client_of("203.0.113.9", "198.51.100.7") is None  # not from a proxy
True
>>> proxies.trusts("10.9.9.9"), proxies.trusts("testclient")
(True, False)
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from vesalius.errors import ConfigError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """The networks of ``trusted_proxies`` entries (``"10.0.0.5"``, ``"10.0.0.0/8"``).

    >>> parse_networks(["127.0.0.1"])
    (IPv4Network('127.0.0.1/32'),)
    """
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ConfigError(
                f"trusted_proxies entry {entry!r} is not an IP address or network"
            ) from None
    return tuple(networks)


class TrustedProxies:
    """ASGI middleware: take client and scheme from the forwarded headers of trusted peers."""

    def __init__(self, app: Any, trusted: Iterable[str]) -> None:
        self.app: ASGIApp | None = app
        self.networks = parse_networks(trusted)

    def trusts(self, host: str) -> bool:
        """Whether ``host`` is a configured proxy address."""
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def client_of(self, peer: str, forwarded_for: str) -> str | None:
        """The real client of a request from ``peer``; ``None`` if the header is not believed."""
        if not self.trusts(peer):
            return None
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop
        return hops[0] if hops else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None
        if scope["type"] in ("http", "websocket") and scope.get("client"):
            peer, port = scope["client"]
            if self.trusts(peer):
                scope = dict(scope)
                headers = {
                    name.decode("latin-1").lower(): value.decode("latin-1")
                    for name, value in scope["headers"]
                }
                client = self.client_of(peer, headers.get("x-forwarded-for", ""))
                if client is not None:
                    scope["client"] = (client, port)
                proto = headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower()
                if proto in ("http", "https"):
                    secure = proto == "https"
                    if scope["type"] == "websocket":
                        scope["scheme"] = "wss" if secure else "ws"
                    else:
                        scope["scheme"] = proto
        await self.app(scope, receive, send)
