"""The fleet hub's watch, rendered from the device list: Prometheus' targets and config, Alertmanager's routes.

Pure: texts from the model, no I/O (`palim-provision hub-config` writes them). The tunnel addresses come in as a
mapping, device id -> address, since the `fleet:` block decides how they are made.

    scrape_targets(targets, addresses, port=9100) -> list[dict]
        file_sd entries, one per device: {"targets": ["<tunnel address>:9100"], "labels": {"device", "home"}};
        never a resident's name. ValueError names the devices without an address.
    file_sd_json(targets, addresses, port=9100) -> str
        the same as the JSON text of a file_sd file.
    prometheus_config(targets_files, rule_files, alertmanagers=("127.0.0.1:9093",), *,
                      scrape_interval_s=60, evaluation_interval_s=60, scrape_timeout_s=10) -> str
        prometheus.yml: the devices' node_exporters through file_sd (job DEVICES_JOB), the rule files, alerting to
        Alertmanager; the intervals are parameters so that a test can shorten them.
    alertmanager_config(model, *, group_wait_s=30, group_interval_s=300, repeat_interval_s=43200) -> str
        alertmanager.yml: every alert mailed to the city IT (defaults.alerts.it_email); the alerts labelled
        audience="staff" also to their home's alert_email, with a German subject (the rules' staff_summary).
        ValueError without defaults.alerts.
    shortened_rules(text, for_s) -> str
        the rule file with every `for:` set to for_s seconds (tests that cannot wait 30 minutes).
    RULES_FILE
        the shipped alert rules (provisioning/alerts/palim-kiosk.rules.yml), for hub-config to install.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import yaml

from .devicelist import DeviceList, Target

NODE_EXPORTER_PORT = 9100
DEVICES_JOB = "palim-devices"
RULES_FILE = Path(__file__).parent / "alerts" / "palim-kiosk.rules.yml"
IT_RECEIVER = "city-it"
# The label the rules set on what care staff can act on (a device dark by day, the battery, no call for 14 days).
AUDIENCE_LABEL, STAFF = "audience", "staff"
# A mail's subject is what the alert says in words (its summary names the device and the home), not a list of labels:
# care staff read it on a phone. Alertmanager's own subject where an alert has no summary.
MAIL_SUBJECT = ('[{{ .Status | toUpper }}] {{ if .CommonAnnotations.summary }}{{ .CommonAnnotations.summary }}'
                '{{ else }}{{ template "email.default.subject" . }}{{ end }}')
# A home's mail (to its staff, and IT) in German: the rules' staff_summary, "Störung" while it lasts, then "Behoben".
STAFF_SUBJECT = ('[{{ if eq .Status "firing" }}Störung{{ else }}Behoben{{ end }}] '
                 '{{ if .CommonAnnotations.staff_summary }}{{ .CommonAnnotations.staff_summary }}'
                 '{{ else }}{{ .CommonAnnotations.summary }}{{ end }}')


def _host_port(address: str, port: int) -> str:
    """address:port, an IPv6 address in brackets as Prometheus wants it."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"{address}:{port}"
    return f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}"


def scrape_targets(targets: Iterable[Target], addresses: Mapping[str, str],
                   port: int = NODE_EXPORTER_PORT) -> list[dict]:
    """One file_sd entry per device, labelled with its id and its home's key; ValueError for missing addresses."""
    targets = list(targets)
    missing = [t.id for t in targets if t.id not in addresses]
    if missing:
        raise ValueError(f"no tunnel address for {', '.join(missing)}")
    return [{"targets": [_host_port(addresses[t.id], port)], "labels": {"device": t.id, "home": t.home_key}}
            for t in sorted(targets, key=lambda t: t.id)]


def file_sd_json(targets: Iterable[Target], addresses: Mapping[str, str], port: int = NODE_EXPORTER_PORT) -> str:
    """The file_sd file Prometheus reads the devices from."""
    return json.dumps(scrape_targets(targets, addresses, port), indent=2) + "\n"


def _seconds(value: int) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"an interval must be a whole number of seconds, at least 1 (not {value!r})")
    return f"{value}s"


def _dump(data: dict, title: str) -> str:
    head = f"# {title}\n# Written by palim-provision hub-config from the device list: edit the list, not this file.\n"
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)


def prometheus_config(targets_files: Sequence[str], rule_files: Sequence[str],
                      alertmanagers: Sequence[str] = ("127.0.0.1:9093",), *, scrape_interval_s: int = 60,
                      evaluation_interval_s: int = 60, scrape_timeout_s: int = 10) -> str:
    """prometheus.yml for the hub: the devices through file_sd, the rules, alerting to Alertmanager."""
    timeout = min(scrape_timeout_s, scrape_interval_s)  # Prometheus refuses a timeout over the interval
    config = {
        "global": {"scrape_interval": _seconds(scrape_interval_s), "scrape_timeout": _seconds(timeout),
                   "evaluation_interval": _seconds(evaluation_interval_s)},
        "rule_files": list(rule_files),
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": list(alertmanagers)}]}]},
        "scrape_configs": [{
            "job_name": DEVICES_JOB,
            "file_sd_configs": [{"files": list(targets_files), "refresh_interval": "1m"}],
            # The kiosk's figures carry device and home too; the target's labels (from the device list) win and the
            # device's own, renamed exported_device/exported_home, are dropped: a device cannot speak for another.
            "metric_relabel_configs": [{"action": "labeldrop", "regex": "exported_(device|home)"}],
        }],
    }
    return _dump(config, "Prometheus on the Palim fleet hub")


def alertmanager_config(model: DeviceList, *, group_wait_s: int = 30, group_interval_s: int = 300,
                        repeat_interval_s: int = 43200) -> str:
    """alertmanager.yml: every alert to IT; the staff's alerts of a home with alert_email to that home and IT."""
    mail = model.defaults.alerts
    if mail is None:
        raise ValueError("the device list has no defaults.alerts (it_email and the SMTP relay): Alertmanager would "
                         "have nobody to mail")
    smtp: dict = {"smtp_smarthost": _host_port(mail.smtp_host, mail.smtp_port), "smtp_from": mail.sender,
                  "smtp_require_tls": True}
    if mail.user is not None:
        smtp["smtp_auth_username"] = mail.user
    if mail.password_file is not None:
        smtp["smtp_auth_password_file"] = mail.password_file

    def email(to: list[str], subject: str = MAIL_SUBJECT) -> dict:
        config: dict = {"to": ", ".join(to), "send_resolved": True, "headers": {"Subject": subject}}
        if mail.ca_file is not None:
            config["tls_config"] = {"ca_file": mail.ca_file}
        return config

    receivers = [{"name": IT_RECEIVER, "email_configs": [email([mail.it_email])]}]
    routes = []
    for key in sorted(model.homes):
        home = model.homes[key]
        if home.alert_email is None:
            continue
        receivers.append({"name": f"home-{key}",
                          "email_configs": [email([home.alert_email, mail.it_email], STAFF_SUBJECT)]})
        routes.append({"receiver": f"home-{key}", "matchers": [f'home="{key}"', f'{AUDIENCE_LABEL}="{STAFF}"']})
    config = {
        "global": smtp,
        "route": {"receiver": IT_RECEIVER, "group_by": ["alertname", "home", "device"],
                  "group_wait": _seconds(group_wait_s), "group_interval": _seconds(group_interval_s),
                  "repeat_interval": _seconds(repeat_interval_s), "routes": routes},
        # A device that is not reached says nothing else: no second mail about its kiosk or its disk.
        "inhibit_rules": [{"source_matchers": ['alertname="PalimDeviceUnreachable"'],
                           "target_matchers": ['alertname!="PalimDeviceUnreachable"'], "equal": ["device"]}],
        "receivers": receivers,
    }
    return _dump(config, "Alertmanager on the Palim fleet hub")


def shortened_rules(text: str, for_s: int) -> str:
    """The rule file with every alert's `for:` set to for_s seconds; the expressions stay as shipped."""
    data = yaml.safe_load(text)
    for group in data["groups"]:
        for rule in group["rules"]:
            if "alert" in rule and "for" in rule:
                rule["for"] = _seconds(for_s)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)


__all__ = ["scrape_targets", "file_sd_json", "prometheus_config", "alertmanager_config", "shortened_rules",
           "RULES_FILE", "DEVICES_JOB", "NODE_EXPORTER_PORT", "AUDIENCE_LABEL", "STAFF", "IT_RECEIVER"]
