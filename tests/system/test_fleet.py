"""The city sees its fleet: the booted appliance behind a care home's NAT dials the city's hub, Prometheus scrapes it
through the tunnel, Ansible runs the fleet role through it, and Alertmanager hears when its kiosk stops.

The world is made of network namespaces this test creates (tests/system/fleetnet.py): the device (the whole-appliance
container, in the stand-in's namespace) on a care home LAN behind a router that masquerades, the hub on the far side
with WireGuard (wireguard-go: this kernel has no WireGuard module; wg-quick falls back to it by itself, as Debian's
wg-quick@.service does on the device), Debian's prometheus and prometheus-alertmanager. The hub's files are what
`palim-provision hub-config` writes; only the timers are shortened, by rendering them again with
provisioning.monitoring's parameters (the shipped files stay as they are).

Measured (written to build/fleet-measurements.json and printed at the end, never asserted): boot to first scrape,
dead kiosk to the alert at Alertmanager, and the bytes one device sends through the tunnel per day.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from provisioning import rootfs
from provisioning.devicelist import load_file
from provisioning.fleetkeys import public_key
from provisioning.monitoring import RULES_FILE, alertmanager_config, prometheus_config, shortened_rules
from tests.requirements import need
from tests.system import appliance as ap
from tests.system import fleetnet as net
from tests.vm.stick import ansible_playbook, recap

pytestmark = pytest.mark.system

HUB_INTERFACE = "palim-hub"
HUB_ADDRESS = "10.77.0.1"
# The test's timers: Prometheus scrapes and evaluates every 2 s, every alert's `for:` is 5 s, Alertmanager groups
# after 1 s. The shipped ones are 60 s, 60 s, 5 minutes (kiosk down) and 30 s.
SCRAPE_S, FOR_S = 2, 5
MEASURE_S = 40
HUB_TOOLS = {"wg": "wireguard-tools", "wg-quick": "wireguard-tools", "wireguard-go": "wireguard-go",
             "nft": "nftables", "prometheus": "prometheus", "prometheus-alertmanager": "prometheus-alertmanager",
             "ssh-keygen": "openssh-client"}
# Test-only: a container gets no /dev/net/tun, which wireguard-go needs (a real device uses the kernel's WireGuard),
# and systemd-nspawn keeps CAP_NET_ADMIN from it in a network namespace it did not make itself (a real device's root
# has it: wg-quick makes its interface and addresses with it).
TUN = ("--bind=/dev/net/tun", "--capability=CAP_NET_ADMIN")
MEASUREMENTS = ap.REPO / "build" / "fleet-measurements.json"


def _problem() -> str | None:
    problem = ap.host_problem()
    if problem:
        return problem
    missing = [tool for tool in HUB_TOOLS if shutil.which(tool) is None]
    if missing:
        return (f"{', '.join(missing)} not installed (Debian packages "
                f"{' '.join(dict.fromkeys(HUB_TOOLS[t] for t in missing))}; ./scripts/setup installs them)")
    if shutil.which("ansible-playbook", path=str(Path(sys.executable).parent)) is None:
        return "ansible-playbook is missing from the venv (./scripts/setup installs ansible-core)"
    if not Path("/dev/net/tun").exists():
        return "no /dev/net/tun (wireguard-go needs it)"
    return None


def fleet_device_list(pin: str, hub_public_key: str, admin_key: str, mac: str) -> str:
    """The example list as the appliance test uses it, plus the fleet: block, the admin key, where alerts go; ebh-01
    recognised by the container's network card (what the role's apply checks)."""
    text = ap.device_list_for_standin(pin).replace('match: {mac: "3c:52:82:1a:2b:3c"}', f'match: {{mac: "{mac}"}}')
    fleet = (f"fleet:\n  endpoint: {net.WAN_HUB}:{net.HUB_PORT}\n  hub_public_key: {hub_public_key}\n"
             f"  network: 10.77.0.0/16\n  hub_address: {HUB_ADDRESS}\n")
    defaults = (f"defaults:\n  admin_ssh_keys: ['{admin_key}']\n"
                "  alerts: {it_email: it@stadt.example.org, smtp_host: 127.0.0.1, smtp_port: 2525, "
                "sender: palim-hub@stadt.example.org}\n")
    home = "    name: Erich-Burger-Heim\n"
    for old, new in (("homes:\n", fleet + "homes:\n"), ("defaults:\n", defaults),
                     (home, home + f"    lan: {net.LAN_DEVICE.rsplit('.', 1)[0]}.0/{net.LAN_PREFIX}\n"
                                   "    alert_email: pflege@ebh.example.org\n")):
        if text.count(old) != 1:
            raise AssertionError(f"{ap.DEVICE_LIST} no longer has one {old!r}")
        text = text.replace(old, new)
    return text


def _wait(what: str, check, timeout: float, booted: ap.Booted | None = None, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except ConnectionError:
            value = None
        if value:
            return value
        time.sleep(every)
    journal = booted.sh(["journalctl", "--no-pager", "-b", "-n", "60", "-u", "wg-quick@palim0", "-u",
                         "prometheus-node-exporter", "-u", "ssh", "-u", "systemd-sysctl", "-u", ap.UNIT], timeout=30).stdout if booted else ""
    raise AssertionError(f"{what}: not within {timeout} s\n{journal}")


def _listeners(world: net.World) -> set[str]:
    """The TCP ports listening in the device's network namespace (local address:port)."""
    out = world.in_device("ss", "-Htln").stdout
    return {line.split()[3] for line in out.splitlines() if line.strip()}


def _connects(world: net.World, address: str, port: int) -> bool:
    """Can the router (the care home's LAN) open a TCP connection to address:port?"""
    code = ("import socket, sys\ntry:\n socket.create_connection((sys.argv[1], int(sys.argv[2])), 3).close()\n"
            "except OSError:\n sys.exit(1)")
    return world.in_router(sys.executable, "-c", code, address, str(port), check=False).returncode == 0


def _kiosk_alert(world: net.World) -> dict | None:
    return next((a for a in world.alerts() if a["labels"].get("alertname") == "PalimKioskDown"
                 and a["labels"].get("device") == ap.DEVICE), None)


def test_the_city_sees_its_fleet_through_the_care_homes_nat():
    problem = _problem()
    need(problem is None, f"fleet test not possible on this host: {problem}")
    measured: dict = {}
    with ap.root_run("fleet", "fleet through NAT") as (run, _):
        log, work = run.log, run.dir
        standin = ap.start_standin(work)
        world = booted = None
        hub = work / "hub"
        hub.mkdir(mode=0o700)
        try:
            with log.phase("world"):
                world = net.make_world(log, standin.netns)
                # The router forwards between the care home and the internet; the hub knows no way to the home.
                assert "192.168.77" not in world.in_hub("ip", "route").stdout

            with log.phase("controller and hub"):
                hub_key = subprocess.run(["wg", "genkey"], capture_output=True, text=True, check=True).stdout.strip()
                hub_public = public_key(hub_key)
                subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ansible@hub", "-f",
                                str(work / "admin")], check=True)
                controller = work / "controller"
                controller.mkdir()
                devices = controller / "devices.yaml"
                mac = json.loads(world.in_device("ip", "-j", "link", "show", "lan0").stdout)[0]["address"]
                devices_text = fleet_device_list(standin.pin, hub_public, (work / "admin.pub").read_text().strip(),
                                                 mac)
                devices.write_text(devices_text)
                cli = [sys.executable, "-m", "provisioning.cli"]
                log.run([*cli, "hub-config", str(devices), "--out", str(hub / "config")])
                inventory = work / "inventory.yml"
                inventory.write_text(log.run([*cli, "inventory", str(devices)]).stdout)
                loaded = load_file(devices)
                tunnel = loaded.target(ap.DEVICE).tunnel_address
                device_key = (controller / "secrets/wireguard" / f"{ap.DEVICE}.key").read_text().strip()
                device_public = public_key(device_key)
                # The test's timers, rendered with the same functions hub-config uses (the shipped files untouched).
                prom = hub / "config" / "prometheus"
                (prom / "prometheus.yml").write_text(prometheus_config(
                    ["palim-devices.json"], [RULES_FILE.name], scrape_interval_s=SCRAPE_S,
                    evaluation_interval_s=SCRAPE_S, scrape_timeout_s=SCRAPE_S))
                (prom / RULES_FILE.name).write_text(shortened_rules(RULES_FILE.read_text(), FOR_S))
                (hub / "config" / "alertmanager" / "alertmanager.yml").write_text(alertmanager_config(
                    loaded.model, group_wait_s=1, group_interval_s=2, repeat_interval_s=3600))
                # The hub's interface: its own key and port here, the peers from hub-config (as docs/fleet.md says).
                interface = hub / f"{HUB_INTERFACE}.conf"
                fd = os.open(interface, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as handle:
                    handle.write(f"[Interface]\nPrivateKey = {hub_key}\nAddress = {HUB_ADDRESS}/16\n"
                                 f"ListenPort = {net.HUB_PORT}\n")
                world.in_hub("wg-quick", "up", str(interface), secrets=[hub_key])
                world.in_hub("bash", "-c", f"wg syncconf {HUB_INTERFACE} <(cat <(wg-quick strip {interface}) "
                                           f"{hub / 'config/wireguard/palim-peers.conf'})", secrets=[hub_key])
                world.start_in_hub("prometheus", ["prometheus", f"--config.file={prom / 'prometheus.yml'}",
                                                  f"--storage.tsdb.path={hub / 'tsdb'}",
                                                  f"--web.listen-address={net.PROMETHEUS}"], hub)
                world.start_in_hub("alertmanager", [
                    "prometheus-alertmanager", f"--config.file={hub / 'config/alertmanager/alertmanager.yml'}",
                    f"--storage.path={hub / 'alertmanager'}", f"--web.listen-address={net.ALERTMANAGER}",
                    "--cluster.listen-address="], hub)

            with log.phase("provision"):
                # The device's key, delivered as the list says (beside it, 0600), like its other secrets.
                keys = run.path("/root/secrets/wireguard")
                keys.mkdir(parents=True, mode=0o700)
                shutil.copy2(controller / "secrets/wireguard" / f"{ap.DEVICE}.key", keys)
                # A device from the stick has OpenSSH's client (the machine root's packages), with which apply checks
                # the admin keys; the container's base root is the smaller one: it gets just that.
                rootfs.in_root(log, run.root, ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y",
                                               "-q", "--no-install-recommends", "openssh-client"], timeout=600)
                ap.provision(run, standin.pin, devices_text)
                ap.add_test_dropins(run, ap.unprivileged_userns_works(run.root, log))
                # systemd-sysctl skips a container (its /proc/sys is read-only there); the device's own file is
                # applied to its network namespace from outside, as systemd-sysctl does at a real device's boot.
                world.in_device("sysctl", "-p", str(run.path("/etc/sysctl.d/60-palim-fleet.conf")))
                conf = run.path("/etc/wireguard/palim0.conf")
                assert (conf.stat().st_mode & 0o777, conf.stat().st_uid) == (0o600, 0)
                assert device_key not in log.path.read_text() and hub_key not in log.path.read_text()

            with log.phase("boot to first scrape"):
                booted_at = time.time()
                booted = ap.boot(run, standin, extra=TUN)
                _wait("the device's handshake at the hub",
                      lambda: net.latest_handshake(world, HUB_INTERFACE).get(device_public), 180, booted)
                # The hub sees the device come from the router's internet address: through the NAT, dialled out.
                assert net.endpoints(world, HUB_INTERFACE)[device_public].startswith(f"{net.WAN_ROUTER}:")
                _wait("Prometheus scraping the device through the tunnel",
                      lambda: world.query(f'up{{device="{ap.DEVICE}"}} == 1'), 180, booted)
                samples = world.query(f'up{{device="{ap.DEVICE}",home="erich-burger-heim"}}[10m]')[0]["values"]
                first = next(float(at) for at, value in samples if value == "1")
                # A sample carries its scrape's start; a scrape that began before the tunnel was up waited for it
                # (WireGuard holds the packets until the handshake): the first scrape ended at start + duration.
                took = world.query(f'scrape_duration_seconds{{device="{ap.DEVICE}"}}[10m]')[0]["values"]
                duration = next(float(value) for at, value in took if float(at) == first)
                measured["boot_to_first_scrape_s"] = round(first + duration - booted_at, 1)
                _wait("the kiosk's own figures through the tunnel",
                      lambda: world.query(f'palim_kiosk_up{{device="{ap.DEVICE}"}} == 1'), 300, booted)

            with log.phase("listening"):
                assert booted.sh(["sysctl", "-n", "net.ipv4.ip_nonlocal_bind"]).stdout.strip() == "1"
                wanted = {f"{tunnel}:22", f"{tunnel}:9100"}
                listening = _wait("SSH and node_exporter listening on the tunnel address",
                                  lambda: (found := _listeners(world)) >= wanted and found, 60, booted)
                # Nothing else: the stand-in's port is the test's own Jitsi, on the device's 127.0.0.1.
                assert listening - {f"{tunnel}:22", f"{tunnel}:9100", f"127.0.0.1:{ap.STANDIN_PORT}"} == set()
                assert not _connects(world, net.LAN_DEVICE, 22) and not _connects(world, net.LAN_DEVICE, 9100)
                # A device whose tunnel is not up (the hub unreachable): SSH and node_exporter still start, bound
                # to the address the tunnel will bring.
                booted.sh(["systemctl", "stop", "wg-quick@palim0.service"], check=True)
                booted.sh(["systemctl", "restart", "ssh.service", "prometheus-node-exporter.service"], check=True)
                assert tunnel not in booted.sh(["cat", "/proc/net/fib_trie"]).stdout
                _wait("SSH and node_exporter started without the tunnel",
                      lambda: _listeners(world) >= wanted, 30, booted)
                booted.sh(["systemctl", "start", "wg-quick@palim0.service"], check=True)

            with log.phase("fleet role over the tunnel"):
                known = work / "known_hosts"
                known.write_text("".join(f"{tunnel} {' '.join(p.read_text().split()[:2])}\n"
                                         for p in sorted(run.path("/etc/ssh").glob("ssh_host_*_key.pub"))))
                tunnel_link = json.loads(booted.sh(["ip", "-j", "link", "show", "palim0"], check=True).stdout)[0]
                # From the hub's namespace, where the city's Ansible runs; the inventory's ansible_host: the tunnel.
                role = (log, work, inventory, 22, work / "admin", known, run.psk)
                code, output = ansible_playbook(*role, host=None, wrap=tuple(world.hub.argv()))
                assert code == 0, f"the fleet role over the tunnel failed:\n{output[-4000:]}"
                assert device_key not in output and run.psk not in output
                code, output = ansible_playbook(*role, host=None, wrap=tuple(world.hub.argv()))
                assert code == 0, output[-4000:]
                assert recap(output)["changed"] == 0, output[-4000:]
                # The tunnel stayed up through the role's applies (wg syncconf, never wg-quick down and up, which
                # would make the interface anew): the same interface, and Prometheus still scrapes through it.
                assert json.loads(booted.sh(["ip", "-j", "link", "show", "palim0"], check=True).stdout)[0]["ifindex"] \
                    == tunnel_link["ifindex"]
                _wait("Prometheus scraping the device after the role",
                      lambda: world.query(f'up{{device="{ap.DEVICE}"}} == 1'), 30, booted)

            with log.phase("kiosk down and up"):
                _wait("no kiosk alert before the kiosk is stopped", lambda: _kiosk_alert(world) is None, 120, booted)
                stopped_at = time.time()
                booted.sh(["systemctl", "stop", ap.UNIT], check=True)
                alert = _wait("the kiosk alert at Alertmanager", lambda: _kiosk_alert(world), 180, booted)
                measured["dead_kiosk_to_alert_s"] = round(time.time() - stopped_at, 1)
                assert alert["labels"]["home"] == "erich-burger-heim" and alert["status"]["state"] == "active"
                assert ap.DEVICE in alert["annotations"]["summary"] and "erich-burger-heim" in \
                    alert["annotations"]["summary"]
                assert "Erna" not in json.dumps(alert)
                started_at = time.time()
                booted.sh(["systemctl", "start", ap.UNIT], check=True)
                _wait("the kiosk alert resolved", lambda: _kiosk_alert(world) is None, 300, booted)
                measured["kiosk_back_to_resolved_s"] = round(time.time() - started_at, 1)

            with log.phase("bytes over the tunnel"):
                measured.update(_bytes_per_day(world, device_public))
        finally:
            if booted is not None:
                ap.poweroff(booted)
            if world is not None:
                world.in_hub("wg-quick", "down", str(hub / f"{HUB_INTERFACE}.conf"), check=False)
                world.stop()
            standin.stop()
            if measured:
                MEASUREMENTS.parent.mkdir(parents=True, exist_ok=True)
                MEASUREMENTS.write_text(json.dumps(measured, indent=2) + "\n")
                ap.REPORT.append(f"fleet through NAT: {json.dumps(measured)} (also in {MEASUREMENTS})")


def _bytes_per_day(world: net.World, device_public: str) -> dict:
    """What one device sends through the tunnel, from the hub's counters (`wg show transfer`: bytes received from
    the peer, WireGuard's UDP payload: data, keepalives, handshakes):

    - per scrape: over MEASURE_S seconds with Prometheus scraping every SCRAPE_S, the bytes divided by the scrapes
      Prometheus counted in that window (no keepalive is due while traffic flows);
    - idle: over MEASURE_S seconds with Prometheus paused (SIGSTOP), keepalives (every 25 s) and rekey handshakes;
    - per day at the shipped interval (60 s): 1440 scrapes plus the idle rate for the whole day (a slight over-count:
      keepalives are not sent in the seconds a scrape makes traffic)."""
    prometheus = world.programs[0]
    before = net.wg_transfer(world, HUB_INTERFACE)[device_public][0]
    time.sleep(MEASURE_S)
    after = net.wg_transfer(world, HUB_INTERFACE)[device_public][0]
    scrapes = int(float(world.query(f'count_over_time(up{{device="{ap.DEVICE}"}}[{MEASURE_S}s])')[0]["value"][1]))
    per_scrape = (after - before) / scrapes
    os.kill(prometheus.pid, 19)  # SIGSTOP: no scrapes, the tunnel idle
    try:
        idle_before = net.wg_transfer(world, HUB_INTERFACE)[device_public][0]
        time.sleep(MEASURE_S)
        idle = net.wg_transfer(world, HUB_INTERFACE)[device_public][0] - idle_before
    finally:
        os.kill(prometheus.pid, 18)  # SIGCONT
    per_day = 1440 * per_scrape + idle / MEASURE_S * 86400
    return {"bytes_per_scrape": round(per_scrape), "scrapes_in_window": scrapes,
            "idle_bytes_per_s": round(idle / MEASURE_S, 2), "bytes_per_day_at_60s_scrapes": round(per_day),
            "mib_per_day_at_60s_scrapes": round(per_day / 2**20, 2)}
