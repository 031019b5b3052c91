"""The client a request comes from, when it reaches us through reverse proxies we trust.

Behind nginx every request arrives from nginx's address: keyed on that, the
rate limit would give all users one budget. A proxy says who its client was in
`X-Forwarded-For`, appending the address it received the request from to
whatever the client sent. So the header is read only when the request comes
from a proxy listed in ASSISTANT_TRUSTED_PROXIES (none by default), and from
the right: each trusted proxy's entry is skipped, and the first address that is
not a trusted proxy is the client. What a client writes in the header itself
stays to the left of that address and is never reached; a client that connects
directly, with no trusted proxy in between, is keyed on its own address
whatever the header says.
"""
from __future__ import annotations

import ipaddress
from typing import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class TrustedProxies:
    """The proxies (addresses or CIDR ranges) whose X-Forwarded-For is believed."""

    def __init__(self, entries: Iterable[str] = ()):
        networks = []
        for entry in entries:
            entry = entry.strip()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ValueError(
                    f"ASSISTANT_TRUSTED_PROXIES : {entry!r} n'est ni une adresse IP ni une plage CIDR : "
                    "donnez des adresses séparées par des virgules, par exemple 127.0.0.1,10.0.0.0/24 "
                    "(pas de nom d'hôte)") from None
        self.networks: tuple[Network, ...] = tuple(networks)

    @classmethod
    def parse(cls, text: str | None) -> "TrustedProxies":
        """From the setting's text: « 127.0.0.1,10.0.0.2 », ranges welcome (« 10.0.0.0/24 »)."""
        return cls((text or "").split(","))

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, address: str | None) -> bool:
        """Whether a peer address is one of the trusted proxies."""
        parsed = _address(address)
        return parsed is not None and any(parsed in network for network in self.networks)

    def client(self, peer: str | None, forwarded_for: Iterable[str] = ()) -> str | None:
        """The client's address: the peer itself, unless the peer is a trusted proxy that forwarded for another.

        `forwarded_for` holds the X-Forwarded-For header values in the order received (a request may carry
        several; they read as one list). An entry that is not an address stops the walk at the last proxy
        known: that proxy is the client then, since what lies beyond it cannot be told apart from forgery.
        """
        if not self.trusts(peer):
            return peer
        hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
        client = peer
        for hop in reversed(hops):
            parsed = _address(hop)
            if parsed is None:
                break
            client = str(parsed)
            if not any(parsed in network for network in self.networks):
                break
        return client


def _address(text: str | None) -> Address | None:
    """An IP address from a peer or a header entry (« 203.0.113.7 », « 203.0.113.7:4711 », « [2001:db8::1]:80 »),
    IPv4-mapped IPv6 addresses read as IPv4; None when it is not one."""
    if not text:
        return None
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1:text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        parsed = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped:
        return parsed.ipv4_mapped
    return parsed
