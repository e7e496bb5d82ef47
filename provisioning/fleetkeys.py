"""Each device's WireGuard key pair, made by palim-provision and kept beside the device list like its other secrets
files: <fleet.keys_dir>/<id>.key, one line of base64, mode 0600 (the folder 0700). Made with the cryptography
library's X25519 (the curve WireGuard uses; `wg genkey` makes the same kind of key); the public key is derived
from it whenever it is needed (hub-config, the inventory), so only the private key is ever stored.

On a device that gets its part of the list from the Ansible role, `fleet.key_env` names the environment variable the
role fills with the key read on the controller. A private key is never printed, logged or put in a message.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from kiosk.core.files import read_secret_file, write_atomic
from kiosk.core.yamlpos import Problem

from .devicelist import Loaded, Target
from .fleet import wireguard_key


def new_private_key() -> str:
    """A fresh WireGuard private key in base64 (clamped by the library's X25519, as wg genkey's)."""
    raw = X25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return base64.b64encode(raw).decode("ascii")


def public_key(private: str) -> str:
    """The public key of a base64 private key (what `wg pubkey` prints)."""
    key = X25519PrivateKey.from_private_bytes(base64.b64decode(private, validate=True))
    return base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode("ascii")


def key_file(loaded: Loaded, target: Target) -> Path:
    """Where the device's private key is kept on the controller."""
    return Path(loaded.file).parent / loaded.model.fleet.keys_dir / f"{target.id}.key"


def _valid(text: str) -> str | None:
    try:
        return wireguard_key(text)
    except ValueError:
        return None


def device_keys(loaded: Loaded, targets: list[Target], env: Mapping[str, str] | None = None, create: bool = True,
                ) -> tuple[dict[str, str], list[str], list[Problem]]:
    """The private key of each given device (id -> base64), the ids whose key was made just now, and the problems
    (a key that is no key, a folder that cannot be written, an unset key_env). Without a fleet: block, nothing."""
    fleet = loaded.model.fleet
    if fleet is None:
        return {}, [], []
    env = os.environ if env is None else env
    keys: dict[str, str] = {}
    made: list[str] = []
    problems: list[Problem] = []
    where = ("fleet", "key_env" if fleet.key_env else "keys_dir")
    unwritable = False
    for target in targets:
        if fleet.key_env is not None:
            value = _valid(env.get(fleet.key_env, ""))
            if value is None:
                problems.append(loaded.doc.problem(where, f"the environment variable {fleet.key_env} does not hold "
                                                          f"{target.id}'s WireGuard private key"))
            else:
                keys[target.id] = value
            continue
        path = key_file(loaded, target)
        try:
            text = read_secret_file(path)
        except FileNotFoundError:
            if not create:
                problems.append(loaded.doc.problem(where, f"{target.id} has no WireGuard key yet ({path}): "
                                                          f"run palim-provision keys {loaded.file}"))
                continue
            if unwritable:
                continue  # said once, for the folder
            try:
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                write_atomic(path, (new_private_key() + "\n").encode(), 0o600)
                text = read_secret_file(path)
            except OSError as exc:
                problems.append(loaded.doc.problem(where, f"WireGuard keys cannot be made in {path.parent}: "
                                                          f"{exc.strerror or exc}"))
                unwritable = True
                continue
            made.append(target.id)
        except (OSError, ValueError) as exc:
            problems.append(loaded.doc.problem(where, f"{target.id}'s WireGuard key {path} cannot be read: "
                                                      f"{getattr(exc, 'strerror', None) or exc}"))
            continue
        value = _valid(text)
        if value is None:
            problems.append(loaded.doc.problem(where, f"{path} holds no WireGuard private key (one line of base64, "
                                                      f"as wg genkey writes it); move it away to get a new one"))
            continue
        keys[target.id] = value
    return keys, made, list(dict.fromkeys(problems))


__all__ = ["new_private_key", "public_key", "key_file", "device_keys"]
