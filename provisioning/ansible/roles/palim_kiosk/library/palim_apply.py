#!/usr/bin/python
"""Ansible module: run 'palim-provision apply' on the host and report its changes and (masked) diffs."""

from __future__ import annotations

DOCUMENTATION = r"""
module: palim_apply
short_description: Run palim-provision apply for one device
description:
  - Writes the one-device list to a private temporary file, runs C(palim-provision apply --json) on it
    (with C(--dry-run) in check mode) and reports the files that changed.
  - The Wi-Fi password goes to palim-provision in the environment variable PALIM_WIFI_PSK, never on a command line;
    it is a no_log parameter, and apply masks it in every diff it shows.
options:
  provision: {description: The palim-provision command as a list, type: list, elements: str, required: true}
  device_list_text: {description: The device list for this device (palim-provision extract), type: str, required: true}
  device: {description: The device id, type: str, required: true}
  root: {description: The root to apply to, type: str, default: /}
  kiosk_source: {description: What apply installs the kiosk from on a live root, type: str, default: ""}
  wifi_psk: {description: The home's Wi-Fi password, type: str, default: "", no_log: true}
  jitsi_token: {description: The device's login token for the city's Jitsi (token login), type: str, default: "",
                no_log: true}
  wg_key: {description: The device's WireGuard private key (fleet), read on the controller, type: str, default: "",
           no_log: true}
  create_root:
    description:
      - Create I(root) (mode 0755) when it is missing; for staging trees. In check mode nothing is created and
        apply's dry run compares against an empty tree instead, so every file shows as new.
    type: bool
    default: false
"""

import json
import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule

PSK_ENV = "PALIM_WIFI_PSK"
TOKEN_ENV = "PALIM_JITSI_TOKEN"  # the device's login token (jitsi_token), minted on the controller
WG_KEY_ENV = "PALIM_WG_KEY"  # the device's WireGuard private key (fleet: key_env in the extracted list)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "provision": {"type": "list", "elements": "str", "required": True},
            "device_list_text": {"type": "str", "required": True},
            "device": {"type": "str", "required": True},
            "root": {"type": "str", "default": "/"},
            "kiosk_source": {"type": "str", "default": ""},
            "wifi_psk": {"type": "str", "default": "", "no_log": True},
            "jitsi_token": {"type": "str", "default": "", "no_log": True},
            "wg_key": {"type": "str", "default": "", "no_log": True},
            "create_root": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    p = module.params
    root, empty_root, created = p["root"], None, False
    if p["create_root"] and not os.path.lexists(root):
        if module.check_mode:
            root = empty_root = tempfile.mkdtemp(prefix="palim-empty-root-", dir=module.tmpdir)
        else:
            try:
                os.makedirs(root, mode=0o755)
            except OSError as exc:
                module.fail_json(msg=f"cannot create the root {root}: {exc.strerror or exc}")
            created = True
    fd, path = tempfile.mkstemp(prefix="palim-devices-", suffix=".yaml", dir=module.tmpdir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(p["device_list_text"])
        argv = list(p["provision"]) + ["apply", path, "--device", p["device"], "--root", root, "--json"]
        if module.check_mode:
            argv.append("--dry-run")
        if p["kiosk_source"]:
            argv += ["--kiosk-source", p["kiosk_source"]]
        env = {PSK_ENV: p["wifi_psk"]} if p["wifi_psk"] else {}
        if p["jitsi_token"]:
            env[TOKEN_ENV] = p["jitsi_token"]
        if p["wg_key"]:
            env[WG_KEY_ENV] = p["wg_key"]
        rc, out, err = module.run_command(argv, environ_update=env)
    finally:
        os.unlink(path)
        if empty_root is not None:
            shutil.rmtree(empty_root, ignore_errors=True)
    try:
        report = json.loads(out)
    except ValueError:
        report = None
    if rc != 0 or not isinstance(report, dict):
        detail = (report or {}).get("error") if isinstance(report, dict) else None
        module.fail_json(msg=f"palim-provision apply for {p['device']} failed (exit {rc}): "
                             f"{detail or err.strip() or out.strip()}",
                         rc=rc, stderr=err, report=report)
    changed = [c["path"] for c in report["changed"]]
    lines = [line.replace(empty_root, p["root"]) if empty_root else line for line in report["lines"]]
    if created or empty_root:
        lines.insert(0, f"{'would create' if empty_root else 'created'} the root {p['root']}")
    result = {
        "changed": bool(changed) or created,
        "files_changed": changed,
        "root_created": created,
        "steps": report["steps"],
        "summary": report["summary"],
        "stdout_lines": lines,
    }
    if module._diff and report["diff"]:
        result["diff"] = {"prepared": report["diff"]}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
