"""admin_ssh_keys: the fleet's way in. Keys are checked where they are typed, rendered into sshd's drop-in and a keys
file, and the SSH server is on with keys, off with an empty list and left alone without the setting."""

import subprocess

import pytest
import yaml

from provisioning.bundle import ADMIN_KEYS, SSHD_DROPIN, render_bundle
from provisioning.devicelist import DeviceListError, load_text
from provisioning.inventory import build_inventory
from provisioning.steps import SSH_PACKAGES, SSH_UNIT
from tests.requirements import need, need_tool

from .helpers import VALID

PSK = "Sonnenschein 42"


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> list[str]:
    """Two real public keys from the real ssh-keygen (OpenSSH): ed25519 and RSA."""
    folder = tmp_path_factory.mktemp("keys")
    out = []
    for kind, extra in (("ed25519", []), ("rsa", ["-b", "2048"])):
        subprocess.run([need_tool("ssh-keygen", apt="openssh-client"), "-q", "-t", kind, *extra, "-N", "",
                        "-C", f"it-{kind}@stadt.example", "-f", str(folder / kind)], check=True)
        out.append((folder / f"{kind}.pub").read_text().strip())
    return out


def _with_keys(defaults_keys=None, home_keys=None) -> str:
    text = VALID
    if defaults_keys is not None:
        text = text.replace("defaults:\n", "defaults:\n  admin_ssh_keys: " + yaml.safe_dump(defaults_keys, width=10000,
                                                                                             default_flow_style=True))
    if home_keys is not None:
        text = text.replace("    name: EBH\n", "    name: EBH\n    admin_ssh_keys: " + yaml.safe_dump(
            home_keys, width=10000, default_flow_style=True))
    return text


def _problems(text: str) -> list[str]:
    with pytest.raises(DeviceListError) as caught:
        load_text(text, "devices.yaml")
    return [str(p) for p in caught.value.problems]


def test_keys_are_inherited_and_a_home_list_replaces_the_defaults_one(keys):
    assert load_text(VALID, "devices.yaml").targets[0].admin_ssh_keys is None
    loaded = load_text(_with_keys(defaults_keys=keys), "devices.yaml")
    assert loaded.targets[0].admin_ssh_keys == tuple(keys)
    loaded = load_text(_with_keys(defaults_keys=keys, home_keys=keys[:1]), "devices.yaml")
    assert loaded.targets[1].admin_ssh_keys == (keys[0],)
    assert load_text(_with_keys(defaults_keys=keys, home_keys=[]), "devices.yaml").targets[0].admin_ssh_keys == ()


@pytest.mark.parametrize("bad, message", [
    ("ssh-ed25519", "must be one public key line like 'ssh-ed25519 AAAAC3Nz... it@stadt'"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----", "must be one public key line"),
    ('command="/bin/sh" {key}', "must be one public key line"),  # options would run commands or widen access
    ("{key}\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK1jo0Q+5mZGC4GV6A3fUMy5fyOVwPYTheJn1pM/ihw0", "must be one public"),
    ("ssh-dss AAAAB3NzaC1kc3M=", "key type 'ssh-dss' is not accepted"),
    ("{swapped}", "the key's data does not match its type"),
    ("{cut}", "the key's data is damaged"),
])
def test_a_bad_key_is_refused_at_its_line_and_column(keys, bad, message):
    key = keys[0]
    bad = bad.format(key=key, swapped=key.replace("ssh-ed25519", "ssh-rsa", 1),
                     cut="ssh-ed25519 " + key.split()[1][:-12] + "AAAAAAAA")
    problems = _problems(_with_keys(defaults_keys=[bad]))
    assert len(problems) == 1
    assert problems[0].startswith("devices.yaml:3:") and "defaults.admin_ssh_keys" in problems[0]
    assert message in problems[0]


def test_the_same_key_twice_is_refused(keys):
    problems = _problems(_with_keys(home_keys=[keys[0], keys[0] + " copy"]))
    assert problems == [problems[0]] and "homes.ebh.admin_ssh_keys: the same key is listed twice" in problems[0]


def test_with_keys_sshd_lets_in_root_with_those_keys_only(keys):
    target = load_text(_with_keys(defaults_keys=keys), "devices.yaml").targets[0]
    bundle = render_bundle(target, PSK)
    files = {f.path: f for f in bundle.files}
    dropin = files[SSHD_DROPIN].content.decode()
    settings = dict(line.split(" ", 1) for line in dropin.splitlines() if line and not line.startswith("#"))
    assert settings == {"PermitRootLogin": "prohibit-password", "AllowUsers": "root", "PasswordAuthentication": "no",
                        "KbdInteractiveAuthentication": "no", "AuthenticationMethods": "publickey",
                        "AuthorizedKeysFile": ADMIN_KEYS}
    lines = [line for line in files[ADMIN_KEYS].content.decode().splitlines() if not line.startswith("#")]
    assert lines == keys
    # sshd's StrictModes: root's and writable by nobody else
    assert (files[ADMIN_KEYS].mode, files[ADMIN_KEYS].owner) == (0o644, "root")
    assert not files[ADMIN_KEYS].secrets  # public keys: shown in diffs like any file
    titles = [s.title for s in bundle.steps]
    install = next(s for s in bundle.steps if "SSH server for the admin keys" in s.title)
    assert install.commands[-1][-len(SSH_PACKAGES):] == SSH_PACKAGES and not install.before_files
    assert titles.index("check the SSH server's config (sshd -t)") < titles.index(f"enable {SSH_UNIT}")
    assert titles[-1] == f"let {SSH_UNIT} read its config"


def test_on_the_stick_the_ssh_server_comes_from_the_carried_packages(keys):
    target = load_text(_with_keys(defaults_keys=keys), "devices.yaml").targets[0]
    install = next(s for s in render_bundle(target, PSK, offline=True).steps if "admin keys" in s.title)
    assert install.commands == (("apt-get", "install", "--no-download", "--no-upgrade", "-y", "--no-install-recommends",
                                 *SSH_PACKAGES),)


def test_an_empty_list_switches_ssh_off_and_no_setting_leaves_it_alone(keys):
    locked = render_bundle(load_text(_with_keys(home_keys=[]), "devices.yaml").targets[0], PSK)
    files = {f.path: f for f in locked.files}
    assert [line for line in files[ADMIN_KEYS].content.decode().splitlines() if not line.startswith("#")] == []
    assert "No keys: nobody may log in." in files[ADMIN_KEYS].content.decode()
    off = [s for s in locked.steps if "SSH server" in s.title]
    assert [s.title for s in off] == ["switch the SSH server off (admin_ssh_keys is empty)", "stop the SSH server"]
    assert not any("apt" in " ".join(s.commands[0]) for s in off)
    alone = render_bundle(load_text(VALID, "devices.yaml").targets[0], PSK)
    assert not any("ssh" in f.path for f in alone.files)
    assert not any("SSH" in s.title for s in alone.steps)


def test_the_off_switch_runs_where_no_ssh_server_is_installed(tmp_path):
    """The empty list's steps on a machine without openssh-server: nothing to switch off, not a failure."""
    from provisioning.steps import ssh_steps

    for step in ssh_steps(False):
        for argv in step.commands:
            assert argv[:2] == ("sh", "-c")
            script = argv[2].replace("/lib/systemd/system/ssh.service", str(tmp_path / "missing.service"))
            assert subprocess.run(["sh", "-c", script]).returncode == 0


def test_the_inventory_logs_in_as_root_only_where_keys_are_managed(keys):
    loaded = load_text(_with_keys(home_keys=keys), "devices.yaml")
    home = build_inventory(loaded, ["palim-provision"])["all"]["children"]["palim_kiosks"]["children"]["home_ebh"]
    assert home["vars"]["ansible_user"] == "root"
    plain = build_inventory(load_text(VALID, "devices.yaml"), ["palim-provision"])
    assert "ansible_user" not in plain["all"]["children"]["palim_kiosks"]["children"]["home_ebh"]["vars"]


def _string(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def _rsa_line(bits: int) -> str:
    """An RSA public key line whose modulus has exactly `bits` bits (sshd reads only the public half)."""
    import base64

    modulus = (1 << (bits - 1)) | 1 | (0x5DEECE66D << 8)
    n = modulus.to_bytes((bits + 7) // 8, "big")
    blob = _string(b"ssh-rsa") + _string(b"\x01\x00\x01") + _string((b"\x00" if n[0] & 0x80 else b"") + n)
    return f"ssh-rsa {base64.b64encode(blob).decode()} it-rsa-{bits}@stadt.example"


def _ed25519() -> str:
    """'ssh-ed25519 AAAA…' of a fresh key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()


def _sk_line(key_bytes: int) -> str:
    import base64

    kind = b"sk-ssh-ed25519@openssh.com"
    blob = _string(kind) + _string(bytes(range(1, key_bytes + 1))) + _string(b"ssh:")
    return f"{kind.decode()} {base64.b64encode(blob).decode()} it-sk@stadt.example"


# a key as it may be pasted -> the exact sentence validate gives at its file:line:col (None: accepted)
HOSTILE_KEYS = [
    ("rsa-512", lambda keys: _rsa_line(512), "OpenSSH cannot read this key (ssh-keygen -l refuses it)"),
    ("rsa-1023", lambda keys: _rsa_line(1023), "OpenSSH cannot read this key (ssh-keygen -l refuses it)"),
    ("rsa-1024", lambda keys: _rsa_line(1024), "an RSA key of 1024 bits: use 2048 to 16384 bits"),
    ("rsa-20000", lambda keys: _rsa_line(20000), "OpenSSH cannot read this key (ssh-keygen -l refuses it)"),
    ("rsa-2048", lambda keys: _rsa_line(2048), None),
    ("rsa-16384", lambda keys: _rsa_line(16384), None),
    ("100-kB-line", lambda keys: "ssh-ed25519 " + keys[0].split()[1] + "A" * 100_000,
     "the key's data is damaged (copy the whole line of the .pub file)"),
    ("damaged-sk", lambda keys: _sk_line(31), "OpenSSH cannot read this key (ssh-keygen -l refuses it)"),
    ("sk", lambda keys: _sk_line(32), None),
    ("two-glued", lambda keys: f"{keys[0]} {_ed25519()} it@stadt", "two keys on one line: sshd reads only the first"),
    ("two-glued-no-comment", lambda keys: " ".join(keys[0].split()[:2]) + " " + _ed25519(),
     "two keys on one line: sshd reads only the first"),
    ("rsa-glued-to-ed25519", lambda keys: f"{keys[0]} {keys[1]}", "must be one public key line"),  # a 400-char comment
]


@pytest.mark.parametrize(("make", "expected"), [case[1:] for case in HOSTILE_KEYS], ids=[c[0] for c in HOSTILE_KEYS])
def test_a_key_sshd_would_skip_is_refused_at_its_line_and_column(keys, make, expected):
    key = make(keys)
    text = _with_keys(home_keys=[key])
    if expected is None:
        assert load_text(text, "devices.yaml").targets[0].admin_ssh_keys == (key,)
        return
    problems = _problems(text)
    assert len(problems) == 1 and problems[0].startswith(f"devices.yaml:7:21: homes.ebh.admin_ssh_keys: {expected}"), \
        problems


def _sshd_reads(root, tmp_path) -> dict[str, str]:
    """What the real sshd (openssh-server) makes of the root's sshd_config.d: `sshd -T` with Debian's own
    sshd_config, its Include pointed at the root's folder instead of this machine's."""
    from pathlib import Path

    sshd = need_tool("sshd", apt="openssh-server")
    debian = Path("/usr/share/openssh/sshd_config")
    need(debian.is_file(), "Debian's default sshd_config (/usr/share/openssh/sshd_config): apt-get install openssh-server")
    config = tmp_path / "sshd_config"
    include = "Include /etc/ssh/sshd_config.d/*.conf"
    assert include in debian.read_text()
    config.write_text(debian.read_text().replace(include, f"Include {root}/etc/ssh/sshd_config.d/*.conf"))
    host_key = tmp_path / "host_key"
    if not host_key.exists():
        subprocess.run([need_tool("ssh-keygen", apt="openssh-client"), "-q", "-t", "ed25519", "-N", "", "-f",
                        str(host_key)], check=True)
    try:  # sshd wants its privilege separation folder even for -T (the device's unit makes it, as apply's step does)
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    except PermissionError:
        need(False, "sshd -T needs /run/sshd: run as root, as CI does")
    done = subprocess.run([sshd, "-T", "-f", str(config), "-h", str(host_key)], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, done.stderr
    return dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)


def test_sshd_reads_password_login_off_even_beside_cloud_inits_drop_in(keys, tmp_path):
    from provisioning.apply import apply_bundle

    root = tmp_path / "root"
    dropins = root / "etc/ssh/sshd_config.d"
    dropins.mkdir(parents=True)
    # cloud-init's drop-in, as cloud images ship it: it sorts before a drop-in without a number.
    (dropins / "50-cloud-init.conf").write_text("PasswordAuthentication yes\n")
    report = apply_bundle(render_bundle(load_text(_with_keys(defaults_keys=keys), "devices.yaml").targets[0], PSK),
                          root)
    assert (dropins / "00-palim-admin.conf").is_file()
    seen = _sshd_reads(root, tmp_path)
    assert (seen["passwordauthentication"], seen["kbdinteractiveauthentication"]) == ("no", "no")
    assert (seen["permitrootlogin"], seen["authenticationmethods"]) == ("without-password", "publickey")
    assert report.notes == ["sshd also reads 50-cloud-init.conf in sshd_config.d/: 00-palim-admin.conf sorts first "
                            "and its settings win (sshd keeps the first value), but check that they add no way in"]
    assert "  note: sshd also reads 50-cloud-init.conf" in "\n".join(report.lines())
    # The test can fail: under the name it had before, cloud-init's drop-in won and passwords were back.
    (dropins / "00-palim-admin.conf").rename(dropins / "palim-admin.conf")
    assert _sshd_reads(root, tmp_path)["passwordauthentication"] == "yes"
    again = apply_bundle(render_bundle(load_text(_with_keys(defaults_keys=keys), "devices.yaml").targets[0], PSK),
                         root)
    assert again.notes[0].endswith("palim-admin.conf is palim's drop-in under its former name: delete it")
