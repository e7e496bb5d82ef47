"""The device list; over 400 lines because its models, their checks and the merge into kiosk configs belong together.

Load YAML with positions, validate, and resolve each device's kiosk config.
"""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from types import UnionType
from typing import Any, Literal, Mapping, Union, get_args, get_origin

import yaml
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import load_ssh_public_key
from pydantic import BaseModel, Field, ValidationError, create_model, field_validator, model_validator

from kiosk.config import ANY_LEVEL, DEFAULTS, DEVICE, HOME, Brand, KioskConfig, filled_by, setting_levels
from kiosk.core.assets import DEFAULT_BRAND_ID, shipped_logo
from kiosk.core.files import read_secret_file
from kiosk.core.fields import (
    HOSTNAME, MIN_ROOM_BITS, Strict, absolute_path, clock_time, email_address, is_control, one_line_text,
    room_entropy_bits,
)
from kiosk.core.yamlpos import Problem, explain_errors, format_path, not_utf8, parse_yaml

from .fleet import Fleet, fleet_problems, ip_address, lan_network
from .photos import photo_problems
from .sshkeys import check_with_openssh
from .updates import Updates, key_problems

HOME_KEY = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,40}[a-z0-9])?")
MAC = re.compile(r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
INLINE_SECRET_KEYS = ("psk", "password", "passphrase", "key")
INLINE_TOKEN_KEYS = ("secret", "app_secret", "token", "jwt")
# Where a device keeps its login token (palim-provision apply writes it, 0640 root:kiosk).
JWT_FILE = "/etc/palim-kiosk/secrets/jwt"
# The public key types OpenSSH 9.2 (Debian 12) accepts for a login; DSA is gone from it, RSA signs with SHA-2.
SSH_KEY_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa",
                 "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com")
# One authorized_keys line without options: a type, the key in base64 and an optional comment of plain characters.
SSH_KEY_LINE = re.compile(r"(?P<type>[a-z0-9@.-]+) (?P<blob>[A-Za-z0-9+/]+={0,2})(?: (?P<comment>[\x20-\x7e]{1,200}))?")


class Wifi(Strict):
    """A home's Wi-Fi; the password is referenced, never written here."""

    ssid: str = Field(min_length=1)
    """The network's name (at most 32 bytes); quote it when it holds ' #' (YAML starts a comment there)."""
    psk_env: str | None = None
    """The environment variable holding the password (render and apply read it), e.g. EBH_WIFI_PSK."""
    psk_file: str | None = None
    """A secrets file holding the password, relative to the device list; keep it mode 0600 and out of git."""
    hidden: bool = False
    """true when the network does not announce its name."""

    @field_validator("ssid")
    @classmethod
    def _ssid(cls, value: str) -> str:
        if len(value.encode("utf-8")) > 32 or any(is_control(c) for c in value):
            raise ValueError("must be at most 32 bytes of text without control characters")
        return value

    @field_validator("psk_env")
    @classmethod
    def _env(cls, value: str | None) -> str | None:
        if value is not None and not ENV_NAME.fullmatch(value):
            raise ValueError("must be the name of an environment variable, like EBH_WIFI_PSK")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> "Wifi":
        if (self.psk_env is None) == (self.psk_file is None):
            raise ValueError("needs exactly one of psk_env (an environment variable) or psk_file (a secrets file)")
        return self


class JitsiToken(Strict):
    """Token login on the city's Jitsi (Prosody token authentication): the app id, and where its secret is.

    The secret is referenced like the Wi-Fi password, never written here; token_env (an environment variable that
    holds a token minted already) is what a device gets from the Ansible role, so the secret stays on the controller.
    """

    app_id: str = Field(min_length=1, max_length=200)
    """The server's app id (Prosody's app_id)."""
    secret_env: str | None = None
    """The environment variable holding the app secret (at least 32 bytes)."""
    secret_file: str | None = None
    """A secrets file holding the app secret, relative to the device list."""
    token_env: str | None = None
    """An environment variable holding a token minted already (what the Ansible role gives a device)."""
    sub: str | None = Field(default=None, min_length=1, max_length=253)
    """The token's sub: the server's domain; default: its host."""
    valid_days: int = Field(default=365, ge=1, le=3650)
    """How long a minted token holds (1 to 3650 days)."""

    @field_validator("app_id", "sub")
    @classmethod
    def _line(cls, value: str | None) -> str | None:
        return None if value is None else one_line_text(value)

    @field_validator("secret_env", "token_env")
    @classmethod
    def _env(cls, value: str | None) -> str | None:
        if value is not None and not ENV_NAME.fullmatch(value):
            raise ValueError("must be the name of an environment variable, like PALIM_JITSI_SECRET")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> "JitsiToken":
        if sum(v is not None for v in (self.secret_env, self.secret_file, self.token_env)) != 1:
            raise ValueError("needs exactly one of secret_env (an environment variable) or secret_file (a secrets "
                             "file) for the app secret")
        return self


class Match(Strict):
    """How a device recognises itself: a network card's MAC or the DMI serial number."""

    mac: str | None = None
    """A network card's MAC address, like 3c:52:82:1a:2b:3c."""
    serial: str | None = Field(default=None, min_length=1, max_length=64)
    """The DMI serial number (the sticker under the laptop)."""

    @field_validator("mac")
    @classmethod
    def _mac(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.lower().replace("-", ":")
        if not MAC.fullmatch(text):
            raise ValueError("must be a MAC address like 3c:52:82:1a:2b:3c")
        return text

    @field_validator("serial")
    @classmethod
    def _serial(cls, value: str | None) -> str | None:
        return None if value is None else one_line_text(value)

    @model_validator(mode="after")
    def _one(self) -> "Match":
        if (self.mac is None) == (self.serial is None):  # one of the two; a serial on one line (below)
            raise ValueError("needs exactly one of mac or serial")
        return self


ROTATIONS = (0, 90, 180, 270)


class Display(Strict):
    """The screen as cage drives it (not the kiosk's config): a tablet in a stand may show its picture turned."""

    rotate: int = 0
    """Degrees clockwise the screen's picture is turned: 0, 90, 180 or 270 (a tablet in a stand)."""

    @field_validator("rotate", mode="before")
    @classmethod
    def _rotate(cls, value: Any) -> int:
        if type(value) is int and value in ROTATIONS:  # not True (a bool is an int to Python), not 90.0
            return value
        if isinstance(value, str) and value.strip() in {str(r) for r in ROTATIONS}:
            raise ValueError("must be a number without quotes: 0, 90, 180 or 270 (degrees clockwise)")
        raise ValueError("must be 0, 90, 180 or 270 (degrees clockwise; 0 shows the screen as it is)")


# The kiosk's settings as the device list holds them, derived from kiosk/config.py's KioskConfig (its set_at marks):
# MERGED, option groups merged key by key, the device's keys over the home's over the defaults' (a device's family
# contacts replace the home's list as a whole: they are the resident's own people; the home's smtp relay stays);
# INHERITED, single values the device takes from itself, else its home, else the defaults; REFERENCES, settings the
# list names by a key (a brand under brands). The kiosk's model validates every value after the merge.
REFERENCES = {"brand": "a key under brands, or the default brand palim"}
MERGED = tuple(name for name, info in KioskConfig.model_fields.items()
               if set(setting_levels(name)) & set(ANY_LEVEL) and name not in REFERENCES
               and isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel))
INHERITED = tuple(name for name in KioskConfig.model_fields
                  if set(setting_levels(name)) & set(ANY_LEVEL) and name not in MERGED and name not in REFERENCES)


def _list_type(annotation: Any) -> Any:
    """The kiosk field's type as YAML writes it: its tuples as lists (the model turns them into tuples), None for
    'not set here'. The type is checked at the level that writes it; the rest of the rules after the merge."""
    options = [a for a in get_args(annotation) if a is not type(None)] if get_origin(annotation) in (Union, UnionType) \
        else [annotation]
    if len(options) == 1 and get_origin(options[0]) is tuple:
        return list[get_args(options[0])[0]] | None
    return Union[tuple(options) + (type(None),)]


def _list_field(name: str) -> tuple[Any, Any]:
    """How the device list holds the kiosk setting `name`: its group model, a key, or a value of its type."""
    info = KioskConfig.model_fields[name]
    if name in MERGED:
        return info.annotation, Field(default=info.annotation(), description=info.description)
    if name in REFERENCES:
        return str | None, Field(default=None, description=REFERENCES[name])
    if info.is_required() and setting_levels(name) == (DEVICE,) and filled_by(name) is None:
        return info.annotation, Field(description=info.description)  # only a device can give it: each one must
    return _list_type(info.annotation), Field(default=None, description=info.description)


def _settings_model(level: str) -> type[Strict]:
    """The settings a level (defaults, a home, a device) may hold, from the kiosk's model; display is the list's own."""
    fields = {name: _list_field(name) for name in KioskConfig.model_fields if level in setting_levels(name)}
    fields["display"] = (Display, Field(default=Display(), description=Display.__doc__))
    return create_model(f"{level.title()}Settings", __base__=Strict, __module__=__name__,
                        __doc__=f"The kiosk settings a {level} entry may hold (kiosk/config.py marks them).", **fields)


ADDRESS = re.compile(r"[A-Za-z0-9._:\[\]-]{1,253}")


def ssh_public_key(value: str) -> str:
    """One OpenSSH public key line (type, base64 key, comment), checked by decoding it; ValueError otherwise."""
    value = value.strip()
    line = SSH_KEY_LINE.fullmatch(value)
    if line is None:
        # Also what refuses options ('command=...', 'from=...') and line breaks, which would add lines of their own.
        raise ValueError("must be one public key line like 'ssh-ed25519 AAAAC3Nz... it@stadt' (the .pub file's "
                         "content, no options, no private key)")
    if line["type"] not in SSH_KEY_TYPES:
        raise ValueError(f"key type {line['type']!r} is not accepted (use one of: {', '.join(SSH_KEY_TYPES[:5])})")
    try:
        blob = base64.b64decode(line["blob"], validate=True)
    except ValueError:
        raise ValueError("the key's base64 is damaged (copy the whole line of the .pub file)") from None
    # The key's own data starts with its type, length-prefixed (RFC 4253, 6.6): a type that disagrees is a paste error.
    size = int.from_bytes(blob[:4], "big") if len(blob) >= 4 else -1
    if blob[4:4 + size].decode("ascii", "replace") != line["type"]:
        raise ValueError("the key's data does not match its type (copy the whole line of the .pub file)")
    if not line["type"].startswith("sk-"):  # cryptography reads no security-key types
        try:
            load_ssh_public_key(f"{line['type']} {line['blob']}".encode())
        except (ValueError, UnsupportedAlgorithm):
            raise ValueError("the key's data is damaged (copy the whole line of the .pub file)") from None
    check_with_openssh(value)  # what sshd itself reads: one key, its size (provisioning.sshkeys)
    return value


def ssh_public_keys(value: list[str] | None) -> list[str] | None:
    """A list of public key lines, each checked; the same key twice is a copy-and-paste slip, refused."""
    if value is None:
        return None
    keys = [ssh_public_key(key) for key in value]
    blobs = [key.split(" ")[1] for key in keys]
    if len(set(blobs)) != len(blobs):
        raise ValueError("the same key is listed twice")
    return keys


class AlertMail(Strict):
    """Where the fleet hub's Alertmanager sends the alerts: the city IT's address and the SMTP relay it mails through.

    The relay's password stays on the hub (password_file, read by Alertmanager), never in this file.
    """

    it_email: str = Field(examples=["it@stadt.example.org"])
    """The city IT's address: every alert of every home goes there."""
    smtp_host: str = Field(min_length=1, max_length=253, examples=["smtp.stadt.example.org"])
    """The SMTP relay's host name (STARTTLS; the hub checks its certificate)."""
    smtp_port: int = Field(default=587, ge=1, le=65535, examples=[25])
    """The relay's port."""
    sender: str = Field(examples=["palim-hub@stadt.example.org"])
    """The From address of the alert mails."""
    user: str | None = Field(default=None, max_length=200, examples=["palim-hub"])
    """The login name, when the relay wants one."""
    password_file: str | None = Field(default=None, examples=["/etc/prometheus/alertmanager-smtp-password"])
    """A file on the hub holding the relay's password (readable by the prometheus user only)."""
    ca_file: str | None = Field(default=None, examples=["/etc/prometheus/city-ca.pem"])
    """A city CA on the hub to trust for the relay; default: the system's."""

    @field_validator("it_email", "sender")
    @classmethod
    def _address(cls, value: str) -> str:
        return email_address(value)

    @field_validator("smtp_host")
    @classmethod
    def _host(cls, value: str) -> str:
        if not ADDRESS.fullmatch(value):
            raise ValueError("must be a host name or an IP address, like smtp.stadt.example.org")
        return value

    @field_validator("user")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        return None if value is None else one_line_text(value)

    @field_validator("password_file", "ca_file")
    @classmethod
    def _file(cls, value: str | None) -> str | None:
        return None if value is None else absolute_path(value)


class Defaults(_settings_model(DEFAULTS)):  # type: ignore[misc]
    """Settings every home and device starts from."""

    reboot_time: str = "03:30"
    """The nightly time security updates that need a reboot may restart the device (quote it: "03:30")."""
    jitsi_token: JitsiToken | None = None
    """Token login on the city's Jitsi: app_id and where its secret is (secret_env, secret_file or token_env)."""
    updates: Updates | None = None
    """The city's signed kiosk releases: repo (its https:// address), key_file (the public release key) and ring
    (first or all); none: the kiosk is updated by apply only."""
    admin_ssh_keys: list[str] | None = Field(default=None, max_length=50)
    """Who may log in as root over SSH (the fleet's Ansible, the city's IT): public key lines; empty leaves SSH
    alone, [] locks it."""
    alerts: AlertMail | None = None
    """Where the fleet hub's Alertmanager mails alerts: it_email, and the SMTP relay (smtp_host, smtp_port, sender,
    user, password_file, ca_file); none: palim-provision hub-config writes no Alertmanager config."""

    @field_validator("reboot_time")
    @classmethod
    def _time(cls, value: str) -> str:
        return clock_time(value)

    @field_validator("admin_ssh_keys")
    @classmethod
    def _keys(cls, value: list[str] | None) -> list[str] | None:
        return ssh_public_keys(value)


class Home(_settings_model(HOME)):  # type: ignore[misc]
    """A care home."""

    name: str = Field(min_length=1, max_length=80)
    """The home's name, as cards and reports show it."""
    wifi: Wifi | None = None
    """The home's Wi-Fi: ssid, and the password's psk_env or psk_file; none: the devices are cabled."""
    reboot_time: str | None = None
    """Over the defaults' reboot_time."""
    jitsi_token: JitsiToken | None = None
    """Over the defaults' jitsi_token, as a whole."""
    updates: Updates | None = None
    """Over the defaults' updates, as a whole."""
    admin_ssh_keys: list[str] | None = Field(default=None, max_length=50)
    """Over the defaults' list, as a whole."""
    lan: str | None = Field(default=None, examples=["192.168.178.0/24"])
    """The home's own network as its router gives it out; validate refuses a fleet network that overlaps it."""
    alert_email: str | None = Field(default=None, examples=["pflege@ebh.example.org"])
    """The care staff's address (the home's office or ward): the hub mails it the alerts staff can act on (a device
    dark by day, a failing battery, no call for 14 days); IT gets them too. Never a resident's own address."""

    @field_validator("lan")
    @classmethod
    def _lan(cls, value: str | None) -> str | None:
        return None if value is None else lan_network(value)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return one_line_text(value)

    @field_validator("alert_email")
    @classmethod
    def _alert_email(cls, value: str | None) -> str | None:
        return None if value is None else email_address(value)

    @field_validator("admin_ssh_keys")
    @classmethod
    def _keys(cls, value: list[str] | None) -> list[str] | None:
        return ssh_public_keys(value)

    @field_validator("reboot_time")
    @classmethod
    def _time(cls, value: str | None) -> str | None:
        return None if value is None else clock_time(value)


class Device(_settings_model(DEVICE)):  # type: ignore[misc]
    """One donated laptop or tablet."""

    id: str
    """The device's id, also its host name: lower-case letters, digits and '-'."""
    home: str
    """The key of its home under homes."""
    match: Match | None = None
    """How the device recognises itself: {mac: ...} or {serial: ...}. Without it the device is an open place: the
    installer stick offers it to the first laptop it does not recognise (palim-provision claims import fills it in)."""
    label: str | None = Field(default=None, max_length=80)
    """Where it stands, e.g. Zimmer 12 (quote it when it holds ' #')."""
    donor: str | None = Field(default=None, max_length=120)
    """Who gave the device."""
    address: str | None = None
    """How Ansible reaches the device (host name or IP address); the id is used as host name otherwise. With a
    fleet: block Ansible uses the tunnel address instead."""
    tunnel_address: str | None = Field(default=None, examples=["10.77.0.11"])
    """The device's fixed address in the fleet network; derived from its id when not written (see fleet:)."""

    @field_validator("tunnel_address")
    @classmethod
    def _tunnel(cls, value: str | None) -> str | None:
        return None if value is None else str(ip_address(value))

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and not ADDRESS.fullmatch(value):
            raise ValueError("must be a host name or an IP address, like ebh-01.heime.example.org or 10.20.0.11")
        return value

    @field_validator("label", "donor")
    @classmethod
    def _line(cls, value: str | None) -> str | None:
        return None if value is None else one_line_text(value)


class _Top(Strict):
    """The file's outline; homes and devices are checked one by one."""

    version: Literal[1]
    defaults: Any = None
    brands: Any = None
    fleet: Any = None
    homes: dict[str, Any]
    devices: list[Any]


class DeviceList(Strict):
    """The whole file."""

    version: Literal[1]
    """The file's format: 1."""
    defaults: Defaults = Defaults()
    """Settings every home and device starts from."""
    brands: dict[str, Brand] = {}
    """Partner towns' looks, by key; a brand's logo ships in assets/brands/<key>/logo.svg."""
    fleet: Fleet | None = None
    """The city's WireGuard hub every device dials out to (endpoint, hub_public_key, network, hub_address); none: no
    tunnel, Ansible reaches devices at their address."""
    homes: dict[str, Home]
    """The care homes, by key (lower-case letters, digits and '-')."""
    devices: list[Device]
    """The donated laptops and tablets."""


@dataclass(frozen=True)
class Target:
    """Everything one device needs, resolved from device, home and defaults."""

    index: int
    device: Device
    home_key: str
    home: Home
    config: KioskConfig
    reboot_time: str
    jitsi_token: JitsiToken | None = None  # the home's or the defaults' token login; its path: config.jwt_file
    list_dir: str = "."  # the device list's folder: photos are named relative to it
    admin_ssh_keys: tuple[str, ...] | None = None  # the home's or the defaults' list; None: SSH is not managed
    rotate: int = 0  # display.rotate of the device, else its home's, else the defaults' (cage's -r, 90 degrees each)
    updates: Updates | None = None  # the home's or the defaults' updates:
    tunnel_address: str | None = None  # written or derived (provisioning.fleet); None without a fleet: block
    fleet: Fleet | None = None  # the list's fleet: block

    @property
    def id(self) -> str:
        return self.device.id


@dataclass
class Loaded:
    """A validated device list with its source positions."""

    file: str
    model: DeviceList
    doc: Any  # kiosk.config.YamlDocument
    targets: list[Target]
    text: str = ""  # the file as read: validate looks at what YAML drops (a comment that cut a value)

    def target(self, device_id: str) -> Target | None:
        """The target with this id, or None."""
        return next((t for t in self.targets if t.id == device_id), None)


class DeviceListError(Exception):
    """The device list cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


# --------------------------------------------------------------------------- loading


def load_text(text: str, file: str, *, require_rooms: bool = True) -> Loaded:
    """Validate device-list text; raise DeviceListError with every problem, in file order."""
    doc = parse_yaml(text, file)
    if doc.data is None:
        raise DeviceListError(doc.problems or [Problem(file, 1, 1, "", "the file is empty")])
    if not isinstance(doc.data, dict):
        raise DeviceListError(doc.problems + [doc.problem((), "the device list must be a mapping with "
                                                              "version, defaults, homes and devices")])
    problems = list(doc.problems)
    inline = _inline_secrets(doc)
    problems += inline
    hidden = {p.path for p in inline}  # 'unknown key psk' would only repeat what the secret message says

    def check(model: type[Strict], data: Any, prefix: tuple) -> Any:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            # A mapping key of the wrong type ("homes[12].[key]") is reported once, as a bad home key, below.
            problems.extend(p for p in explain_errors(exc, doc, prefix)
                            if p.path not in hidden and not p.path.endswith(".[key]"))
            return None

    # Each part on its own, so one broken device does not hide the problems of the others.
    check(_Top, doc.data, ())
    raw_homes = doc.data.get("homes") if isinstance(doc.data.get("homes"), dict) else {}
    raw_devices = doc.data.get("devices") if isinstance(doc.data.get("devices"), list) else []
    raw_defaults = doc.data.get("defaults")
    defaults = check(Defaults, {} if raw_defaults is None else raw_defaults, ("defaults",))
    homes = {key: home for key, value in raw_homes.items()
             if (home := check(Home, value, ("homes", key))) is not None}
    raw_brands = doc.data.get("brands") if isinstance(doc.data.get("brands"), dict) else {}
    brands = {}
    for key, value in raw_brands.items():
        problem = _brand_problem(key, value, doc)
        if problem is not None:
            problems.append(problem)
        elif (brand := check(Brand, {"id": key, **value}, ("brands", key))) is not None:
            brands[key] = brand
    devices = {index: device for index, value in enumerate(raw_devices)
               if (device := check(Device, value, ("devices", index))) is not None}
    raw_fleet = doc.data.get("fleet")
    fleet = None if raw_fleet is None else check(Fleet, raw_fleet, ("fleet",))
    model = DeviceList.model_construct(version=1, defaults=defaults or Defaults(), brands=brands, homes=homes,
                                       devices=list(devices.values()), fleet=fleet)
    targets, cross = _cross_check(model, devices, set(raw_homes), doc, require_rooms, set(raw_brands))
    if raw_fleet is None or fleet is not None:  # a broken fleet: block is reported once, above
        tunnels, fleet_errors = fleet_problems(
            fleet, [(i, d.id, d.tunnel_address) for i, d in devices.items()],
            {key: home.lan for key, home in homes.items() if home.lan is not None}, doc)
        problems += fleet_errors
        targets = [replace(t, tunnel_address=tunnels.get(t.id), fleet=fleet) for t in targets]
    # Without valid defaults every device would seem to lack a server: report the defaults, not 10,000 echoes.
    problems += cross if defaults is not None else [p for p in cross if "no server" not in p.message]
    problems += photo_problems(doc, Path(file).parent)
    problems += key_problems(doc, Path(file).parent)
    if problems:
        raise DeviceListError(_ordered(problems))
    targets = [replace(target, list_dir=str(Path(file).parent)) for target in targets]
    return Loaded(file, model, doc, targets, text)


def load_file(path: str | Path, *, require_rooms: bool = True) -> Loaded:
    """Read and validate a device list file; unreadable files become a problem too."""
    try:
        data = Path(path).read_bytes()
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise DeviceListError([Problem(str(path), 1, 1, "", "the file does not exist")]) from None
    except IsADirectoryError:
        raise DeviceListError([Problem(str(path), 1, 1, "", "this is a directory, not a device list")]) from None
    except PermissionError:
        raise DeviceListError([Problem(str(path), 1, 1, "", "permission denied reading the file")]) from None
    except UnicodeDecodeError as exc:
        raise DeviceListError([not_utf8(data, exc, str(path))]) from None
    except OSError as exc:
        raise DeviceListError([Problem(str(path), 1, 1, "", f"the file cannot be read: {exc.strerror}")]) from None
    return load_text(text, str(path), require_rooms=require_rooms)


def _brand_problem(key: Any, value: Any, doc: Any) -> Problem | None:
    """What is wrong with a brand entry before its model sees it: its key, its shape, a logo path, no logo."""
    here = ("brands", key)
    if not isinstance(value, dict):
        return doc.problem(here, "a brand must be a mapping with name, colors and support_contact")
    if "id" in value:
        return doc.problem(here + ("id",), "a brand's id is its key under brands", at_key=True)
    if "logo" in value:
        return doc.problem(here + ("logo",), f"logos ship with the kiosk: put the SVG at "
                                             f"assets/brands/{key}/logo.svg instead", at_key=True)
    if isinstance(key, str) and key != DEFAULT_BRAND_ID and shipped_logo(key) is None:
        return doc.problem(here, f"brand '{key}' has no logo: add assets/brands/{key}/logo.svg to the kiosk "
                                 f"(the installed kiosk looks there)", at_key=True)
    return None


def _ordered(problems: list[Problem]) -> list[Problem]:
    unique = list(dict.fromkeys(problems))  # a home's mistake shows once, not once per device
    return sorted(unique, key=lambda p: (p.line, p.col))


def _inline_secrets(doc: Any) -> list[Problem]:
    """A password typed into the file is refused with the reason, not just 'unknown key'."""
    out = []
    homes = doc.data.get("homes")
    if isinstance(homes, dict):
        for key, home in homes.items():
            wifi = home.get("wifi") if isinstance(home, dict) else None
            if isinstance(wifi, dict):
                for name in INLINE_SECRET_KEYS:
                    if name in wifi:
                        out.append(doc.problem(("homes", key, "wifi", name),
                                               "Wi-Fi passwords never go in this file: use psk_env (an environment "
                                               "variable) or psk_file (a secrets file)", at_key=True))
    places = [(("defaults",), doc.data.get("defaults"))]
    places += [(("homes", key), home) for key, home in homes.items()] if isinstance(homes, dict) else []
    for path, level in places:
        token = level.get("jitsi_token") if isinstance(level, dict) else None
        if isinstance(token, dict):
            for name in INLINE_TOKEN_KEYS:
                if name in token:
                    out.append(doc.problem(path + ("jitsi_token", name),
                                           "the app secret and tokens never go in this file: use secret_env (an "
                                           "environment variable) or secret_file (a secrets file)", at_key=True))
    return out


# --------------------------------------------------------------------------- cross-checks


class _Remap:
    """Lets explain_errors point at whichever level (device, home, defaults) a field came from."""

    def __init__(self, doc: Any, device_path: tuple, sources: dict[str, tuple]):
        self.doc, self.device_path, self.sources = doc, device_path, sources
        self.scalars = _ScalarView(self)

    def map(self, path: tuple) -> tuple:
        if path and path[0] in self.sources:
            return self.sources[path[0]] + path[1:]
        return self.device_path + path

    def problem(self, path: tuple, message: str, at_key: bool = False) -> Problem:
        return self.doc.problem(self.map(path), message, at_key)


class _ScalarView:
    def __init__(self, remap: _Remap):
        self.remap = remap

    def __contains__(self, path: tuple) -> bool:
        return self.remap.map(path) in self.remap.doc.scalars

    def __getitem__(self, path: tuple) -> str:
        return self.remap.doc.scalars[self.remap.map(path)]


def _source_key(doc: Any, parent: tuple, key: Any) -> str:
    """A mapping key as written in the file (12, ~): YAML turns some into numbers or None, positions keep the text."""
    if isinstance(key, str):
        return key
    written = [path[-1] for path in doc.key_marks if path[:-1] == parent]
    for text in written:
        try:
            if yaml.safe_load(text) == key and not isinstance(yaml.safe_load(text), str):
                return text
        except yaml.YAMLError:
            continue
    return str(key)


def _cross_check(model: DeviceList, devices: dict[int, Device], home_keys: set[str], doc: Any,
                 require_rooms: bool, brand_keys: set = frozenset()) -> tuple[list[Target], list[Problem]]:
    problems: list[Problem] = []
    for key in model.homes:
        if not isinstance(key, str) or not HOME_KEY.fullmatch(key):  # YAML may give 12 or null as a key
            problems.append(doc.problem(("homes", _source_key(doc, ("homes",), key)),
                                        "a home's key must be lower-case letters, digits and '-' "
                                        "(it names the Wi-Fi connection file)", at_key=True))
    for level, settings in [(("defaults",), model.defaults)] + [(("homes", k), h) for k, h in model.homes.items()]:
        if settings.server is not None and not settings.server.startswith("https://"):
            problems.append(doc.problem(level + ("server",), "must use https, like https://konferenz.example.org"))
    seen: dict[str, dict[str, int]] = {"id": {}, "room": {}, "mac": {}, "serial": {}}
    targets = []
    for index, device in devices.items():
        here = ("devices", index)
        if not HOSTNAME.fullmatch(device.id):
            problems.append(doc.problem(here + ("id",), "must be a valid hostname: lower-case letters, digits and "
                                                        "'-', 1 to 63 characters, not starting or ending with '-'"))
        for kind, value, path in (("id", device.id, ("id",)), ("room", device.room, ("room",)),
                                  ("mac", device.match.mac if device.match else None, ("match", "mac")),
                                  ("serial", device.match.serial if device.match else None, ("match", "serial"))):
            if value is None:
                continue
            # Jitsi lower-cases room names and serials are one sticker read two ways: compared without case.
            first = seen[kind].setdefault(value.lower() if kind in ("room", "serial") else value, index)
            if first != index:
                other = devices[first].id
                line = doc.locate(("devices", first))[0]
                what = "this id" if kind == "id" else f"this {kind}"
                message = f"{what} is already used by device '{other}' (line {line})"
                if kind == "room" and devices[first].room != value:
                    message = (f"this room differs from the room of device '{other}' (line {line}) only in upper and "
                               f"lower case, and Jitsi does not tell them apart: both residents would share one "
                               f"room; remove this room and run 'palim-provision rooms {doc.file} --fill'")
                elif kind == "serial" and devices[first].match.serial != value:
                    message = (f"this serial is the serial of device '{other}' (line {line}) in other upper and "
                               f"lower case, and serial numbers are compared without case: one device would take "
                               f"both; check the sticker and correct one of them")
                problems.append(doc.problem(here + path, message))
        if device.room is None:
            if require_rooms:
                problems.append(doc.problem(here, f"device '{device.id}' has no room yet; "
                                                  f"run 'palim-provision rooms {doc.file} --fill'"))
        elif (bits := room_entropy_bits(device.room)) < MIN_ROOM_BITS:
            problems.append(doc.problem(here + ("room",), f"the room name is guessable (about {bits:.0f} random bits, "
                                                          f"at least {MIN_ROOM_BITS} needed): anyone could join; "
                                                          f"remove it and run 'palim-provision rooms FILE --fill'"))
        home = model.homes.get(device.home)
        if home is None and device.home in home_keys:
            continue  # the home itself is broken and reported
        if home is None:
            known = ", ".join(sorted(str(key) if str(key).isprintable() else json.dumps(str(key))
                                     for key in model.homes)) or "none"
            problems.append(doc.problem(here + ("home",), f"home '{device.home}' is not listed under homes "
                                                          f"(known: {known})"))
            continue
        target, errors = _resolve(index, device, device.home, home, model.defaults, doc, model.brands, brand_keys)
        problems += errors
        if target is not None:
            targets.append(target)
    return targets, problems


def _resolve(index: int, device: Device, home_key: str, home: Home, defaults: Defaults, doc: Any,
             brands: dict[str, Brand] | None = None, brand_keys: set[str] = frozenset()) -> tuple[Target | None,
                                                                                                list[Problem]]:
    """Merge device over home over defaults and validate the result with the kiosk's own model."""
    here = ("devices", index)
    levels = ((here, device), (("homes", home_key), home), (("defaults",), defaults))
    data: dict[str, Any] = {}
    sources: dict[str, tuple] = {}
    for name in INHERITED:
        for path, settings in levels:
            value = getattr(settings, name, None)
            if value is not None:
                data[name], sources[name] = value, path + (name,)
                break
    if "server" not in data:
        return None, [doc.problem(here, "no server: set 'server' under defaults, the home or the device")]
    data.setdefault("room", "palim-placeholder")  # not filled in yet: reported above when rooms are required
    brand_key = next((s.brand for _, s in levels if s.brand is not None), None)
    if brand_key is not None:
        brand_path = next(p + ("brand",) for p, s in levels if s.brand is not None)
        brand = (brands or {}).get(brand_key)
        if brand is None and brand_key != DEFAULT_BRAND_ID:
            if brand_key in brand_keys:
                return None, []  # the brand itself is broken and reported
            known = ", ".join(sorted({DEFAULT_BRAND_ID, *(brands or {})}))
            return None, [doc.problem(brand_path, f"brand '{brand_key}' is not listed under brands (known: {known})")]
        data["brand"] = (brand or Brand()).model_dump(exclude_defaults=True)
    data["home"] = home_key
    token = home.jitsi_token or defaults.jitsi_token
    if token is not None:
        data["jwt_file"] = JWT_FILE
    if HOSTNAME.fullmatch(device.id):  # a bad id is reported once, at the id, not again by the kiosk's model
        data["device_id"] = device.id
    for group in MERGED:
        merged: dict[str, Any] = {}
        for path, settings in reversed(levels):
            if group not in type(settings).model_fields:
                continue
            part = getattr(settings, group).model_dump(exclude_unset=True)
            if part:
                merged.update(part)
                sources[group] = path + (group,)  # a mistake in the merge points at the deepest level that set it
        data[group] = merged
    if "tls_pins" in data:
        data["tls_pins"] = tuple(data["tls_pins"])
    if "brand" in data:
        sources["brand"] = ("brands", brand_key)
    try:
        config = KioskConfig.model_validate(data)
    except ValidationError as exc:
        return None, explain_errors(exc, _Remap(doc, here, sources))
    reboot = home.reboot_time or defaults.reboot_time
    keys = home.admin_ssh_keys if home.admin_ssh_keys is not None else defaults.admin_ssh_keys
    rotate = next((s.display.rotate for _, s in levels if "rotate" in s.display.model_fields_set), 0)
    return Target(index, device, home_key, home, config, reboot, token,
                  admin_ssh_keys=None if keys is None else tuple(keys), rotate=rotate,
                  updates=home.updates or defaults.updates), []


# --------------------------------------------------------------------------- secrets


WPA_PSK = re.compile(r"[\x20-\x7e]{8,63}|[0-9a-fA-F]{64}")


def resolve_secrets(loaded: Loaded, targets: list[Target], env: Mapping[str, str] | None = None,
                    base_dir: Path | None = None) -> tuple[dict[str, str], list[Problem]]:
    """Read the Wi-Fi passwords the given devices need: home key -> PSK. Values are never put in messages."""
    psks, unavailable, wrong = read_secrets(loaded, targets, env, base_dir)
    return psks, _ordered(unavailable + wrong)


def read_secrets(loaded: Loaded, targets: list[Target], env: Mapping[str, str] | None = None,
                 base_dir: Path | None = None) -> tuple[dict[str, str], list[Problem], list[Problem]]:
    """Like resolve_secrets, with the problems in two lists: secrets not available here (an unset environment
    variable, a secrets file that is missing or not readable by this user), and secrets that are there but wrong.

    validate warns about the first kind (the list itself is fine; render and apply will need them) and refuses the
    second; render and apply refuse both.
    """
    env = os.environ if env is None else env
    base_dir = Path(loaded.file).parent if base_dir is None else base_dir
    psks: dict[str, str] = {}
    unavailable: list[Problem] = []
    problems: list[Problem] = []
    for home_key in dict.fromkeys(t.home_key for t in targets):
        wifi = loaded.model.homes[home_key].wifi
        if wifi is None:
            continue
        path = ("homes", home_key, "wifi")
        if wifi.psk_env is not None:
            value, where = env.get(wifi.psk_env), path + ("psk_env",)
            if value is None:
                unavailable.append(loaded.doc.problem(where, f"the environment variable {wifi.psk_env} is not set "
                                                          f"(it must hold the Wi-Fi password)"))
                continue
            source = f"${wifi.psk_env}"
        else:
            where = path + ("psk_file",)
            secret_path = base_dir / wifi.psk_file
            try:
                value = read_secret_file(secret_path)
            except FileNotFoundError:
                unavailable.append(loaded.doc.problem(where, f"the secrets file {secret_path} does not exist"))
                continue
            except PermissionError as exc:
                unavailable.append(loaded.doc.problem(where, f"the secrets file {secret_path} cannot be read: "
                                                             f"{exc.strerror or exc}"))
                continue
            except ValueError as exc:  # a folder, a device, a pipe, too large, not text: wrong file, not a secret
                problems.append(loaded.doc.problem(where, f"the secrets file {exc}"))
                continue
            except OSError as exc:
                problems.append(loaded.doc.problem(where, f"the secrets file {secret_path} cannot be read: "
                                                          f"{exc.strerror or exc}"))
                continue
            source = f"the secrets file {secret_path}"
        if not WPA_PSK.fullmatch(value):
            problems.append(loaded.doc.problem(where, psk_problem(value, source)))
            continue
        psks[home_key] = value
    return psks, _ordered(unavailable), _ordered(problems)


def psk_problem(value: str, source: str) -> str:
    """Why a Wi-Fi password cannot be one, in words that name the likely slip; never a character of it."""
    if value.startswith("\ufeff"):
        return (f"{source} starts with an invisible byte order mark (BOM) that some editors add: save it as UTF-8 "
                f"without BOM")
    if "\n" in value or "\r" in value:
        return f"{source} holds more than one line: put only the Wi-Fi password in it, on one line"
    if any(not " " <= c <= "~" for c in value):
        return (f"the Wi-Fi password in {source} holds a letter with an umlaut or accent, or another character "
                f"that is not plain ASCII; a WPA password may only use A-Z, a-z, digits, spaces and punctuation: "
                f"change it on the router and here")
    return (f"the Wi-Fi password in {source} has {len(value)} characters; a WPA password has 8 to 63 (or is 64 hex "
            f"digits): check that the whole password is there")


# A DMI serial is no serial when the maker left the firmware's template in the field: every machine of that model (or
# of that board maker) shows the same text, so matching on it would make them all one device. The rule, after
# stripping and ignoring case:
# - the template's own words or a "no value" word (this set);
_NO_SERIAL = {"", "none", "null", "n/a", "na", "not specified", "not applicable", "not available", "unknown", "invalid",
              "oem", "o.e.m.", "default", "default string", "empty", "system serial number", "chassis serial number",
              "base board serial number", "serial number", "serialnumber", "to be filled by o.e.m.",
              "to be filled by oem", "serial#"}
# - text that only fills in a template ("To Be Filled By O.E.M. 1", "Default string 2", "Serial Number Here");
_NO_SERIAL_WORDS = re.compile(r"to be filled|filled by o\.?e\.?m|default string|serial ?number")
# - one character repeated, separators aside ("0", "0000000000", "XXXXXXXXXX", "FF-FF-FF-FF", "...");
# - a run of ascending digits of six or more ("123456789", "0123456789", "1234567890").
_ASCENDING = "01234567890123456789"


def placeholder_serial(text: str) -> bool:
    """True when a DMI serial is a placeholder by the rule above, not this machine's own."""
    value = text.strip().lower()
    bare = re.sub(r"[\s.:_/-]", "", value)
    return (value in _NO_SERIAL or bool(_NO_SERIAL_WORDS.search(value)) or len(set(bare)) <= 1
            or (bare.isdigit() and len(bare) >= 6 and bare in _ASCENDING))


def match_targets(targets: list[Target], macs: set[str], serial: str | None) -> list[Target]:
    """The devices whose match fits this machine's MAC addresses or serial number (an open place, without match:,
    fits no machine)."""
    return [t for t in targets if (match := t.device.match) is not None
            and ((match.mac is not None and match.mac in macs)
                 or (match.serial is not None and serial is not None
                     and match.serial.strip().lower() == serial.strip().lower()))]


MUC_PREFIXES = ("conference.", "muc.")  # Debian's MUC prefix, docker-jitsi-meet's (XMPP_MUC_DOMAIN muc.meet.jitsi)


def presence_warnings(loaded: Loaded) -> list[Problem]:
    """A presence URL whose domain= names the MUC domain (conference.… or muc.…): Prosody's mod_muc_size puts the
    MUC prefix in front of `domain` itself, so it would look for rooms on conference.conference.… and never find the
    family (404, or 403 with token verification). One warning per place the URL is written."""
    found: dict[tuple, Problem] = {}
    for target in loaded.targets:
        url = target.config.presence.url
        if not url:
            continue
        domains = parse_qs(urlsplit(url).query).get("domain", [])
        domain = next((d for d in domains if d.lower().startswith(MUC_PREFIXES)), None)
        if domain is None:
            continue
        places = [("devices", target.index, "presence", "url"), ("homes", target.home_key, "presence", "url"),
                  ("defaults", "presence", "url")]
        where = next((place for place in places if place in loaded.doc.key_marks), places[-1])
        prefix = domain.split(".", 1)[0] + "."
        found.setdefault(where, loaded.doc.problem(where, (
            f"domain={domain} names the MUC domain; mod_muc_size puts '{prefix}' in front of domain= itself and "
            f"would never find the room: write domain={domain[len(prefix):]} (the XMPP domain, Prosody's "
            "VirtualHost)")))
    return list(found.values())


def summary(loaded: Loaded) -> str:
    """One line: what the file holds."""
    missing = sum(1 for t in loaded.targets if t.device.room is None)
    extra = f", {missing} without a room" if missing else ""
    places = sum(1 for t in loaded.targets if t.device.match is None)
    if places:  # not a problem: the installer stick offers them, claims import fills their match: in
        extra += f", {places} open place{'' if places == 1 else 's'} (no match: yet; the installer stick offers " \
                 f"{'it' if places == 1 else 'them'})"
    return (f"{loaded.file}: valid: {len(loaded.targets)} devices in {len(loaded.model.homes)} homes{extra}")


__all__ = ["DeviceList", "Device", "Home", "AlertMail", "Wifi", "Match", "Target", "Loaded", "DeviceListError", "load_text",
           "load_file", "resolve_secrets", "read_secrets", "match_targets", "placeholder_serial", "presence_warnings", "summary", "format_path"]
