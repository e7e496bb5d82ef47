"""An admin's SSH public key as sshd reads it: OpenSSH's own parser (`ssh-keygen -l -f`) decides, not ours.

Keys that sshd skips were accepted before (RSA of 512, 1023 or 20000 bits, a 100 kB line, a damaged security-key
key, two keys glued on one line, of which sshd reads only the first); when such a key is a device's only one, the
device silently loses its remote access. Here each key is written alone to a temporary file and ssh-keygen must read
exactly that one key; RSA must have 2048 to 16384 bits (OpenSSH itself refuses below 1024 and, since 9.x, keys its
ssh-keygen no longer makes below 2048 are what a city should not roll out).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile

MAX_KEY_LINE = 16 * 1024  # an RSA key of 16384 bits is about 2.8 kB of base64; OpenSSH's own buffer is 16 KiB
RSA_BITS = (2048, 16384)
# `ssh-keygen -l` prints "<bits> SHA256:<hash> <comment> (<TYPE>)" for each key it reads.
_LISTED = re.compile(r"(?P<bits>\d+) SHA256:\S+ .*\((?P<type>[A-Z0-9-]+)\)")
# A second key inside the comment: sshd reads the first key of a line and takes the rest as its comment.
_GLUED = re.compile(r"(?:^|\s)(?:ssh-|ecdsa-|sk-)[a-z0-9@.-]+\s+AAAA[A-Za-z0-9+/]")


def ssh_keygen() -> str | None:
    """OpenSSH's ssh-keygen (Debian: openssh-client), or None where it is not installed."""
    return shutil.which("ssh-keygen") or shutil.which("ssh-keygen", path="/usr/bin:/bin")


def check_with_openssh(line: str) -> None:
    """Raise ValueError (a sentence for the device list's file:line:col) unless sshd would read exactly this one
    key from the line, with RSA of 2048 to 16384 bits."""
    if len(line) > MAX_KEY_LINE:
        raise ValueError(f"the key line is {len(line) // 1024} KiB long: no public key is longer than 16 KiB "
                         "(copy the whole line of the .pub file, and only that)")
    if _GLUED.search(line.split(" ", 2)[2] if line.count(" ") >= 2 else ""):
        raise ValueError("two keys on one line: sshd reads only the first; give each key its own list entry")
    program = ssh_keygen()
    if program is None:
        raise ValueError("cannot be checked here: ssh-keygen is missing (Debian: apt-get install openssh-client)")
    with tempfile.NamedTemporaryFile("w", prefix="palim-key-", suffix=".pub", encoding="ascii") as handle:
        handle.write(line + "\n")
        handle.flush()
        try:
            done = subprocess.run([program, "-l", "-f", handle.name], capture_output=True, text=True, timeout=30,
                                  env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"}, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ValueError(f"cannot be checked here: ssh-keygen did not run ({type(exc).__name__})") from None
    listed = [_LISTED.fullmatch(out.strip()) for out in done.stdout.splitlines() if out.strip()]
    if done.returncode != 0 or len(listed) != 1 or listed[0] is None:
        raise ValueError("OpenSSH cannot read this key (ssh-keygen -l refuses it): sshd would skip it; copy the "
                         "whole line of the .pub file, or make a new key (ssh-keygen -t ed25519)")
    bits, kind = int(listed[0]["bits"]), listed[0]["type"]
    if kind == "RSA" and not RSA_BITS[0] <= bits <= RSA_BITS[1]:
        raise ValueError(f"an RSA key of {bits} bits: use 2048 to 16384 bits, or better an ed25519 key "
                         "(ssh-keygen -t ed25519)")
