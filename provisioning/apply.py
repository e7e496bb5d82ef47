"""Apply a bundle to a root; over 400 lines because the root as a boundary, masking and the drift key guard writes.

Compare, show masked diffs, write atomically with backups, run the live steps.
"""

from __future__ import annotations

import difflib
import os
import re
import secrets as _random
import shutil
import stat
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from kiosk.core.files import write_atomic

from .bundle import MANIFEST, SSHD_DROPIN, Bundle, BundleFile
from .devicelist import Loaded, Target, match_targets, placeholder_serial
from .sshdropins import dropin_note
from .steps import Runner, SkipRunner, StepResult

BACKUP_DIR = "var/backups/palim-provision"
# The device's own key for the manifest's HMACs of secret files: made on the first apply, 0600 root, never shown.
DRIFT_KEY = "/var/lib/palim-provision/drift.key"
DRIFT_KEY_BYTES = 32

# What is never shown in a diff, old lines and new alike, whatever file it is in (deny by default):
# key file lines holding a secret, YAML keys holding one (or a hash of one), any scrypt hash, and every hash the
# manifest records (an older manifest holds bare SHA-256 hashes of the Wi-Fi file).
_SECRET_LINE = re.compile(r"^(\s*(?:psk|password|passphrase|wep-key\d|private-key-password|pin|secret|token"
                          r"|PrivateKey|PresharedKey)\s*=).*$")
_SECRET_YAML = re.compile(r"""^(\s*(?:-\s+)?["']?(?:admin_pin_hash|psk|password|passphrase|token)["']?"""
                          r"""\s*:).*$""")
_SECRET_JSON = re.compile(r"""("(?:sha256|hmac_sha256|admin_pin_hash|psk|password|token)"\s*:\s*)"[^"]*"(,?)""")
_SCRYPT = re.compile(r"scrypt\$[^\s'\"]*")
# A JSON Web Token anywhere (the device's Jitsi login token, the old one too): header.payload.signature, base64url.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


@dataclass
class Change:
    """How one bundle file compares with what the root holds."""

    file: BundleFile
    dest: Path
    status: str  # "new", "changed", "unchanged"
    reasons: list[str] = field(default_factory=list)
    old: bytes | None = None
    uid: int | None = None
    gid: int | None = None
    owner_note: str = ""


@dataclass
class Report:
    """What an apply did, in order, for the operator."""

    device: str
    root: Path
    dry_run: bool
    changes: list[Change] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    created_dirs: list[str] = field(default_factory=list)
    backups: list[str] = field(default_factory=list)
    backup_dir: Path | None = None
    steps: list[StepResult] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)  # what a person should look at (other sshd drop-ins)

    @property
    def changed(self) -> list[Change]:
        return [c for c in self.changes if c.status != "unchanged"]

    def summary(self) -> str:
        """'N changed, M unchanged' (or what would change in a dry run)."""
        n, m = len(self.changed), len(self.changes) - len(self.changed)
        verb = "would change" if self.dry_run else "changed"
        return f"{n} {verb}, {m} unchanged"

    def lines(self) -> list[str]:
        """The report as lines of text; never contains a secret."""
        out = [f"device {self.device} into {self.root}{' (dry run: nothing written)' if self.dry_run else ''}"]
        for change in self.changes:
            why = f" ({', '.join(change.reasons)})" if change.reasons else ""
            state = change.status if change.status == "unchanged" else f"{change.status}{why}"
            written = "" if self.dry_run or change.status == "unchanged" or change.file.path in self.written else \
                " NOT WRITTEN"
            out.append(f"  {state:<40} {change.file.path}{written}")
        for change in self.changes:
            if change.owner_note:
                out.append(f"  owner: {change.file.path}: {change.owner_note}")
        for result in self.steps:
            detail = f": {result.detail}" if result.detail else ""
            out.append(f"  step {result.status}: {result.step.title}{detail}")
        if self.backups:
            out.append(f"  backups of {len(self.backups)} replaced file(s) in {self.backup_dir}")
        out += [f"  note: {note}" for note in self.notes]
        if self.error:
            out.append(f"FAILED: {self.error}")
            out.append(f"  written before the failure: {', '.join(self.written) or 'nothing'}")
            pending = [c.file.path for c in self.changed if c.file.path not in self.written]
            out.append(f"  left as they were: {', '.join(pending) or 'nothing'}")
        out.append(self.summary())
        return out

    def diff_text(self) -> str:
        """The unified diffs of every changed file, secrets masked, each ending in a line break."""
        return "".join(t if t.endswith("\n") else t + "\n" for c in self.changed if (t := diff(c)))

    def as_json(self) -> dict:
        """The report as data (for --json and the Ansible role); the diff is masked like the text one."""
        return {
            "device": self.device, "root": str(self.root), "dry_run": self.dry_run,
            "changed": [{"path": c.file.path, "status": c.status, "reasons": c.reasons} for c in self.changed],
            "unchanged": len(self.changes) - len(self.changed),
            "steps": [{"title": r.step.title, "status": r.status, "detail": r.detail} for r in self.steps],
            "diff": self.diff_text(),
            "error": self.error, "summary": self.summary(), "lines": self.lines(), "notes": self.notes,
        }


class ApplyError(Exception):
    """Applying stopped part-way; the report says what was done."""

    def __init__(self, report: Report):
        super().__init__(report.error)
        self.report = report


# --------------------------------------------------------------------------- owners


class Owners:
    """Resolves user and group names against the root's own /etc/passwd and /etc/group."""

    def __init__(self, root: Path):
        self.root = root
        self.reload()

    def reload(self) -> None:
        """Read the account files again (after the kiosk user was created)."""
        self.users = self._read("passwd")
        self.groups = self._read("group")

    def _read(self, name: str) -> dict[str, int]:
        ids = {"root": 0}  # root is uid/gid 0 everywhere, even in a bare staging tree
        try:
            path = inside(self.root, f"/etc/{name}")
            if not stat.S_ISREG(path.lstat().st_mode):
                return ids  # a symlink could point out of the root
            for line in path.read_text(encoding="utf-8").splitlines():
                parts = line.split(":")
                if len(parts) >= 3 and parts[2].isdigit():
                    ids.setdefault(parts[0], int(parts[2]))
        except (OSError, UnicodeDecodeError, OutsideRoot):
            pass
        return ids

    def resolve(self, file: BundleFile) -> tuple[int | None, int | None, str]:
        """uid, gid (None when unknown) and a note when the intended owner cannot be set."""
        uid, gid = self.users.get(file.owner), self.groups.get(file.group)
        missing = ([f"user '{file.owner}'"] if uid is None else []) + ([f"group '{file.group}'"] if gid is None else [])
        if missing:
            return None, None, (f"{' and '.join(missing)} not in {self.root}/etc yet; left owned by root, intended "
                                f"owner {file.owner}:{file.group} is in the manifest")
        if os.geteuid() != 0:
            return None, None, f"not running as root, so owner {file.owner}:{file.group} was not set"
        return uid, gid, ""


# --------------------------------------------------------------------------- planning and diffs


def plan(bundle: Bundle, root: Path, owners: Owners | None = None) -> list[Change]:
    """Compare every file of the bundle with the root; reads only."""
    owners = owners or Owners(root)
    changes = []
    for file in bundle.files:
        dest = inside(root, file.path)
        uid, gid, note = owners.resolve(file)
        change = Change(file, dest, "new", uid=uid, gid=gid, owner_note=note)
        try:
            st = dest.lstat()
            old = dest.read_bytes() if stat.S_ISREG(st.st_mode) else None
        except FileNotFoundError:
            changes.append(change)
            continue
        change.old = old
        change.status = "changed"
        if old is None:
            change.reasons.append("not a regular file")
        elif old != file.content:
            change.reasons.append("content")
        if stat.S_IMODE(st.st_mode) != file.mode:
            change.reasons.append(f"mode {stat.S_IMODE(st.st_mode):04o} -> {file.mode:04o}")
        if uid is not None and (st.st_uid, st.st_gid) != (uid, gid):
            change.reasons.append(f"owner {st.st_uid}:{st.st_gid} -> {file.owner}:{file.group}")
        if not change.reasons:
            change.status = "unchanged"
        changes.append(change)
    return changes


def mask_line(line: str, secrets: tuple[str, ...] = (), label: str = "hidden") -> str:
    """One line fit to print: known secret values, secret keys' values, scrypt hashes and manifest hashes hidden."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            line = line.replace(secret, "********")
    line = _SCRYPT.sub(f"scrypt$<{label}>", line)
    line = _JWT.sub(f"<{label}>", line)
    line = _SECRET_LINE.sub(rf"\1<{label}>", line)
    line = _SECRET_YAML.sub(rf"\1 <{label}>", line)
    return _SECRET_JSON.sub(rf'\1"<{label}>"\2', line)


def mask(text: str, secrets: tuple[str, ...] = (), label: str = "hidden") -> str:
    """Text with secret values and secret lines replaced, fit to print."""
    return "\n".join(mask_line(line, secrets, label) for line in text.split("\n"))


def diff(change: Change) -> str:
    """A unified diff of one change, masked line by line (removed lines as old, added ones as new, context too);
    empty when the content is the same."""
    if change.status == "unchanged" or (change.old is not None and change.old == change.file.content):
        return ""
    try:
        old = change.old.decode("utf-8") if change.old is not None else ""
        new = change.file.content.decode("utf-8")
    except UnicodeDecodeError:
        return f"Binary content of {change.file.path} differs\n"
    src = "/dev/null" if change.old is None else f"a{change.file.path}"
    out = []
    for line in difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True), src,
                                     f"b{change.file.path}"):
        if line.startswith(("---", "+++", "@@")):
            out.append(line)
        else:
            label = {"-": "hidden, old", "+": "hidden, new"}.get(line[:1], "hidden")
            out.append(line[:1] + mask_line(line[1:], change.file.secrets, label))
    return "".join(out)


# --------------------------------------------------------------------------- the root as a boundary


class OutsideRoot(Exception):
    """A path under the root leads out of it (a symlink, '..'): nothing is read or written there.

    `reason` says what is wrong (the link), `path` the file apply wanted: one link blocks many files, and the
    message names the link once."""

    def __init__(self, reason: str, path: str = ""):
        super().__init__(f"{reason}; refusing to follow it for {path}" if path else reason)
        self.reason, self.path = reason, path


def _within(root: Path, path: Path) -> bool:
    return path == root or root in path.parents


def inside(root: Path, path: str) -> Path:
    """Where a device path lies under the root, every folder on the way resolved; OutsideRoot when a symlink (or
    '..') would lead out of the root. The last part is not followed: apply replaces a symlink there, never its
    target."""
    real_root = Path(os.path.realpath(root))
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts or not parts:
        raise OutsideRoot(f"{path} is not a plain path under the root")
    current = real_root
    for index, part in enumerate(parts[:-1]):
        step = current / part
        if step.is_symlink():
            resolved = Path(os.path.realpath(step))
            shown = "/" + "/".join(parts[:index + 1])
            if resolved.is_symlink():
                raise OutsideRoot(f"{shown} in {root} is a symlink loop", path)
            if not _within(real_root, resolved):
                raise OutsideRoot(f"{shown} in {root} is a symlink to {os.readlink(step)}, which leads out of the "
                                  f"root", path)
            step = resolved
        current = step
    return current / parts[-1]


def check_inside(bundle: Bundle, root: Path) -> list[str]:
    """Every place apply would read or write for this bundle, checked before anything happens; the problems."""
    problems: list[str] = []
    blocked: dict[str, list[str]] = {}  # one link leading out blocks many files: named once, with all of them
    for path in [f.path for f in bundle.files] + [DRIFT_KEY, f"/{BACKUP_DIR}/stamp/file"]:
        try:
            inside(root, path)
        except OutsideRoot as exc:
            if exc.path:
                blocked.setdefault(exc.reason, []).append(exc.path)
            else:
                problems.append(exc.reason)
        except (OSError, RuntimeError) as exc:  # a symlink loop
            problems.append(f"{path}: cannot be resolved under {root}: {getattr(exc, 'strerror', None) or exc}")
    for reason, paths in blocked.items():
        listed = ", ".join(paths[:-1]) + " and " + paths[-1] if len(paths) > 1 else paths[0]
        problems.append(f"{reason}; refusing to follow it for {listed}")
    return list(dict.fromkeys(problems))


def drift_key(root: Path) -> bytes | None:
    """The device's drift key from the root; None when there is none yet (or it is not a 32-byte regular file)."""
    dest = inside(root, DRIFT_KEY)
    try:
        st = dest.lstat()
        if stat.S_ISREG(st.st_mode) and st.st_size == DRIFT_KEY_BYTES:
            key = dest.read_bytes()
            if len(key) == DRIFT_KEY_BYTES:
                return key
    except FileNotFoundError:
        pass
    return None


def _save_drift_key(root: Path, key: bytes, report: Report) -> None:
    dest = inside(root, DRIFT_KEY)
    _make_dirs(Path(os.path.realpath(root)), dest, report)
    owner = 0 if os.geteuid() == 0 else None
    write_atomic(dest, key, 0o600, owner, owner)  # replaces a symlink or a broken key, never follows it


# --------------------------------------------------------------------------- writing


def _make_dirs(real_root: Path, dest: Path, report: Report | None) -> None:
    missing = []
    parent = dest.parent
    while not os.path.lexists(parent):
        missing.append(parent)
        parent = parent.parent
    for directory in reversed(missing):
        directory.mkdir(mode=0o755)
        os.chmod(directory, 0o755, follow_symlinks=False)  # mkdir's mode is cut by the umask
        if report is not None:
            report.created_dirs.append("/" + str(directory.relative_to(real_root)))


def _backup(root: Path, change: Change, report: Report, stamp: str) -> None:
    if report.backup_dir is None:
        # Every folder of the way resolved inside the root: a symlinked backup folder must not carry old secrets out.
        report.backup_dir = inside(root, f"{BACKUP_DIR}/{stamp}/file").parent
        if os.path.lexists(report.backup_dir):
            raise OutsideRoot(f"the backup folder {report.backup_dir} exists already; refusing to write into it")
        report.backup_dir.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(report.backup_dir.parent, 0o700, follow_symlinks=False)  # backups hold old secrets
        report.backup_dir.mkdir(mode=0o700)
    target = inside(root, f"{BACKUP_DIR}/{stamp}{change.file.path}")
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    shutil.copy2(change.dest, target, follow_symlinks=False)
    report.backups.append(change.file.path)


def local_identity(dmi: Path = Path("/sys/class/dmi/id")) -> tuple[set[str], str | None]:
    """This machine's MAC addresses (psutil) and DMI serial number: the product's, or the mainboard's when the
    product's is a placeholder (devicelist.placeholder_serial); None when neither is readable and real."""
    import psutil

    macs = set()
    for name, addresses in psutil.net_if_addrs().items():
        for address in addresses:
            if address.family == psutil.AF_LINK and address.address and address.address != "00:00:00:00:00:00":
                macs.add(address.address.lower().replace("-", ":"))
    for field_name in ("product_serial", "board_serial"):
        try:
            serial = (dmi / field_name).read_text(encoding="utf-8", errors="replace").strip().strip("\x00").strip()
        except OSError:
            continue
        if not placeholder_serial(serial):
            return macs, serial
    return macs, None


class NotRecognised(Exception):
    """This machine matches no device, or several, in the device list."""


def recognise(loaded: Loaded) -> tuple[Target, str]:
    """The device this machine is, by a MAC address or the DMI serial, and what was seen; NotRecognised otherwise."""
    macs, serial = local_identity()
    found = match_targets(loaded.targets, macs, serial)
    seen = f"MAC {', '.join(sorted(macs)) or 'none'}; serial {serial or 'unknown'}"
    if not found:
        raise NotRecognised(f"this device ({seen}) matches no device in {loaded.file}; give --device ID")
    if len(found) > 1:
        names = ", ".join(t.id for t in found)
        raise NotRecognised(f"this device ({seen}) matches several devices in {loaded.file}: {names}; "
                            f"give --device ID")
    return found[0], seen


def not_this_machine(target: Target) -> str | None:
    """Why this computer is not the device `target` (its match: is not here), or None when it is."""
    macs, serial = local_identity()
    if match_targets([target], macs, serial):
        return None
    match = target.device.match
    seen = f"MAC {', '.join(sorted(macs)) or 'none'}; serial {serial or 'unknown'}"
    if match is None:
        return (f"{target.id} has no match: yet (an open place, for the installer stick), so nothing says this "
                f"computer ({seen}) is {target.id}; applying to --root / would turn it into {target.id}'s kiosk. Add "
                f"its match: to the list (palim-provision claims import, or by hand), give --root DIR to stage it "
                f"into a folder, or add --this-is-the-device")
    wanted = f"MAC {match.mac}" if match.mac is not None else f"serial {match.serial}"
    return (f"this computer ({seen}) is not {target.id}, whose match: is {wanted}; applying to --root / would turn "
            f"this computer into {target.id}'s kiosk. Run it on {target.id} itself, or give --root DIR to stage it "
            f"into a folder; if this is {target.id} with a new network card or mainboard, correct its match: in the "
            f"list (or add --this-is-the-device)")


def is_live(root: Path) -> bool:
    """True when the root is this running system."""
    return root.resolve() == Path("/")


def apply_bundle(bundle: Bundle, root: Path, *, dry_run: bool = False, runner: Runner | None = None,
                 now: datetime | None = None) -> Report:
    """Bring the root in line with the bundle; raise ApplyError (with the report) when something fails."""
    root = Path(root)
    live = is_live(root)
    runner = runner or SkipRunner()
    report = Report(bundle.device_id, root, dry_run)
    outside = check_inside(bundle, root)
    if outside:
        report.error = "; ".join(outside) + " (nothing was read or written there)"
        raise ApplyError(report)
    try:
        key = drift_key(root)
    except (OSError, OutsideRoot) as exc:
        report.error = f"the drift key {DRIFT_KEY} cannot be read: {getattr(exc, 'strerror', None) or exc}"
        raise ApplyError(report) from None
    new_key = key is None
    if any(f.path == SSHD_DROPIN for f in bundle.files):
        note = dropin_note(inside(root, SSHD_DROPIN).parent, Path(SSHD_DROPIN).name)
        report.notes += [note] if note else []
    # The device's manifest fingerprints secret files with the device's own key; the first apply makes it (and
    # writes it right before the manifest), a dry run only pretends.
    bundle = bundle.keyed(key or _random.token_bytes(DRIFT_KEY_BYTES))
    before = [s for s in bundle.steps if s.before_files]
    after = [s for s in bundle.steps if not s.before_files]
    if dry_run:
        report.changes = plan(bundle, root)
        reason = "dry run" if live else "dry run, staging root"
        report.steps = [StepResult(s, "skipped", reason) for s in bundle.steps]
        return report
    if not _run_steps(before, runner, report):
        report.changes = plan(bundle, root)
        raise ApplyError(report)
    owners = Owners(root)
    report.changes = plan(bundle, root, owners)
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%S.%fZ")
    real_root = Path(os.path.realpath(root))
    for change in report.changed:
        try:
            change.dest = inside(root, change.file.path)  # again, right before writing
            _make_dirs(real_root, change.dest, report)
            if change.file.path == MANIFEST and new_key:
                _save_drift_key(root, bundle.drift_key, report)
                new_key = False
            if change.old is not None or change.dest.is_symlink():
                _backup(root, change, report, stamp)
            write_atomic(change.dest, change.file.content, change.file.mode, change.uid, change.gid)
        except OutsideRoot as exc:
            report.error = f"writing {change.file.path} refused: {exc}"
            raise ApplyError(report) from None
        except OSError as exc:
            report.error = f"writing {change.file.path} failed: {exc.strerror or exc}"
            raise ApplyError(report) from None
        report.written.append(change.file.path)
    if not _run_steps(after, runner, report):
        raise ApplyError(report)
    _fix_owners(report, owners)
    return report


def _run_steps(steps: list, runner: Runner, report: Report) -> bool:
    for step in steps:
        result = runner.run(step)
        report.steps.append(result)
        if result.status == "failed":
            report.error = f"step '{step.title}' failed: {result.detail}"
            return False
    return True


def _fix_owners(report: Report, owners: Owners) -> None:
    """Owners that did not exist before the steps ran (the kiosk user) are set now."""
    pending = [c for c in report.changes if c.uid is None and c.owner_note]
    if not pending:
        return
    owners.reload()
    for change in pending:
        uid, gid, note = owners.resolve(change.file)
        if uid is None:
            continue
        try:
            os.chown(change.dest, uid, gid)
        except OSError as exc:
            change.owner_note = f"could not set owner {change.file.owner}:{change.file.group}: {exc.strerror}"
            continue
        change.uid, change.gid, change.owner_note = uid, gid, ""
