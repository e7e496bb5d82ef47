"""What the city's fleet hub needs from the device list, as files: the WireGuard peers (one per device, its public
key and its tunnel address), and through provisioning.monitoring the Prometheus targets, prometheus.yml, the alert
rules and alertmanager.yml. Pure: texts from the model and the devices' public keys; the hub's own private key is
never here (it stays on the hub, in its [Interface])."""

from __future__ import annotations

from dataclasses import dataclass

from .devicelist import Loaded
from .fleet import INTERFACE
from .monitoring import RULES_FILE, alertmanager_config, file_sd_json, prometheus_config

HUB_INTERFACE = "palim-hub"
PEERS_FILE = "wireguard/palim-peers.conf"
TARGETS_FILE = "prometheus/palim-devices.json"
PROMETHEUS_FILE = "prometheus/prometheus.yml"
RULES = "prometheus/" + RULES_FILE.name
ALERTMANAGER_FILE = "alertmanager/alertmanager.yml"


@dataclass(frozen=True)
class HubFile:
    """One file for the hub, relative to the output folder."""

    path: str
    content: str


def peers(loaded: Loaded, public_keys: dict[str, str], source_name: str) -> str:
    """The hub's [Peer] sections: each device may send from its tunnel address only (AllowedIPs /32 or /128)."""
    lines = [f"# WireGuard peers of the Palim fleet hub ({len(loaded.targets)} devices), written by palim-provision "
             f"hub-config from {source_name}:",
             "# edit the device list, not this file. Give them to the hub's interface (its [Interface] and private key",
             f"# stay on the hub): wg syncconf {HUB_INTERFACE} <(cat <(wg-quick strip {HUB_INTERFACE}) "
             f"palim-peers.conf)", ""]
    for target in sorted(loaded.targets, key=lambda t: t.id):
        host = "128" if ":" in target.tunnel_address else "32"
        lines += ["[Peer]", f"# {target.id} ({target.home_key}); on the device: {INTERFACE}",
                  f"PublicKey = {public_keys[target.id]}", f"AllowedIPs = {target.tunnel_address}/{host}", ""]
    return "\n".join(lines)


def hub_files(loaded: Loaded, public_keys: dict[str, str], source_name: str, *, scrape_interval_s: int = 60,
              evaluation_interval_s: int = 60) -> tuple[list[HubFile], list[str]]:
    """Every file for the hub, and notes on what was left out (no alerts: block, no Alertmanager config).
    Prometheus reads the targets and rules next to prometheus.yml (relative paths are its folder's)."""
    addresses = {t.id: t.tunnel_address for t in loaded.targets}
    files = [
        HubFile(PEERS_FILE, peers(loaded, public_keys, source_name)),
        HubFile(TARGETS_FILE, file_sd_json(loaded.targets, addresses)),
        HubFile(PROMETHEUS_FILE, prometheus_config([TARGETS_FILE.split("/")[1]], [RULES.split("/")[1]],
                                                   scrape_interval_s=scrape_interval_s,
                                                   evaluation_interval_s=evaluation_interval_s)),
        HubFile(RULES, RULES_FILE.read_text(encoding="utf-8")),
    ]
    notes = []
    if loaded.model.defaults.alerts is None:
        notes.append("no Alertmanager config: the list has no defaults.alerts (it_email and the SMTP relay)")
    else:
        files.append(HubFile(ALERTMANAGER_FILE, alertmanager_config(loaded.model)))
    return files, notes


__all__ = ["HubFile", "hub_files", "peers", "HUB_INTERFACE", "PEERS_FILE", "TARGETS_FILE", "PROMETHEUS_FILE",
           "RULES", "ALERTMANAGER_FILE"]
