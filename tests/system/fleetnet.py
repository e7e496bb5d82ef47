"""The fleet's world for the whole-appliance fleet test, made of network namespaces this test creates and nothing else.

    care home LAN 192.168.77.0/24            "internet" 203.0.113.0/24 (TEST-NET-3)
    device ns (the stand-in's) --- router ns (NAT: nftables masquerade) --- hub ns
    lan0 .10, default via .1       lan1 .1 | wan0 .1                         wan1 .10: WireGuard (wireguard-go),
                                                                             Prometheus, Alertmanager on its 127.0.0.1

The hub has no route to the care home's LAN: the device is reached only through the tunnel it dials out. Each
namespace is held by one process (unshare ... sleep); the hub's programs run on the host's files in the hub's network
namespace (nsenter --net).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from provisioning.rootfs import Log

LAN_DEVICE, LAN_ROUTER, LAN_PREFIX = "192.168.77.10", "192.168.77.1", 24
WAN_ROUTER, WAN_HUB, WAN_PREFIX = "203.0.113.1", "203.0.113.10", 24
HUB_PORT = 51820
PROMETHEUS, ALERTMANAGER = "127.0.0.1:9090", "127.0.0.1:9093"
NAT_RULES = """\
table ip palim_test_nat {
  chain postrouting {
    type nat hook postrouting priority srcnat;
    oifname "wan0" masquerade
  }
}
"""


@dataclass
class Namespace:
    """A network namespace held by a sleeping process of ours."""

    holder: subprocess.Popen

    @property
    def path(self) -> str:
        return f"/proc/{self.holder.pid}/ns/net"

    def argv(self, *argv: str) -> list[str]:
        return ["nsenter", f"--net={self.path}", "--", *argv]

    def stop(self) -> None:
        if self.holder.poll() is None:
            self.holder.kill()
            self.holder.wait(5)


def namespace() -> Namespace:
    holder = subprocess.Popen(["unshare", "--net", "--", "sleep", "infinity"], stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{holder.pid}/ns/net").resolve() == Path("/proc/self/ns/net").resolve():
        if time.monotonic() > deadline:  # unshare has not made its namespace yet
            raise AssertionError("unshare --net made no namespace")
        time.sleep(0.05)
    return Namespace(holder)


@dataclass
class World:
    """The router and hub namespaces around the device's (the stand-in's), and the hub's programs."""

    log: Log
    device_ns: str
    router: Namespace
    hub: Namespace
    programs: list[subprocess.Popen] = field(default_factory=list)

    def in_device(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.log.run(["nsenter", f"--net={self.device_ns}", "--", *argv], check=check)

    def in_router(self, *argv: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
        return self.log.run(self.router.argv(*argv), check=check, input=input)

    def in_hub(self, *argv: str, check: bool = True, secrets=()) -> subprocess.CompletedProcess:
        return self.log.run(self.hub.argv(*argv), check=check, secrets=secrets)

    def start_in_hub(self, name: str, argv: list[str], out_dir: Path) -> subprocess.Popen:
        """A long-running program in the hub's network namespace, its output in OUT_DIR/<name>.log."""
        self.log.write(f"$ (hub) {' '.join(argv)}   (output: {out_dir / (name + '.log')})")
        proc = subprocess.Popen(self.hub.argv(*argv), stdout=open(out_dir / f"{name}.log", "w"),
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.programs.append(proc)
        return proc

    def hub_http(self, address: str, path: str, params: dict | None = None, timeout: float = 10) -> dict | list:
        """GET http://ADDRESS/PATH?PARAMS from inside the hub's namespace, the JSON answer."""
        url = f"http://{address}{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
        code = ("import sys, urllib.request\n"
                f"sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout={timeout}).read().decode())")
        proc = subprocess.run(self.hub.argv(sys.executable, "-c", code, url), capture_output=True, text=True,
                              timeout=timeout + 10)
        if proc.returncode != 0:
            raise ConnectionError(f"{url}: {proc.stderr.strip().splitlines()[-1:]}")
        return json.loads(proc.stdout)

    def query(self, expr: str) -> list[dict]:
        """Prometheus' instant query API: the result vector."""
        answer = self.hub_http(PROMETHEUS, "/api/v1/query", {"query": expr})
        return answer["data"]["result"]

    def alerts(self) -> list[dict]:
        """Alertmanager's API v2: the alerts it holds now (active, silenced or not)."""
        return self.hub_http(ALERTMANAGER, "/api/v2/alerts")

    def stop(self) -> None:
        for proc in reversed(self.programs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
        # What else runs in our router's or hub's namespace is ours too (wireguard-go daemonizes itself).
        for ns in (self.router, self.hub):
            for pid in pids_in(ns.path, besides=ns.holder.pid):
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        self.router.stop()
        self.hub.stop()


def pids_in(netns: str, besides: int) -> list[int]:
    """The processes whose network namespace is `netns`, except `besides`."""
    try:
        wanted = os.readlink(netns)
    except OSError:
        return []
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != besides:
            try:
                if os.readlink(entry / "ns/net") == wanted:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def make_world(log: Log, device_ns: str) -> World:
    """The router and hub namespaces, wired to the device's: addresses, routes, forwarding and NAT."""
    world = World(log, device_ns, namespace(), namespace())
    try:
        # Each veth pair is made inside a namespace of ours and its far end moved straight into the other one:
        # nothing ever appears in the host's own network.
        world.in_device("ip", "link", "add", "lan0", "type", "veth", "peer", "name", "lan1", "netns",
                        str(world.router.holder.pid))
        world.in_router("ip", "link", "add", "wan0", "type", "veth", "peer", "name", "wan1", "netns",
                        str(world.hub.holder.pid))
        world.in_device("ip", "addr", "add", f"{LAN_DEVICE}/{LAN_PREFIX}", "dev", "lan0")
        world.in_device("ip", "link", "set", "lan0", "up")
        world.in_device("ip", "route", "add", "default", "via", LAN_ROUTER)
        world.in_router("ip", "addr", "add", f"{LAN_ROUTER}/{LAN_PREFIX}", "dev", "lan1")
        world.in_router("ip", "addr", "add", f"{WAN_ROUTER}/{WAN_PREFIX}", "dev", "wan0")
        for name in ("lo", "lan1", "wan0"):
            world.in_router("ip", "link", "set", name, "up")
        world.in_router("sysctl", "-qw", "net.ipv4.ip_forward=1")
        world.in_router("nft", "-f", "-", input=NAT_RULES)
        world.in_hub("ip", "addr", "add", f"{WAN_HUB}/{WAN_PREFIX}", "dev", "wan1")
        for name in ("lo", "wan1"):
            world.in_hub("ip", "link", "set", name, "up")
    except BaseException:
        world.stop()
        raise
    return world


def wg_transfer(world: World, interface: str) -> dict[str, tuple[int, int]]:
    """`wg show INTERFACE transfer` on the hub: peer public key -> (bytes received from it, bytes sent to it)."""
    out = world.in_hub("wg", "show", interface, "transfer").stdout
    return {key: (int(rx), int(tx)) for key, rx, tx in (line.split("\t") for line in out.splitlines() if line)}


def latest_handshake(world: World, interface: str) -> dict[str, int]:
    """`wg show INTERFACE latest-handshakes` on the hub: peer public key -> Unix time (0: none yet)."""
    out = world.in_hub("wg", "show", interface, "latest-handshakes").stdout
    return {key: int(at) for key, at in (line.split("\t") for line in out.splitlines() if line)}


def endpoints(world: World, interface: str) -> dict[str, str]:
    """Where the hub sees each peer come from (after NAT: the router's internet address)."""
    out = world.in_hub("wg", "show", interface, "endpoints").stdout
    return {key: at for key, at in (line.split("\t") for line in out.splitlines() if line)}
