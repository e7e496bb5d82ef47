"""fleet: the city's WireGuard hub in the device list. Each device's tunnel address (written or derived from its id,
never moved by other devices), the refusals validate gives with their position, the device's key pair (checked
with the real wg from wireguard-tools), and the files a fleet device gets."""

import os
import subprocess

import pytest

from provisioning.apply import apply_bundle
from provisioning.bundle import SSHD_DROPIN, WG_CONF, render_bundle
from provisioning.devicelist import DeviceListError, load_text
from provisioning.fleet import derived_address
from provisioning.fleetkeys import device_keys, key_file, new_private_key, public_key
from tests.requirements import need_tool

from .helpers import FLEET, HUB_KEY, VALID, fleet_list

def problems(text: str) -> list[str]:
    with pytest.raises(DeviceListError) as exc:
        load_text(text, "devices.yaml")
    return [str(p) for p in exc.value.problems]


def test_each_device_gets_an_address_in_the_network_that_its_id_alone_decides():
    loaded = load_text(fleet_list(), "devices.yaml")
    addresses = {t.id: t.tunnel_address for t in loaded.targets}
    assert all(a.startswith("10.77.") and a != "10.77.0.1" for a in addresses.values())
    # Another device added in front, the order reversed: nobody moves.
    more = VALID.replace("devices:\n", "devices:\n  - id: zz-new\n    home: ebh\n    resident: Neu\n"
                                       "    room: palim-qqqqdeebeoie5kzya3mw4pgrmnb\n    match: {mac: \"00:11:22:33:44:55\"}\n")
    again = {t.id: t.tunnel_address for t in load_text(fleet_list(text=more), "devices.yaml").targets}
    assert {k: again[k] for k in addresses} == addresses


def test_a_written_address_wins():
    text = fleet_list().replace('    match: {mac: "3c:52:82:1a:2b:3c"}\n',
                                '    match: {mac: "3c:52:82:1a:2b:3c"}\n    tunnel_address: 10.77.0.11\n')
    assert load_text(text, "devices.yaml").target("ebh-01").tunnel_address == "10.77.0.11"


@pytest.mark.parametrize("change, expected", [
    (("hub_public_key: " + HUB_KEY, "hub_public_key: abc"), "devices.yaml:6:19: fleet.hub_public_key: must be a "
                                                             "WireGuard public key"),
    (("hub_public_key: " + HUB_KEY, "hub_public_key: " + HUB_KEY[:-2] + "=="), "6:19: fleet.hub_public_key"),
    ((":51820", ""), "devices.yaml:5:13: fleet.endpoint: has no port: write the hub's WireGuard port after a colon, "
                     "like vpn.stadt.example.org:51820"),
    ((":51820", ":70000"), "5:13: fleet.endpoint: port 70000 is not a port"),
    (("vpn.stadt.example.org", "10.77.3.3"), "5:13: fleet.endpoint: 10.77.3.3 lies inside the fleet network"),
    (("10.77.0.0/16", "10.77.0.1/16"), "7:12: fleet.network: must be a network like 10.77.0.0/16"),
    (("hub_address: 10.77.0.1", "hub_address: 10.78.0.1"), "8:16: fleet.hub_address: 10.78.0.1 is not a host "
                                                            "address of the fleet network 10.77.0.0/16"),
    (("hub_address: 10.77.0.1", "hub_address: 10.77.0.0"), "8:16: fleet.hub_address: 10.77.0.0 is not a host"),
])
def test_a_broken_fleet_block_is_refused_where_it_is_written(change, expected):
    found = problems(fleet_list(FLEET.replace(*change)))
    assert len(found) == 1 and expected in found[0], found


def test_a_home_lan_that_overlaps_the_fleet_network_is_refused():
    text = fleet_list().replace("    name: EBH\n", "    name: EBH\n    lan: 10.77.8.0/24\n")
    assert problems(text) == ["devices.yaml:12:10: homes.ebh.lan: overlaps the fleet network 10.77.0.0/16: the device "
                              "could not tell the home's own network from the tunnel; choose another fleet network "
                              "(or correct lan)"]
    assert load_text(fleet_list().replace("    name: EBH\n", "    name: EBH\n    lan: 192.168.178.0/24\n"),
                     "devices.yaml").model.homes["ebh"].lan == "192.168.178.0/24"


@pytest.mark.parametrize("written, expected", [
    ("10.78.0.3", "10.78.0.3 is not a host address of the fleet network 10.77.0.0/16"),
    ("10.77.255.255", "10.77.255.255 is not a host address"),
    ("10.77.0.1", "10.77.0.1 is the hub's own address (fleet.hub_address)"),
    ("10.77.0.5/32", "must be an IP address like 10.77.0.1 (no prefix length)"),
])
def test_a_written_address_outside_the_network_or_on_the_hub_is_refused(written, expected):
    text = fleet_list().replace('    match: {mac: "3c:52:82:1a:2b:3c"}\n',
                                f'    match: {{mac: "3c:52:82:1a:2b:3c"}}\n    tunnel_address: {written}\n')
    found = problems(text)
    assert len(found) == 1 and found[0].startswith("devices.yaml:19:21: devices[0].tunnel_address: ") \
        and expected in found[0], found


def test_two_devices_on_one_address_are_refused_at_the_second():
    first = derived_address("ebh-01", load_text(fleet_list(), "devices.yaml").model.fleet)
    text = fleet_list().replace('    match: {serial: "5CG1234XYZ"}\n',
                                f'    match: {{serial: "5CG1234XYZ"}}\n    tunnel_address: {first}\n')
    assert problems(text) == [f"devices.yaml:24:21: devices[1].tunnel_address: tunnel address {first} (written here) "
                              f"is already that of device 'ebh-01' (line 14): give the device that is not yet out in "
                              f"a home a tunnel_address of its own, a free one in 10.77.0.0/16"]


def test_a_tunnel_address_without_a_fleet_is_refused():
    text = VALID.replace('    match: {mac: "3c:52:82:1a:2b:3c"}\n',
                         '    match: {mac: "3c:52:82:1a:2b:3c"}\n    tunnel_address: 10.77.0.5\n')
    assert problems(text) == ["devices.yaml:14:5: devices[0].tunnel_address: a tunnel address needs a fleet: block "
                              "(the city's WireGuard hub) at the top of the list"]


def test_the_key_pair_is_what_wireguard_tools_make_of_it(tmp_path):
    wg = need_tool("wg", apt="wireguard-tools")
    private = new_private_key()
    derived = subprocess.run([wg, "pubkey"], input=private + "\n", capture_output=True, text=True, check=True)
    assert public_key(private) == derived.stdout.strip()
    # ... and a key wg genkey made is read back the same way.
    made = subprocess.run([wg, "genkey"], capture_output=True, text=True, check=True).stdout.strip()
    assert public_key(made) == subprocess.run([wg, "pubkey"], input=made, capture_output=True, text=True,
                                              check=True).stdout.strip()


def test_keys_are_made_once_root_only_and_never_in_a_message(tmp_path):
    (tmp_path / "devices.yaml").write_text(fleet_list())
    loaded = load_text(fleet_list(), str(tmp_path / "devices.yaml"))
    keys, made, found = device_keys(loaded, loaded.targets)
    assert made == ["ebh-01", "ebh-02"] and not found
    path = key_file(loaded, loaded.targets[0])
    assert path == tmp_path / "secrets" / "wireguard" / "ebh-01.key"
    assert oct(path.stat().st_mode & 0o777) == "0o600" and oct(path.parent.stat().st_mode & 0o777) == "0o700"
    again, made_again, _ = device_keys(loaded, loaded.targets)
    assert again == keys and made_again == []
    path.write_text("not a key\n")
    _, _, found = device_keys(loaded, loaded.targets[:1])
    assert len(found) == 1 and "holds no WireGuard private key" in str(found[0])
    assert keys["ebh-02"] not in str(found[0])


def test_a_device_of_the_ansible_role_takes_its_key_from_the_environment(tmp_path):
    text = fleet_list(FLEET + "  key_env: PALIM_WG_KEY\n")
    loaded = load_text(text, str(tmp_path / "devices.yaml"))
    key = new_private_key()
    assert device_keys(loaded, loaded.targets[:1], env={"PALIM_WG_KEY": key})[0] == {"ebh-01": key}
    _, _, found = device_keys(loaded, loaded.targets[:1], env={})
    assert [str(p) for p in found] == [f"{tmp_path}/devices.yaml:9:12: fleet.key_env: the environment variable "
                                       f"PALIM_WG_KEY does not hold ebh-01's WireGuard private key"]
    assert not (tmp_path / "secrets").exists()


def test_a_fleet_device_dials_the_hub_and_listens_on_its_tunnel_address_only(tmp_path):
    key = new_private_key()
    keyed = fleet_list().replace("defaults:\n", "defaults:\n  admin_ssh_keys: []\n")
    target = load_text(keyed, "devices.yaml").targets[0]
    files = {f.path: f for f in render_bundle(target, "Sonnenschein 42", wg_key=key).files}
    conf = files[WG_CONF]
    assert conf.mode == 0o600 and conf.owner == "root" and key in conf.secrets
    text = conf.content.decode()
    assert f"Address = {target.tunnel_address}/16\n" in text and "Endpoint = vpn.stadt.example.org:51820\n" in text
    assert "AllowedIPs = 10.77.0.0/16\n" in text and "PersistentKeepalive = 25\n" in text
    assert "ListenPort" not in text  # dials out; no port is opened at the home
    assert f"ListenAddress {target.tunnel_address}\n" in files[SSHD_DROPIN].content.decode()
    exporter = files["/etc/systemd/system/prometheus-node-exporter.service.d/palim.conf"].content.decode()
    assert f"--web.listen-address={target.tunnel_address}:9100 " in exporter
    assert "--collector.textfile.directory=/var/lib/palim-kiosk/metrics " in exporter
    assert "metrics_file: /var/lib/palim-kiosk/metrics/palim_kiosk.prom" in \
        files["/etc/palim-kiosk/kiosk.yaml"].content.decode()
    # The private key shows nowhere: not in the manifest, not in a dry run's diff.
    report = apply_bundle(render_bundle(target, "Sonnenschein 42", wg_key=key), tmp_path, dry_run=True)
    assert key not in report.diff_text() and "PrivateKey =<hidden, new>" in report.diff_text()
    assert key not in str(render_bundle(target, "Sonnenschein 42", wg_key=key).manifest())
    with pytest.raises(ValueError, match="WireGuard key for ebh-01 is needed"):
        render_bundle(target, "Sonnenschein 42")


def test_wg_quick_reads_the_rendered_config(tmp_path):
    """wg-quick's own parser (strip) takes the file, and wg's (setconf's grammar, via wg-quick strip) too."""
    wg_quick = need_tool("wg-quick", apt="wireguard-tools")
    key = new_private_key()
    target = load_text(fleet_list(), "devices.yaml").targets[0]
    conf = next(f for f in render_bundle(target, "x" * 12, wg_key=key).files if f.path == WG_CONF)
    path = tmp_path / "palim0.conf"
    path.write_bytes(conf.content)
    os.chmod(path, 0o600)
    stripped = subprocess.run([wg_quick, "strip", str(path)], capture_output=True, text=True, check=True).stdout
    assert f"PrivateKey = {key}" in stripped and "Address" not in stripped
