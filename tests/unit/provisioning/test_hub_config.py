"""palim-provision hub-config and the fleet's inventory: the hub's peers (read back by the real wg), Prometheus'
files (checked by the real promtool), never a resident's name or a private key; Ansible reaches the devices at
their tunnel addresses and gets each one's key on the controller."""

import json
import subprocess

import yaml

from provisioning.cli import EXIT_INVALID, EXIT_OK, main
from provisioning.devicelist import load_text
from provisioning.fleetkeys import public_key
from provisioning.inventory import build_inventory, extract_device
from tests.requirements import need_tool

from .helpers import FLEET, VALID, fleet_list


def test_hub_config_writes_peers_targets_and_configs(tmp_path, capsys):
    wg = need_tool("wg", apt="wireguard-tools")
    promtool = need_tool("promtool", apt="prometheus")
    listing = tmp_path / "devices.yaml"
    listing.write_text(fleet_list())
    assert main(["hub-config", str(listing), "--out", str(tmp_path / "hub")]) == EXIT_OK
    captured = capsys.readouterr()
    assert "made new WireGuard keys for ebh-01, ebh-02" in captured.err
    loaded = load_text(fleet_list(), str(listing))
    keys = {t.id: (tmp_path / "secrets" / "wireguard" / f"{t.id}.key").read_text().strip() for t in loaded.targets}
    hub = tmp_path / "hub"
    peers = (hub / "wireguard" / "palim-peers.conf").read_text()
    for target in loaded.targets:
        assert f"PublicKey = {public_key(keys[target.id])}\nAllowedIPs = {target.tunnel_address}/32\n" in peers
    every_file = "".join(p.read_text() for p in hub.rglob("*") if p.is_file())
    assert not any(key in every_file + captured.out + captured.err for key in keys.values())
    assert "Erna" not in every_file and "Karl" not in every_file
    # wg reads the peers as the hub's interface would get them (its own key comes from the hub's [Interface]).
    interface = tmp_path / "hub.conf"
    interface.write_text("[Interface]\nPrivateKey = " + subprocess.run([wg, "genkey"], capture_output=True,
                                                                       text=True).stdout + peers)
    assert subprocess.run([need_tool("wg-quick", apt="wireguard-tools"), "strip", str(interface)],
                          capture_output=True, text=True, check=True).stdout.count("[Peer]") == 2
    targets = json.loads((hub / "prometheus" / "palim-devices.json").read_text())
    assert [t["labels"] for t in targets] == [{"device": "ebh-01", "home": "ebh"}, {"device": "ebh-02", "home": "ebh"}]
    assert targets[0]["targets"] == [f"{loaded.targets[0].tunnel_address}:9100"]
    check = subprocess.run([promtool, "check", "config", str(hub / "prometheus" / "prometheus.yml")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    # The second run makes no new key and writes the same files.
    assert main(["hub-config", str(listing), "--out", str(hub)]) == EXIT_OK
    assert "made" not in capsys.readouterr().err
    assert (hub / "wireguard" / "palim-peers.conf").read_text() == peers


def test_hub_config_refuses_a_list_without_a_fleet_and_a_file_as_folder(tmp_path, capsys):
    listing = tmp_path / "devices.yaml"
    listing.write_text(VALID)
    assert main(["hub-config", str(listing), "--out", str(tmp_path / "hub")]) == EXIT_INVALID
    assert "has no fleet: block" in capsys.readouterr().err
    listing.write_text(fleet_list())
    assert main(["hub-config", str(listing), "--out", str(listing)]) == EXIT_INVALID
    assert f"--out {listing} is not a folder" in capsys.readouterr().err
    assert not (tmp_path / "hub").exists() and not (tmp_path / "secrets").exists()


def test_the_inventory_reaches_devices_through_the_tunnel(tmp_path):
    listing = tmp_path / "devices.yaml"
    text = fleet_list().replace('    match: {mac: "3c:52:82:1a:2b:3c"}\n',
                                '    match: {mac: "3c:52:82:1a:2b:3c"}\n    address: 192.168.1.20\n')
    listing.write_text(text)
    loaded = load_text(text, str(listing))
    hosts = build_inventory(loaded, ["palim-provision"])["all"]["children"]["palim_kiosks"]["children"]["home_ebh"]
    first = hosts["hosts"]["ebh-01"]
    assert first["ansible_host"] == loaded.targets[0].tunnel_address  # the home's own address is behind its NAT
    assert first["palim_fleet"] is True and first["palim_wg_key_file"] == str(tmp_path / "secrets/wireguard/ebh-01.key")
    # The device's own list holds the hub but no folder of keys: its key comes from the role, in PALIM_WG_KEY.
    extracted = yaml.safe_load(extract_device(loaded, "ebh-01"))
    assert extracted["fleet"] == {**yaml.safe_load(FLEET)["fleet"], "key_env": "PALIM_WG_KEY"}
