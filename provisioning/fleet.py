"""The city's way in to its devices through the care homes' NAT: the device list's `fleet:` block (the WireGuard
hub), each device's fixed tunnel address, and the checks validate runs on them. Pure: no I/O.

A device's tunnel address is written in the list (`tunnel_address:`) or derived from its id alone: SHA-256 of
"palim-fleet/<id>" picks a host address in the fleet network (never its first or last address, never the hub's).
Adding, removing or reordering devices never moves another device's address; two devices whose addresses meet
(written or derived) are refused by validate, and one of them gets an address of its own written in the list.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from pydantic import Field, field_validator

from kiosk.core.fields import Strict
from kiosk.core.yamlpos import Problem

DEFAULT_PORT_HINT = 51820  # WireGuard's usual port, for the message only: the list must say its port
DEFAULT_KEYS_DIR = "secrets/wireguard"
INTERFACE = "palim0"
# A DNS name or an IPv4 address, then :port; or [IPv6]:port.
ENDPOINT = re.compile(r"(?:(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)|\[(?P<v6>[0-9A-Fa-f:.]+)\])"
                      r"(?::(?P<port>[0-9]{1,5}))?")
WG_KEY = re.compile(r"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=")  # 32 bytes in base64, as wg(8) writes them


def wireguard_key(value: str) -> str:
    """A WireGuard key as `wg pubkey` prints it (32 bytes, base64, 44 characters); ValueError otherwise."""
    value = value.strip()
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32 or not WG_KEY.fullmatch(value):
        raise ValueError("must be a WireGuard public key: 44 characters of base64 ending in '=' (32 bytes), as "
                         "'wg pubkey' prints it on the hub")
    return value


def split_endpoint(value: str) -> tuple[str, int]:
    """host and port of 'host:port' or '[v6]:port'; ValueError with what is wrong."""
    found = ENDPOINT.fullmatch(value.strip())
    if found is None:
        raise ValueError("must be the hub's host name or address and its port, like vpn.stadt.example.org:51820 "
                         "or [2001:db8::1]:51820")
    if found["port"] is None:
        raise ValueError(f"has no port: write the hub's WireGuard port after a colon, like "
                         f"{value.strip()}:{DEFAULT_PORT_HINT}")
    port = int(found["port"])
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port} is not a port (1 to 65535)")
    host = found["host"] or found["v6"]
    if found["v6"] is not None:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"[{host}] is no IPv6 address") from None
    return host, port


class Fleet(Strict):
    """The city's WireGuard hub that every device dials out to (no port is opened at a care home)."""

    endpoint: str = Field(examples=["vpn.stadt.example.org:51820"])
    """The hub as the devices reach it over the internet: host name or address and its UDP port."""
    hub_public_key: str = Field(examples=["AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="])
    """The hub's WireGuard public key ('wg pubkey' on the hub); its private key never goes in this file."""
    network: str = Field(examples=["10.77.0.0/16"])
    """The fleet's tunnel network, from which each device gets its address; it must not overlap a home's lan."""
    hub_address: str = Field(examples=["10.77.0.1"])
    """The hub's own address in the tunnel network (where Prometheus and Ansible come from)."""
    keys_dir: str = Field(default=DEFAULT_KEYS_DIR, examples=["/srv/palim/wireguard-keys"])
    """Where palim-provision keeps each device's WireGuard private key (<id>.key, 0600), relative to the device list;
    keep it out of git like the other secrets files."""
    key_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", examples=["PALIM_WG_KEY"])
    """An environment variable holding this one device's private key (what the Ansible role gives a device)."""
    keepalive: int = Field(default=25, ge=10, le=300)
    """Seconds between the device's keepalives, which keep the care home router's NAT mapping open (10 to 300)."""

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        split_endpoint(value)
        return value.strip()

    @field_validator("hub_public_key")
    @classmethod
    def _key(cls, value: str) -> str:
        return wireguard_key(value)

    @field_validator("network")
    @classmethod
    def _network(cls, value: str) -> str:
        try:
            network = ipaddress.ip_network(value.strip(), strict=True)
        except ValueError:
            raise ValueError("must be a network like 10.77.0.0/16 (its first address, a slash and the prefix "
                             "length)") from None
        if network.num_addresses < 4:
            raise ValueError("is too small for a hub and devices: use at least a /30 (IPv4) or /126 (IPv6)")
        return str(network)

    @field_validator("hub_address")
    @classmethod
    def _hub(cls, value: str) -> str:
        return str(ip_address(value))

    @property
    def net(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return ipaddress.ip_network(self.network)


def ip_address(value: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """One IP address without a prefix length; ValueError in words."""
    try:
        return ipaddress.ip_address(str(value).strip())
    except ValueError:
        raise ValueError("must be an IP address like 10.77.0.1 (no prefix length)") from None


def usable(network: Any, address: Any) -> bool:
    """True when the address is in the network and neither its first nor its last address."""
    return address in network and address not in (network.network_address, network.broadcast_address)


def derived_address(device_id: str, fleet: Fleet) -> str:
    """The address the device's id alone gives it (see the module's docstring)."""
    network = fleet.net
    hosts = network.num_addresses - 2
    digest = int.from_bytes(hashlib.sha256(f"palim-fleet/{device_id}".encode()).digest(), "big")
    address = network.network_address + 1 + digest % hosts
    if address == ipaddress.ip_address(fleet.hub_address):
        address = network.network_address + 1 + (digest + 1) % hosts
    return str(address)


@dataclass(frozen=True)
class Placed:
    """One device's tunnel address and whether the list writes it."""

    index: int
    device_id: str
    address: str
    written: bool


def fleet_problems(fleet: Fleet | None, devices: list[tuple[int, str, str | None]], home_lans: dict[str, str],
                   doc: Any) -> tuple[dict[str, str], list[Problem]]:
    """Each device's tunnel address (id -> address) and what is wrong: an address outside the network or the hub's,
    two devices on one address, a home's lan overlapping the fleet network, an endpoint inside it.

    `devices` are (index in the list, id, tunnel_address as written or None); `home_lans` home key -> its lan."""
    problems: list[Problem] = []
    if fleet is None:
        problems += [doc.problem(("devices", index, "tunnel_address"), "a tunnel address needs a fleet: block (the "
                                 "city's WireGuard hub) at the top of the list", at_key=True)
                     for index, _, written in devices if written is not None]
        return {}, problems
    network, hub = fleet.net, ipaddress.ip_address(fleet.hub_address)
    if not usable(network, hub):
        problems.append(doc.problem(("fleet", "hub_address"), f"{hub} is not a host address of the fleet network "
                                                              f"{network}"))
    for home_key, lan in home_lans.items():
        if ipaddress.ip_network(lan).overlaps(network):
            problems.append(doc.problem(("homes", home_key, "lan"), (
                f"overlaps the fleet network {network}: the device could not tell the home's own network from the "
                f"tunnel; choose another fleet network (or correct lan)")))
    host = split_endpoint(fleet.endpoint)[0]
    try:
        if ipaddress.ip_address(host) in network:
            problems.append(doc.problem(("fleet", "endpoint"), f"{host} lies inside the fleet network {network}: the "
                                        f"devices must reach the hub over the internet, not through the tunnel"))
    except ValueError:
        pass  # a host name
    placed: dict[str, Placed] = {}
    addresses: dict[str, str] = {}
    for index, device_id, written in devices:
        where = ("devices", index, "tunnel_address")
        if written is not None:
            address = ipaddress.ip_address(written)
            if not usable(network, address):
                problems.append(doc.problem(where, f"{written} is not a host address of the fleet network "
                                                   f"{network}"))
                continue
            if address == hub:
                problems.append(doc.problem(where, f"{written} is the hub's own address (fleet.hub_address)"))
                continue
            spot = Placed(index, device_id, str(address), True)
        else:
            spot = Placed(index, device_id, derived_address(device_id, fleet), False)
        first = placed.setdefault(spot.address, spot)
        if first is not spot:
            line = doc.locate(("devices", first.index))[0]
            how = "written here" if spot.written else "derived from its id"
            problems.append(doc.problem(where if spot.written else ("devices", index, "id"), (
                f"tunnel address {spot.address} ({how}) is already that of device '{first.device_id}' (line {line}): "
                f"give the device that is not yet out in a home a tunnel_address of its own, a free one in "
                f"{network}")))
            continue
        addresses[device_id] = spot.address
    return addresses, problems


def lan_network(value: Any) -> str:
    """A home's own network, as its router gives it out; ValueError in words."""
    try:
        return str(ipaddress.ip_network(str(value).strip(), strict=False))
    except ValueError:
        raise ValueError("must be a network like 192.168.178.0/24") from None


__all__ = ["Fleet", "Placed", "fleet_problems", "derived_address", "wireguard_key", "split_endpoint", "ip_address",
           "lan_network", "usable", "INTERFACE", "DEFAULT_KEYS_DIR"]
