"""Live-system steps: what runs where systemd is not PID 1 (a chroot, an image being prepared)."""

from provisioning.steps import PACKAGES, Step, SystemRunner, device_steps


def test_steps_that_need_a_running_systemd_are_skipped_in_a_chroot():
    runner = SystemRunner(booted=lambda: False)
    result = runner.run(Step("reload", (("false",),), needs_running_system=True))
    assert (result.status, runner.log) == ("skipped", [])
    assert "takes effect at boot" in result.detail
    result = SystemRunner(booted=lambda: True).run(Step("reload", (("true",),), needs_running_system=True))
    assert result.status == "done"


def test_only_daemon_reload_hostname_and_nmcli_need_a_running_system():
    steps = device_steps("ebh-01", "palim-kiosk.service", "/etc/sysusers.d/palim-kiosk.conf", "/tmp/x.whl")
    needs = {s.commands[0][0] for s in steps if s.needs_running_system}
    assert needs == {"systemctl", "hostnamectl", "nmcli"}
    assert [s.commands[0] for s in steps if s.needs_running_system][0] == ("systemctl", "daemon-reload")
    linger = next(s for s in steps if "linger" in s.title)
    assert linger.commands[-1] == ("touch", "/var/lib/systemd/linger/kiosk")


def test_packages_carry_what_cage_and_qt_wayland_need_without_a_login_session():
    assert {"cage", "seatd", "dbus-user-session", "libwayland-cursor0", "libwayland-egl1"} <= set(PACKAGES)


def test_offline_steps_download_nothing():
    steps = device_steps("ebh-01", "palim-kiosk.service", "/etc/sysusers.d/palim-kiosk.conf", "/opt/x.whl",
                         offline=True)
    apt = steps[0].commands
    assert apt == (("apt-get", "install", "--no-download", "--no-upgrade", "-y", "--no-install-recommends", *PACKAGES),)
    pip = steps[1].commands[-1]
    assert "--no-index" in pip and pip[-1] == "/opt/x.whl"
    online = device_steps("ebh-01", "palim-kiosk.service", "/etc/sysusers.d/palim-kiosk.conf", "/opt/x.whl")
    assert online[0].commands[0] == ("apt-get", "update") and "--no-index" not in online[1].commands[-1]
