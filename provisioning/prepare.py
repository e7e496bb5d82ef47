"""What every per-device command needs before it can write anything, in one place: the devices asked for, their
Wi-Fi passwords and login tokens (render, apply and image), and the bundle made from them (render and apply)."""

from __future__ import annotations

from .bundle import Bundle, render_bundle
from .devicelist import DeviceListError, Loaded, Target, resolve_secrets
from .fleetkeys import device_keys, key_file
from .tokens import device_tokens


class UnknownDevice(ValueError):
    """A --device that is not in the list."""


def pick(loaded: Loaded, device_id: str | None) -> list[Target]:
    """The device with this id, or every device when none is given; UnknownDevice names the known ones."""
    if device_id is None:
        return loaded.targets
    target = loaded.target(device_id)
    if target is None:
        known = [t.id for t in loaded.targets]
        shown = ", ".join(known[:10]) + (f" and {len(known) - 10} more" if len(known) > 10 else "")
        raise UnknownDevice(f"{loaded.file}: no device with id '{device_id}' (known: {shown or 'none'})")
    return [target]


def device_secrets(loaded: Loaded, targets: list[Target]) -> tuple[dict[str, str], dict[str, str]]:
    """The Wi-Fi passwords (home key -> password) and login tokens (device id -> token) these devices need;
    DeviceListError with every one that is missing or wrong. Values never go into a message."""
    psks, problems = resolve_secrets(loaded, targets)
    tokens, unavailable, wrong = device_tokens(loaded, targets)
    problems += unavailable + wrong
    if problems:
        raise DeviceListError(problems)
    return psks, tokens


def wireguard_keys(loaded: Loaded, targets: list[Target]) -> tuple[dict[str, str], list[str]]:
    """The WireGuard private keys of these devices (id -> key), made where there is none yet (fleet: in the list;
    provisioning.fleetkeys), and the ids whose key was made now; DeviceListError with every one that cannot be had."""
    keys, made, problems = device_keys(loaded, targets)
    if problems:
        raise DeviceListError(problems)
    return keys, made


def made_keys_note(loaded: Loaded, made: list[str], hub_told: bool = False) -> str:
    """What a command says when it made WireGuard keys (never a key): which devices, where, what to do next."""
    folder = key_file(loaded, loaded.target(made[0])).parent
    shown = ", ".join(made[:5]) + (f" and {len(made) - 5} more" if len(made) > 5 else "")
    what = "a new WireGuard key" if len(made) == 1 else "new WireGuard keys"
    return (f"made {what} for {shown} in {folder} (0600; keep it out of git, back it up with the "
            f"device list); " + ("the hub's peers written now include it" if hub_told else
                                  "run palim-provision hub-config again so the hub knows it"))


def device_bundle(target: Target, psks: dict[str, str], tokens: dict[str, str], kiosk_source: str | None = None,
                  offline: bool = False, wg_keys: dict[str, str] | None = None) -> Bundle:
    """One device's bundle from its secrets (photos are scaled into it by render_bundle)."""
    return render_bundle(target, psks.get(target.home_key), kiosk_source, tokens.get(target.id), offline=offline,
                         wg_key=(wg_keys or {}).get(target.id))


__all__ = ["UnknownDevice", "pick", "device_secrets", "wireguard_keys", "made_keys_note", "device_bundle"]
