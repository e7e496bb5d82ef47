"""The kiosk's config model, shared with provisioning; over 400 lines because every option group is one model here."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from kiosk.core.fields import (
    BRAND_ID, DEFAULT_LANGUAGE, CertificatePin, TimeWindow, absolute_path, LANGUAGES, ROOM, Strict, check_server_url, check_url_with_path,
    email_address, hex_colour, hostname, normalise_pin, one_line_text, photo_path, pin_hash, RELATIONS, secret_file,
    time_window,
)
from kiosk.core.assets import DEFAULT_BRAND_ID, shipped_logo
from kiosk.core.style import contrast_problems
from kiosk.core.yamlpos import Problem, YamlDocument, explain_errors, parse_yaml

DEFAULT_CONFIG_PATH = Path("/etc/palim-kiosk/kiosk.yaml")
# Added to the room's address in every link the family gets: on a phone a stock Jitsi would first show its "get the
# app" page; with deep linking off (config.deeplinking.disabled, on jitsi-meet's override whitelist) the call opens in
# the phone's browser.
PHONE_BROWSER = "#config.deeplinking.disabled=true"


# --------------------------------------------------------------------------- the model


def yaml_list(value: Any) -> Any:
    """A YAML list as the tuple the model keeps (each item is checked on its own); anything else as it is."""
    return tuple(value) if isinstance(value, list) else value


class JitsiOptions(Strict):
    """Jitsi settings a city may tune; the kiosk's own lockdown keys are not overridable."""

    resolution: Literal[180, 240, 360, 480, 720] = 360
    # "low": the low-power call profile for old hardware (at most 360p, fewer frames, no audio levels);
    # "auto": low when the device is weak (no GPU, two cores or fewer, or under 4 GiB of memory); "normal": as set here.
    profile: Literal["auto", "low", "normal"] = "auto"
    # Camera frames per second sent; None: the profile's choice (low: 15, normal: Jitsi's own, 30).
    frame_rate: int | None = Field(default=None, ge=5, le=30)
    start_audio_muted: bool = False
    start_video_muted: bool = False
    channel_last_n: int = Field(default=4, ge=1, le=25)
    # The resident's own camera as a small tile in the call (Jitsi's self view); off saves compositing work on weak
    # devices (docs/benchmarks.md) but the resident no longer sees whether they are in the picture.
    self_view: bool = True
    connect_timeout_s: int = Field(default=45, ge=5, le=300)


class BrandColors(Strict):
    """A brand's colours as #rrggbb; each one left out keeps the default palette's (kiosk/core/style.py)."""

    background: str | None = None
    text: str | None = None
    text_soft: str | None = None
    call: str | None = None
    call_pressed: str | None = None
    hangup: str | None = None
    hangup_pressed: str | None = None
    neutral: str | None = None
    neutral_pressed: str | None = None
    on_button: str | None = None
    dark: str | None = None
    on_dark: str | None = None
    pulse: str | None = None

    @field_validator("*")
    @classmethod
    def _hex(cls, value: str | None) -> str | None:
        return None if value is None else hex_colour(value)

    @model_validator(mode="after")
    def _contrast(self) -> "BrandColors":
        problems = contrast_problems(self.model_dump())
        if problems:
            raise ValueError("these colours fail the contrast test (WCAG AAA, 7:1 for every text on its "
                             "background): " + "; ".join(problems))
        return self




class Brand(Strict):
    """A partner town's look: platform name, logo, colours, support contact; the default is Palim! Palim!."""

    id: str = DEFAULT_BRAND_ID  # its assets are assets/brands/<id>/ (logo.svg)
    name: str = Field(default="Palim! Palim!", min_length=1, max_length=40)
    logo: str | None = None  # absolute path of an SVG on the device; default: the brand's shipped logo.svg
    colors: BrandColors = BrandColors()
    support_contact: str | None = Field(default=None, max_length=200)  # used when the config sets none

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not BRAND_ID.fullmatch(value):
            raise ValueError("must be lower-case letters, digits and '-' (it names assets/brands/<id>/)")
        return value

    @field_validator("name", "support_contact")
    @classmethod
    def _line(cls, value: str | None) -> str | None:
        return None if value is None else one_line_text(value)

    @field_validator("logo")
    @classmethod
    def _logo(cls, value: str | None) -> str | None:
        if value is not None and (not value.startswith("/") or not value.endswith(".svg")):
            raise ValueError("must be the absolute path of an SVG file, like /etc/palim-kiosk/brand/logo.svg")
        return value

    def logo_path(self) -> Path:
        """The logo to show: the configured file, else this brand's shipped one, else the default brand's."""
        if self.logo is not None:
            return Path(self.logo)
        return shipped_logo(self.id) or shipped_logo(DEFAULT_BRAND_ID)


class UiOptions(Strict):
    """How big the kiosk draws its text for this resident."""

    scale: float = Field(default=1.0, ge=1.0, le=2.0)  # font scale; 2.0 still fits a 1024x600 screen


class AudioOptions(Strict):
    """The kiosk sets the speaker to at least this volume, so knocked hardware keys cannot leave it silent."""

    min_volume: int = Field(default=60, ge=0, le=100)  # percent; 0 leaves the volume alone
    # The speaker volume a call starts at, in percent (never below min_volume), until the resident changes it with
    # the call's − / + buttons: their choice is kept for the next call (kiosk/speaker.py).
    call_volume: int = Field(default=80, ge=10, le=100)


class HealthOptions(Strict):
    """Self-healing and the figures staff and the city see."""

    # "03:00-04:00": restart the kiosk once in this window each night, only when no call runs.
    nightly_restart: str | None = None
    # node_exporter textfile collector target, e.g. /var/lib/prometheus/node-exporter/palim_kiosk.prom
    metrics_file: str | None = None
    # JSON lines, one per call (start, end, duration, others): never names or room content.
    usage_log: str | None = "/var/lib/palim-kiosk/usage.jsonl"
    # Crashes of the renderer within ten minutes after which the kiosk exits for systemd to restart it.
    max_renderer_crashes: int = Field(default=3, ge=1, le=20)

    @field_validator("nightly_restart")
    @classmethod
    def _window(cls, value: str | None) -> str | None:
        return None if value is None else time_window(value)

    @field_validator("metrics_file", "usage_log")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        return None if value is None else absolute_path(value)


class PowerOptions(Strict):
    """Old laptops on worn batteries: warn early, shut down cleanly before the battery does it badly."""

    warn_percent: int = Field(default=20, ge=5, le=90)
    shutdown_percent: int = Field(default=5, ge=0, le=50)
    shutdown: bool = True  # False: only warn, never power off

    @field_validator("shutdown_percent")
    @classmethod
    def _below_warn(cls, value: int, info) -> int:
        if value >= info.data.get("warn_percent", 20):
            raise ValueError("must be below warn_percent")
        return value


class NtfyChannel(Strict):
    """A push to an ntfy topic (the family installs the ntfy app and subscribes)."""

    url: str
    token_file: str | None = None  # bearer token, read at send time

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_url_with_path(value)

    @field_validator("token_file")
    @classmethod
    def _token(cls, value: str | None) -> str | None:
        return None if value is None else secret_file(value)


class WebhookChannel(NtfyChannel):
    """A JSON POST for Matrix bridges, SMS gateways or the city's own system."""


class Contact(Strict):
    """A family member and how to reach them; at least one way."""

    name: str = Field(min_length=1, max_length=80)
    ntfy: NtfyChannel | None = None
    webhook: WebhookChannel | None = None
    email: str | None = None
    language: Literal[LANGUAGES] | None = None  # type: ignore[valid-type]  # the notice's; None: the kiosk's
    # Who rings: the names this person types in Jitsi ("Anna M.", "Mama"), matched like `name` (case, spaces).
    aliases: tuple[str, ...] = ()
    relation: Literal[RELATIONS] | None = None  # type: ignore[valid-type]  # "Tochter": "Ihre Tochter Anna ist da"
    # A JPEG or PNG: in the device list a file next to the list; on the device where provisioning put it.
    photo: str | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None else email_address(value)

    @field_validator("aliases", mode="before")
    @classmethod
    def _alias_list(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    @field_validator("aliases")
    @classmethod
    def _aliases(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(len(alias) > 80 for alias in value):
            raise ValueError("an alias may have at most 80 characters")
        return tuple(one_line_text(alias) for alias in value)

    @field_validator("photo")
    @classmethod
    def _photo(cls, value: str | None) -> str | None:
        return None if value is None else photo_path(value)

    @model_validator(mode="after")
    def _reachable(self) -> Contact:
        if not (self.ntfy or self.webhook or self.email):
            raise ValueError(f"{self.name} needs at least one of ntfy, webhook or email")
        return self


class SmtpOptions(Strict):
    """The city's SMTP relay (STARTTLS), for e-mail notifications."""

    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    sender: str
    user: str | None = None
    password_file: str | None = None
    ca_file: str | None = None  # a city CA; default: the system's

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        return email_address(value)

    @field_validator("password_file", "ca_file")
    @classmethod
    def _files(cls, value: str | None) -> str | None:
        return None if value is None else secret_file(value)


class FamilyOptions(Strict):
    """Who hears that the resident is calling, and who may ring the device."""

    contacts: tuple[Contact, ...] = ()
    smtp: SmtpOptions | None = None
    dedupe_minutes: int = Field(default=5, ge=0, le=120)  # a second tap within this sends nothing new
    # Alone in the room after a tap: the kiosk says whom it told and waits this long, then goes home kindly.
    wait_minutes: int = Field(default=10, ge=1, le=60)

    @field_validator("contacts", mode="before")
    @classmethod
    def _tuple(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value


class PresenceOptions(Strict):
    """Asking the server whether someone waits in the room (Prosody mod_muc_size), and what to do then."""

    # e.g. "https://konferenz.example.org/room-size?room={room}&domain=konferenz.example.org" (domain: the XMPP
    # domain, not the MUC domain: mod_muc_size adds "conference." itself); none: no ringing
    url: str | None = None
    interval_s: int = Field(default=10, ge=3, le=600)
    auto_answer: bool = False  # join by itself after a visible 10 s countdown
    quiet_hours: tuple[TimeWindow, ...] = ()  # e.g. ["20:00-08:00", "12:00-13:00"]: no ringing, no auto-answer

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if "{room}" not in value:
            raise ValueError("must contain {room} where the room name goes")
        check_url_with_path(value.replace("{room}", "room"))
        return value

    @field_validator("quiet_hours", mode="before")
    @classmethod
    def _hours(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value  # YAML lists; each window is checked on its own


class NightOptions(Strict):
    """The screen goes dark at night, so the resident's room is dark; a touch or a ringing family wakes it."""

    # e.g. ["21:30-07:00"]: the screen is dark then (home screen only; a call or staff keep it on). Ringing follows
    # presence.quiet_hours: a family that rings outside them wakes the screen.
    dark_hours: tuple[TimeWindow, ...] = ()
    # Where the backlights are (Linux sysfs); a device without one turns the display off through the compositor.
    backlight_dir: str = "/sys/class/backlight"
    # After a touch wakes it, the screen stays on this long at home before it goes dark again.
    awake_minutes: int = Field(default=2, ge=1, le=60)

    _hours = field_validator("dark_hours", mode="before")(lambda value: yaml_list(value))

    @field_validator("backlight_dir")
    @classmethod
    def _dir(cls, value: str) -> str:
        return absolute_path(value)


class KioskConfig(Strict):
    """What one kiosk device needs to know, read from /etc/palim-kiosk/kiosk.yaml."""

    server: str
    room: str
    resident: str = Field(min_length=1, max_length=80)
    greeting_name: str | None = Field(default=None, min_length=1, max_length=40)
    language: Literal[LANGUAGES] = DEFAULT_LANGUAGE  # type: ignore[valid-type]
    support_contact: str | None = Field(default=None, max_length=200)
    brand: Brand = Brand()
    ui: UiOptions = UiOptions()
    audio: AudioOptions = AudioOptions()
    tls_pins: tuple[CertificatePin, ...] = ()
    admin_pin_hash: str | None = None
    jitsi: JitsiOptions = JitsiOptions()
    device_id: str | None = None
    home: str | None = Field(default=None, max_length=80)
    health: HealthOptions = HealthOptions()
    power: PowerOptions = PowerOptions()
    family: FamilyOptions = FamilyOptions()
    presence: PresenceOptions = PresenceOptions()
    night: NightOptions = NightOptions()
    home_photo: str | None = None  # the family on the home screen, above the call button (a JPEG or PNG)
    # A file holding the server's login token (JWT, for Prosody's token authentication): read at each join, never
    # logged; it goes to the IFrame API's jwt option and as token= to the presence URL. None: the server needs none.
    jwt_file: str | None = None

    @field_validator("jwt_file")
    @classmethod
    def _jwt_file(cls, value: str | None) -> str | None:
        return None if value is None else secret_file(value)

    @field_validator("server")
    @classmethod
    def _server(cls, value: str) -> str:
        return check_server_url(value)

    @field_validator("room")
    @classmethod
    def _room(cls, value: str) -> str:
        if not ROOM.fullmatch(value):
            raise ValueError("may only use letters, digits, '-' and '_' (1 to 128 characters)")
        return value

    @field_validator("resident", "greeting_name", "support_contact", "home")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return None if value is None else one_line_text(value)

    @field_validator("home_photo")
    @classmethod
    def _home_photo(cls, value: str | None) -> str | None:
        return None if value is None else photo_path(value)

    @field_validator("device_id")
    @classmethod
    def _device_id(cls, value: str | None) -> str | None:
        return None if value is None else hostname(value)

    @field_validator("tls_pins", mode="before")
    @classmethod
    def _pins(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value  # YAML lists; each pin is checked on its own

    @field_validator("admin_pin_hash")
    @classmethod
    def _pin_hash(cls, value: str | None) -> str | None:
        return None if value is None else pin_hash(value)

    @property
    def domain(self) -> str:
        """Host[:port] as JitsiMeetExternalAPI wants it."""
        return urlsplit(self.server).netloc

    @property
    def first_name(self) -> str:
        """The name the home screen greets."""
        return self.greeting_name or self.resident.split()[0]

    @property
    def contact(self) -> str | None:
        """Whom the resident's staff call for help: the device's support contact, else the brand's."""
        return self.support_contact or self.brand.support_contact

    @property
    def room_url(self) -> str:
        """The room's address on the city's server (what the kiosk joins)."""
        return f"{self.server}/{self.room}"

    @property
    def family_link(self) -> str:
        """The link a family member opens on a phone (card, QR code, notices): the room, in the phone's browser."""
        return self.room_url + PHONE_BROWSER


# --------------------------------------------------------------------------- errors


class ConfigError(Exception):
    """A config file that cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


# --------------------------------------------------------------------------- entry points


def config_from_text(text: str, file: str = "<config>") -> KioskConfig:
    """Validate config text; raise ConfigError listing every problem with its position."""
    doc = parse_yaml(text, file)
    if doc.problems and doc.data is None:
        raise ConfigError(doc.problems)
    if not isinstance(doc.data, dict):
        raise ConfigError(doc.problems + [doc.problem((), "the config must be a mapping of keys to values")])
    try:
        config = KioskConfig.model_validate(doc.data)
    except ValidationError as exc:
        raise ConfigError(doc.problems + explain_errors(exc, doc)) from None
    if doc.problems:
        raise ConfigError(doc.problems)
    return config


def config_from_bytes(data: bytes, file: str = "<config>") -> KioskConfig:
    """Validate a config file's bytes; raise ConfigError, also when they are not UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(file, 1, 1, "", f"the config file cannot be read: {exc}")]) from None
    return config_from_text(text, file)


def config_file_bytes(path: Path) -> bytes:
    """The config file's bytes as they are now; empty when it is missing or cannot be read (all: not set up)."""
    try:
        return Path(path).read_bytes()
    except OSError:
        return b""


def load_config(path: Path) -> KioskConfig:
    """Read and validate the config file; raise ConfigError for every way it can be unusable."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError([Problem(str(path), 1, 1, "", "the config file does not exist")]) from None
    except OSError as exc:
        raise ConfigError([Problem(str(path), 1, 1, "", f"the config file cannot be read: {exc}")]) from None
    return with_photos_from(config_from_bytes(data, str(path)), Path(path).parent)


def with_photos_from(config: KioskConfig, folder: Path) -> KioskConfig:
    """Relative photo paths (home_photo, each contact's photo) made absolute against the config file's folder, so
    the kiosk finds them whatever its working directory (photo_path already refused '..')."""
    def absolute(photo: str | None) -> str | None:
        return str(Path(folder).absolute() / photo) if photo and not photo.startswith("/") else photo

    contacts = tuple(c.model_copy(update={"photo": absolute(c.photo)}) for c in config.family.contacts)
    return config.model_copy(update={"home_photo": absolute(config.home_photo),
                                     "family": config.family.model_copy(update={"contacts": contacts})})


def _peek(path: Path) -> dict:
    """Whatever mapping a config file holds, valid or not; empty when there is none (aliases are refused)."""
    try:
        data = parse_yaml(Path(path).read_text(encoding="utf-8"), str(path)).data
    except (OSError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def peek_support_contact(path: Path) -> str | None:
    """Best-effort support contact from a config that failed validation."""
    value = _peek(path).get("support_contact")
    return value.strip()[:200] if isinstance(value, str) and value.strip() else None


def peek_language(path: Path) -> str:
    """Best-effort language from a config that failed validation, so "not set up yet" is in the resident's."""
    value = _peek(path).get("language")
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def dump_config(config: KioskConfig) -> str:
    """Serialise a config as the YAML the kiosk reads back, defaults left out."""
    data = config.model_dump(mode="json", exclude_defaults=True)
    if "tls_pins" in data:
        data["tls_pins"] = list(data["tls_pins"])
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
