"""The kiosk's config model, shared with provisioning; over 400 lines because every option group is one model here."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticUndefined

from kiosk.core.fields import (
    BRAND_ID, DEFAULT_LANGUAGE, CertificatePin, TimeWindow, absolute_path, LANGUAGES, ROOM, Strict, check_server_url, check_url_with_path,
    email_address, hex_colour, hostname, normalise_pin, one_line_text, photo_path, pin_hash, RELATIONS, secret_file,
    time_window,
)
from kiosk.core.assets import DEFAULT_BRAND_ID, shipped_logo
from kiosk.core.style import contrast_problems
from kiosk.core.yamlpos import Problem, YamlDocument, explain_errors, not_utf8, parse_yaml
from kiosk.core.safefile import FileRefused, read_limited

DEFAULT_CONFIG_PATH = Path("/etc/palim-kiosk/kiosk.yaml")
# Added to the room's address in every link the family gets: on a phone a stock Jitsi would first show its "get the
# app" page; with deep linking off (config.deeplinking.disabled, on jitsi-meet's override whitelist) the call opens in
# the phone's browser.
PHONE_BROWSER = "#config.deeplinking.disabled=true"


# --------------------------------------------------------------------------- where a setting is written

# The levels of the device list a setting may be written at (a device's value over its home's over the defaults'),
# or DERIVED: provisioning fills it in from something else. provisioning/devicelist.py builds its models and the merge
# from these marks, and `palim-provision settings` (docs/settings.md) lists them: a setting is declared here, once.
DEFAULTS, HOME, DEVICE, DERIVED = "defaults", "home", "device", "derived"
ANY_LEVEL = (DEFAULTS, HOME, DEVICE)


def set_at(*levels: str, default: Any = PydanticUndefined, filled_by: str | None = None, **field: Any) -> Any:
    """A KioskConfig field with the levels it may be set at; filled_by: the command that writes it into the list."""
    extra: dict[str, Any] = {"levels": list(levels)}
    if filled_by is not None:
        extra["filled_by"] = filled_by
    return Field(default, json_schema_extra=extra, **field)


def levels_of(field: Any) -> tuple[str, ...]:
    """Where a field (its FieldInfo) may be set: a subset of ANY_LEVEL, (DERIVED,), or () when not marked."""
    extra = field.json_schema_extra
    return tuple(extra["levels"]) if isinstance(extra, dict) and "levels" in extra else ()


def setting_levels(name: str) -> tuple[str, ...]:
    """Where KioskConfig's setting `name` may be set (a subset of ANY_LEVEL), or (DERIVED,)."""
    return levels_of(KioskConfig.model_fields[name])


def filled_by(name: str) -> str | None:
    """The command that writes KioskConfig's setting `name` into the device list, if one does."""
    extra = KioskConfig.model_fields[name].json_schema_extra
    return extra.get("filled_by") if isinstance(extra, dict) else None


# --------------------------------------------------------------------------- the model


def yaml_list(value: Any) -> Any:
    """A YAML list as the tuple the model keeps (each item is checked on its own); anything else as it is."""
    return tuple(value) if isinstance(value, list) else value


class JitsiOptions(Strict):
    """Jitsi settings a city may tune; the kiosk's own lockdown keys are not overridable."""

    resolution: Literal[180, 240, 360, 480, 720] = Field(default=360, examples=[240])
    """The camera picture's height in pixels: 180, 240, 360, 480 or 720; old laptops and slow uplinks want less."""
    profile: Literal["auto", "low", "normal"] = Field(default="auto", examples=["low"])
    """"low": the low-power call profile for old hardware (at most 360p, fewer frames, no audio levels); "auto": low
    when the device is weak (no GPU, two cores or fewer, or under 4 GiB of memory); "normal": as set here."""
    frame_rate: int | None = Field(default=None, ge=5, le=30, examples=[15])
    """Camera frames per second sent (5 to 30); empty: the profile's choice (low: 15, normal: Jitsi's own, 30)."""
    start_audio_muted: bool = Field(default=False, examples=[True])
    """The resident's microphone starts muted."""
    start_video_muted: bool = Field(default=False, examples=[True])
    """The resident's camera starts off."""
    channel_last_n: int = Field(default=4, ge=1, le=25, examples=[2])
    """How many of the others' videos the device receives at once (1 to 25); fewer saves bandwidth."""
    self_view: bool = Field(default=True, examples=[False])
    """The resident's own camera as a small tile in the call; off saves work on weak devices (docs/benchmarks.md)
    but the resident no longer sees whether they are in the picture."""
    connect_timeout_s: int = Field(default=45, ge=5, le=300, examples=[60])
    """Seconds a call may take to connect before the resident reads the calm "connection" message (5 to 300)."""


class BrandColors(Strict):
    """A brand's colours as #rrggbb; each one left out keeps the default palette's (kiosk/core/style.py)."""

    background: str | None = Field(default=None, examples=["#0b4f6c"])
    """The colour of the screens' background, as #rrggbb."""
    text: str | None = Field(default=None, examples=["#0b4f6c"])
    """The colour of the text, as #rrggbb."""
    text_soft: str | None = Field(default=None, examples=["#0b4f6c"])
    """The colour of secondary text, as #rrggbb."""
    call: str | None = Field(default=None, examples=["#0b4f6c"])
    """The colour of the call button, as #rrggbb."""
    call_pressed: str | None = Field(default=None, examples=["#0b4f6c"])
    """The colour of the call button while pressed, as #rrggbb."""
    hangup: str | None = Field(default=None, examples=["#0b4f6c"])
    """The colour of the hang-up button, as #rrggbb."""
    hangup_pressed: str | None = Field(default=None, examples=["#0b4f6c"])
    """The colour of the hang-up button while pressed, as #rrggbb."""
    neutral: str | None = Field(default=None, examples=["#0b4f6c"])
    """The colour of the other buttons, as #rrggbb."""
    neutral_pressed: str | None = Field(default=None, examples=["#0b4f6c"])
    """The colour of the other buttons while pressed, as #rrggbb."""
    on_button: str | None = Field(default=None, examples=["#0b4f6c"])
    """The colour of the text on buttons, as #rrggbb."""
    dark: str | None = Field(default=None, examples=["#0b4f6c"])
    """The colour of dark surfaces (the call's bar), as #rrggbb."""
    on_dark: str | None = Field(default=None, examples=["#0b4f6c"])
    """The colour of the text on dark surfaces, as #rrggbb."""
    pulse: str | None = Field(default=None, examples=["#0b4f6c"])
    """The colour of the ringing pulse, as #rrggbb."""

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

    id: str = Field(default=DEFAULT_BRAND_ID, examples=["beispielstadt"])
    """The brand's key: its assets are assets/brands/<id>/ (logo.svg); in the device list, its key under brands."""
    name: str = Field(default="Palim! Palim!", min_length=1, max_length=40, examples=["Hallo Familie!"])
    """The platform's name the screens show (at most 40 characters)."""
    logo: str | None = Field(default=None, examples=["/etc/palim-kiosk/brand/logo.svg"])
    """Absolute path of an SVG on the device; default: the brand's shipped logo.svg (not in the device list)."""
    colors: BrandColors = BrandColors()
    """The brand's colours; every text colour must reach 7:1 contrast on its background."""
    support_contact: str | None = Field(default=None, max_length=200,
                                        examples=["Bürgerbüro Beispielstadt, 07221 000-0"])
    """Whom to call for help, used when the device's config sets no support_contact."""

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

    scale: float = Field(default=1.0, ge=1.0, le=2.0, examples=[1.5])
    """The text's size, 1.0 to 2.0 (2.0 still fits a 1024x600 screen)."""


class AudioOptions(Strict):
    """The kiosk sets the speaker to at least this volume, so knocked hardware keys cannot leave it silent."""

    min_volume: int = Field(default=60, ge=0, le=100, examples=[80])
    """The speaker's lowest volume in percent, set at start and before each call; 0 leaves the volume alone."""
    call_volume: int = Field(default=80, ge=10, le=100, examples=[60])
    """The speaker volume a call starts at, in percent (never below min_volume), until the resident changes it with
    the call's − / + buttons; their choice is kept for the next call (kiosk/speaker.py)."""


class HealthOptions(Strict):
    """Self-healing and the figures staff and the city see."""

    nightly_restart: str | None = Field(default=None, examples=["02:00-03:00"])
    """A window like "02:00-03:00": the kiosk restarts once in it each night, only when no call runs (and reboots
    there for updates); a device list's default: the hour from reboot_time on."""
    metrics_file: str | None = Field(default=None, examples=["/var/lib/prometheus/node-exporter/palim_kiosk.prom"])
    """Where the kiosk writes its figures for node_exporter's textfile collector (an absolute path)."""
    usage_log: str | None = Field(default="/var/lib/palim-kiosk/usage.jsonl",
                                  examples=["/var/lib/palim-kiosk/calls.jsonl"])
    """JSON lines, one per call (start, end, duration, others), never names or room content; read by report."""
    max_renderer_crashes: int = Field(default=3, ge=1, le=20, examples=[5])
    """Renderer crashes within ten minutes after which the kiosk exits for systemd to restart it (1 to 20)."""

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

    warn_percent: int = Field(default=20, ge=5, le=90, examples=[30])
    """Battery percent at which the screen asks staff to plug the device in (5 to 90)."""
    shutdown_percent: int = Field(default=5, ge=0, le=50, examples=[10])
    """Battery percent at which the device shuts down cleanly; must be below warn_percent."""
    shutdown: bool = Field(default=True, examples=[False])
    """false: only warn, never power off."""

    @field_validator("shutdown_percent")
    @classmethod
    def _below_warn(cls, value: int, info) -> int:
        if value >= info.data.get("warn_percent", 20):
            raise ValueError("must be below warn_percent")
        return value


class NtfyChannel(Strict):
    """A push to an ntfy topic (the family installs the ntfy app and subscribes)."""

    url: str = Field(examples=["https://ntfy.example.org/palim-erna"])
    """The topic's (or the endpoint's) https address."""
    token_file: str | None = Field(default=None, examples=["/etc/palim-kiosk/secrets/ntfy-token"])
    """A file on the device holding a bearer token, read at send time."""

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

    name: str = Field(min_length=1, max_length=80, examples=["Anna Müller"])
    """The family member's name, as the ringing screen shows it."""
    ntfy: NtfyChannel | None = None
    """A push to an ntfy topic (the family installs the ntfy app and subscribes)."""
    webhook: WebhookChannel | None = None
    """A JSON POST for Matrix bridges, SMS gateways or the city's own system."""
    email: str | None = Field(default=None, examples=["anna@example.org"])
    """An e-mail address; needs family.smtp."""
    language: Literal[LANGUAGES] | None = Field(default=None, examples=["en"])  # type: ignore[valid-type]
    """The notice's language; empty: the kiosk's."""
    aliases: tuple[str, ...] = Field(default=(), examples=[["Anna M.", "Mama"]])
    """Who rings: the names this person types in Jitsi, matched like name (case and spaces do not count)."""
    relation: Literal[RELATIONS] | None = Field(default=None, examples=["Tochter"])  # type: ignore[valid-type]
    """In German, e.g. Tochter: the ringing screen says "Ihre Tochter Anna ist da"."""
    photo: str | None = Field(default=None, examples=["photos/anna.jpg"])
    """A JPEG or PNG: in the device list a file next to the list; on the device where provisioning put it."""

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

    host: str = Field(min_length=1, examples=["smtp.example.org"])
    """The relay's host name."""
    port: int = Field(default=587, ge=1, le=65535, examples=[25])
    """The relay's port (STARTTLS)."""
    sender: str = Field(examples=["palim@example.org"])
    """The From address of the notices."""
    user: str | None = Field(default=None, examples=["palim"])
    """The login name, when the relay wants one."""
    password_file: str | None = Field(default=None, examples=["/etc/palim-kiosk/secrets/smtp"])
    """A file on the device holding the login password."""
    ca_file: str | None = Field(default=None, examples=["/etc/palim-kiosk/city-ca.pem"])
    """A city CA to trust for the relay; default: the system's."""

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

    contacts: tuple[Contact, ...] = Field(default=(), examples=[[{"name": "Anna Müller", "relation": "Tochter",
                                                                   "ntfy": {"url": "https://ntfy.example.org/anna"}}]])
    """The resident's people: name, ntfy/webhook/email, language, aliases, relation, photo. A device's list replaces
    the home's as a whole."""
    smtp: SmtpOptions | None = Field(default=None,
                                     examples=[{"host": "smtp.example.org", "sender": "palim@example.org"}])
    """The city's SMTP relay (STARTTLS), for e-mail notices: host, port, sender, user, password_file, ca_file."""
    dedupe_minutes: int = Field(default=5, ge=0, le=120, examples=[10])
    """A second tap within this many minutes sends nothing new (0 to 120)."""
    wait_minutes: int = Field(default=10, ge=1, le=60, examples=[5])
    """Alone in the room after a tap: the kiosk says whom it told and waits this many minutes, then goes home
    kindly (1 to 60)."""

    @field_validator("contacts", mode="before")
    @classmethod
    def _tuple(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value


class PresenceOptions(Strict):
    """Asking the server whether someone waits in the room (Prosody mod_muc_size), and what to do then."""

    url: str | None = Field(default=None, examples=[
        "https://konferenz.example.org/room-size?room={room}&domain=konferenz.example.org"])
    """Prosody's room-size address with {room}; domain= is the XMPP domain, not the MUC domain (mod_muc_size adds
    "conference." itself). Empty: the device never rings."""
    interval_s: int = Field(default=10, ge=3, le=600, examples=[20])
    """Seconds between two questions to the server (3 to 600)."""
    auto_answer: bool = Field(default=False, examples=[True])
    """Join by itself after a visible 10 s countdown."""
    quiet_hours: tuple[TimeWindow, ...] = Field(default=(), examples=[["20:00-08:00", "12:00-13:00"]])
    """Windows like "20:00-08:00" without ringing and without auto-answer."""

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if "{room}" not in value:
            raise ValueError("must contain {room} where the room name goes")
        check_url_with_path(value.replace("{room}", "room"))
        return value

    _hours = field_validator("quiet_hours", mode="before")(lambda value: yaml_list(value))


class NightOptions(Strict):
    """The screen goes dark at night, so the resident's room is dark; a touch or a ringing family wakes it."""

    dark_hours: tuple[TimeWindow, ...] = Field(default=(), examples=[["21:30-07:00"]])
    """Windows like "21:30-07:00" when the screen is dark (home screen only; a call or staff keep it on). Ringing
    follows presence.quiet_hours: a family that rings outside them wakes the screen."""
    backlight_dir: str = Field(default="/sys/class/backlight", examples=["/sys/class/backlight/intel_backlight"])
    """Where the backlights are (Linux sysfs); a device without one turns the display off through the compositor."""
    awake_minutes: int = Field(default=2, ge=1, le=60, examples=[5])
    """After a touch wakes it, the screen stays on this many minutes at home before it goes dark again (1 to 60)."""

    _hours = field_validator("dark_hours", mode="before")(lambda value: yaml_list(value))

    @field_validator("backlight_dir")
    @classmethod
    def _dir(cls, value: str) -> str:
        return absolute_path(value)


class KioskConfig(Strict):
    """What one kiosk device needs to know, read from /etc/palim-kiosk/kiosk.yaml."""

    server: str = set_at(*ANY_LEVEL, examples=["https://konferenz.example.org"])
    """The city's Jitsi server (https; http only for 127.0.0.1 or localhost)."""
    room: str = set_at(DEVICE, filled_by="palim-provision rooms FILE --fill",
                       examples=["palim-l2hdeebeoie5kzya3mw4pgrmnb"])
    """The device's fixed, unguessable room on the server; the family's card links to it."""
    resident: str = set_at(DEVICE, min_length=1, max_length=80, examples=["Erna Müller"])
    """The resident's name, shown to the family in the call."""
    greeting_name: str | None = set_at(DEVICE, default=None, min_length=1, max_length=40, examples=["Erna"])
    """The name the home screen greets; empty: the first word of resident."""
    language: Literal[LANGUAGES] = set_at(  # type: ignore[valid-type]
        *ANY_LEVEL, default=DEFAULT_LANGUAGE, examples=["tr"])
    """The resident's language: de, en, tr, ru or pl."""
    support_contact: str | None = set_at(*ANY_LEVEL, default=None, max_length=200,
                                         examples=["Stadtverwaltung IT, 07223 935-000"])
    """Whom staff call for help, shown on the "not set up yet" screen and the service screen."""
    brand: Brand = set_at(*ANY_LEVEL, default=Brand(), examples=["beispielstadt"])
    """A partner town's look: in the device list the key of one of its brands (see brands below)."""
    ui: UiOptions = set_at(*ANY_LEVEL, default=UiOptions())
    """How big the kiosk draws its text for this resident."""
    audio: AudioOptions = set_at(*ANY_LEVEL, default=AudioOptions())
    """The speaker's volume floor."""
    tls_pins: tuple[CertificatePin, ...] = set_at(*ANY_LEVEL, default=(), examples=[["ab" * 32]])
    """SHA-256 fingerprints of the server's certificate, only for a city CA or a self-signed server."""
    admin_pin_hash: str | None = set_at(*ANY_LEVEL, default=None, examples=[
        "scrypt$16384$8$1$cGFsaW0tZXhhbXBsZS1zYWx0$/g6CA22NHB5PPY1fSnuorRsuhUIHdkiloWAviqVt9Ng="])
    """The staff PIN's hash (palim-kiosk --hash-pin makes it); without it staff have no way out on the device."""
    jitsi: JitsiOptions = set_at(*ANY_LEVEL, default=JitsiOptions())
    """Jitsi settings a city may tune."""
    device_id: str | None = set_at(DERIVED, default=None)
    """The device's id in the device list."""
    home: str | None = set_at(DERIVED, default=None, max_length=80)
    """The key of the device's home in the device list."""
    health: HealthOptions = set_at(*ANY_LEVEL, default=HealthOptions())
    """Self-healing and the figures staff and the city see."""
    power: PowerOptions = set_at(*ANY_LEVEL, default=PowerOptions())
    """Battery warnings and a clean shutdown on worn batteries."""
    family: FamilyOptions = set_at(*ANY_LEVEL, default=FamilyOptions())
    """Who hears that the resident is calling, and who may ring the device."""
    presence: PresenceOptions = set_at(*ANY_LEVEL, default=PresenceOptions())
    """Asking the server whether someone waits in the room, and what to do then."""
    night: NightOptions = set_at(*ANY_LEVEL, default=NightOptions())
    """The screen dark at night, so the resident's room is dark; a touch or a ringing family wakes it."""
    home_photo: str | None = set_at(DEVICE, default=None, examples=["photos/familie.jpg"])
    """The family on the home screen, above the call button: a JPEG or PNG next to the device list."""
    jwt_file: str | None = set_at(DERIVED, default=None)
    """/etc/palim-kiosk/secrets/jwt when the home or the defaults set jitsi_token: the device's login token, read at
    each join, never logged."""

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
        raise ConfigError([not_utf8(data, exc, file, "the config file")]) from None
    return config_from_text(text, file)


# A kiosk config is a few kB (docs/kiosk-config.md's full example: 2.4 kB); 64 KiB of YAML validates in ~25 ms.
MAX_CONFIG_BYTES = 64 * 1024


def read_config_file(path: Path) -> bytes:
    """The config file's bytes, read as kiosk.core.safefile reads outside files: a regular file (no symlink, FIFO
    or device) of at most MAX_CONFIG_BYTES; FileRefused or OSError otherwise."""
    return read_limited(path, MAX_CONFIG_BYTES, follow_symlinks=False)


def config_file_bytes(path: Path) -> bytes:
    """The config file's bytes as they are now; empty when it is missing or cannot be read (all: not set up)."""
    try:
        return read_config_file(path)
    except (OSError, FileRefused):
        return b""


def load_config(path: Path) -> KioskConfig:
    """Read and validate the config file; raise ConfigError for every way it can be unusable."""
    try:
        data = read_config_file(path)
    except FileNotFoundError:
        raise ConfigError([Problem(str(path), 1, 1, "", "the config file does not exist")]) from None
    except FileRefused as exc:
        raise ConfigError([Problem(str(path), 1, 1, "", f"the config file cannot be used: {exc}")]) from None
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
        data = parse_yaml(read_config_file(path).decode("utf-8"), str(path)).data
    except (OSError, FileRefused, UnicodeDecodeError):
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
