"""Client addresses: which address to trust, and how addresses are compared."""

from __future__ import annotations

import ipaddress


def parse_address(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address in ``value``, or None when it is not one."""
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def anonymise(address: str) -> str:
    """The address with its host part dropped (/24 for IPv4, /48 for IPv6), as Isso does."""
    parsed = parse_address(address)
    if parsed is None:
        return "0.0.0.0"
    prefix = 24 if parsed.version == 4 else 48
    return str(ipaddress.ip_network(f"{parsed}/{prefix}", strict=False).network_address)
