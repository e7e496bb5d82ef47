"""PIN hashes, the corner gesture and the PIN pad's lockout."""

import json
import stat

import pytest

from kiosk.config import config_from_text
from kiosk.staff import CornerTaps, PinLock, hash_pin, pin_weakness, verify_pin

GOOD_PIN = "730518"


def test_hash_is_salted_and_verifies():
    first, second = hash_pin("2468", force=True), hash_pin("2468", force=True)
    assert first != second and first.startswith("scrypt$")
    assert verify_pin("2468", first) and not verify_pin("2469", first)
    # The config model accepts what hash_pin makes.
    config_from_text(f"server: https://a.example\nroom: r\nresident: E\nadmin_pin_hash: '{first}'\n")


@pytest.mark.parametrize("pin", ["123", "12a4", "", "1" * 13, "١٢٣٤٥٦"])
def test_pin_rules(pin):
    with pytest.raises(ValueError):
        hash_pin(pin, force=True)


@pytest.mark.parametrize("pin, why", [
    ("2468", "fewer than 6 digits"), ("24680", "fewer than 6 digits"),
    ("111111", "repeats one digit"), ("000000", "repeats one digit"), ("99999999", "repeats one digit"),
    ("123456", "counts up or down"), ("654321", "counts up or down"), ("234567890", "counts up or down"),
    ("890123", "counts up or down"), ("121212", "short pattern"), ("123123", "short pattern"),
    ("112112", "short pattern"), ("147258", "most common"), ("112233", "most common"),
])
def test_hash_pin_refuses_short_and_obvious_pins_unless_forced(pin, why):
    assert why in pin_weakness(pin)
    with pytest.raises(ValueError, match=why):
        hash_pin(pin)
    assert verify_pin(pin, hash_pin(pin, force=True))  # the demo and the tests use 2468 on purpose


@pytest.mark.parametrize("pin", [GOOD_PIN, "480213", "90817263", "271828182845"])
def test_hash_pin_takes_a_pin_that_is_not_obvious(pin):
    assert pin_weakness(pin) is None
    assert verify_pin(pin, hash_pin(pin))


@pytest.mark.parametrize("stored", ["", "scrypt$1$2", "bcrypt$1$1$1$AA==$AA==", "scrypt$x$8$1$AA==$AA=="])
def test_malformed_hash_never_matches(stored):
    assert not verify_pin("1234", stored)


def test_five_corner_taps_within_three_seconds():
    taps = CornerTaps()
    assert not any(taps.tap(t, True) for t in (0, 0.5, 1, 1.5))
    assert taps.tap(2.0, True)
    assert not taps.tap(2.1, True)  # the gesture starts over


def test_slow_or_scattered_taps_do_not_open():
    taps = CornerTaps()
    assert not any(taps.tap(t, True) for t in (0, 1, 2, 3, 4, 5, 6, 7))  # too slow: never five within 3 s
    taps = CornerTaps()
    results = [taps.tap(0.1 * i, i != 2) for i in range(6)]
    assert not any(results)  # one tap outside the corner broke the run


def test_lockout_after_five_wrong_pins():
    lock = PinLock(hash_pin("2468", force=True))
    assert not any(lock.check("0000", now=float(i)) for i in range(5))
    assert lock.seconds_locked(5.0) == pytest.approx(299.0)
    assert not lock.check("2468", now=100.0)  # right PIN, but locked
    assert lock.check("2468", now=305.0)


def test_no_pin_configured_means_no_exit():
    lock = PinLock(None)
    assert not lock.enabled and not lock.check("1234", now=0)


@pytest.fixture(scope="module")
def stored():
    return hash_pin(GOOD_PIN)


def _five_wrong(lock: PinLock, start: float) -> None:
    assert not any(lock.check("000000", now=start + i) for i in range(5))


def test_the_lockout_survives_a_restart(tmp_path, stored):
    state = tmp_path / "state" / "pin-lock.json"
    _five_wrong(PinLock(stored, state, "/etc/palim-kiosk/kiosk.yaml"), 1000.0)
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert GOOD_PIN not in state.read_text() and stored not in state.read_text()
    again = PinLock(stored, state, "/etc/palim-kiosk/kiosk.yaml")  # the kiosk restarted (or the power went)
    assert again.seconds_locked(1010.0) == pytest.approx(294.0)
    assert not again.check(GOOD_PIN, now=1010.0)
    assert again.check(GOOD_PIN, now=1305.0)
    assert json.loads(state.read_text())["lockouts"] == 0  # a right PIN clears the escalation too


def test_wrong_pins_before_a_restart_still_count(tmp_path, stored):
    state = tmp_path / "pin-lock.json"
    lock = PinLock(stored, state, "k")
    assert not any(lock.check("000000", now=float(i)) for i in range(3))
    lock = PinLock(stored, state, "k")
    assert not any(lock.check("000000", now=10.0 + i) for i in range(2))
    assert lock.seconds_locked(12.0) > 0


def test_repeated_lockouts_grow_5_15_60_minutes(tmp_path, stored):
    state = tmp_path / "pin-lock.json"
    now, lengths = 0.0, []
    for _ in range(5):
        lock = PinLock(stored, state, "k")  # a restart between every lockout changes nothing
        _five_wrong(lock, now)
        now += 4
        lengths.append(round(lock.seconds_locked(now) / 60))
        now += lock.seconds_locked(now) + 1
    assert lengths == [5, 15, 60, 60, 60]


def test_a_clock_set_back_locks_no_longer_than_the_lockout(tmp_path, stored):
    state = tmp_path / "pin-lock.json"
    _five_wrong(PinLock(stored, state, "k"), 1_000_000.0)
    lock = PinLock(stored, state, "k")
    assert lock.seconds_locked(0.0) == pytest.approx(300.0)  # clock went back 11 days: still five minutes
    assert lock.check(GOOD_PIN, now=301.0)


@pytest.mark.parametrize("content", ["", "{", "[]", "null", '{"failures": "x"}', '{"scope": "k"}',
                                     '{"scope": "k", "failures": 99, "lockouts": 0, "locked_until": 0}',
                                     '{"scope": "k", "failures": true, "lockouts": 0, "locked_until": 0}',
                                     '{"scope": "k", "failures": 0, "lockouts": 0, "locked_until": NaN}',
                                     "[" * 100_000, "\udcff"])
def test_a_broken_state_file_is_logged_and_replaced(tmp_path, stored, content, caplog):
    state = tmp_path / "pin-lock.json"
    state.write_text(content, errors="surrogateescape")
    lock = PinLock(stored, state, "k")
    assert lock.failures == 0 and lock.seconds_locked(0.0) == 0
    _five_wrong(lock, 0.0)
    assert PinLock(stored, state, "k").seconds_locked(5.0) > 0


def test_another_configs_state_is_not_this_locks(tmp_path, stored):
    state = tmp_path / "pin-lock.json"
    _five_wrong(PinLock(stored, state, "/tmp/a/kiosk.yaml"), 0.0)
    assert PinLock(stored, state, "/tmp/b/kiosk.yaml").seconds_locked(5.0) == 0


def test_an_unwritable_state_folder_still_locks_in_memory(tmp_path, stored):
    blocker = tmp_path / "file"
    blocker.write_text("")
    lock = PinLock(stored, blocker / "pin-lock.json", "k")
    _five_wrong(lock, 0.0)
    assert lock.seconds_locked(5.0) == pytest.approx(299.0)


def _config_with(pin_hash: str) -> str:
    return f"server: https://a.example\nroom: r\nresident: E\nadmin_pin_hash: '{pin_hash}'\n"


@pytest.mark.parametrize("params, message", [
    ("2$1$1", "is too cheap to guess (scrypt N=2, r=1; at least N=16384 and r=8 are needed)"),
    ("8192$8$1", "is too cheap to guess (scrypt N=8192, r=8; at least N=16384 and r=8 are needed)"),
    ("16384$4$1", "is too cheap to guess (scrypt N=16384, r=4; at least N=16384 and r=8 are needed)"),
    ("16385$8$1", "scrypt N=16385 is not a power of two"),
    ("16384$8$0", "p=0 is 0"),
    ("1048576$8$1", "asks scrypt for more memory than a kiosk gives it (N=1048576, r=8, p=1)"),
])
def test_the_config_refuses_a_cheap_pin_hash_with_its_position(stored, params, message):
    from kiosk.config import ConfigError

    salt_and_digest = stored.split("$", 4)[4]
    with pytest.raises(ConfigError) as info:
        config_from_text(_config_with(f"scrypt${params}${salt_and_digest}"), "kiosk.yaml")
    [problem] = info.value.problems
    assert str(problem).startswith("kiosk.yaml:4:17: admin_pin_hash: ") and message in problem.message
    assert salt_and_digest not in str(problem)  # the hash is never echoed


@pytest.mark.parametrize("tail", ["\\n", "\\u2028", "\\0", "\\ud800", "x", "CUT"])
def test_the_config_refuses_a_pin_hash_with_anything_after_it(stored, tail):
    from kiosk.config import ConfigError

    value = stored[:-8] if tail == "CUT" else stored + tail  # YAML escapes in a double-quoted string
    text = f'server: https://a.example\nroom: r\nresident: E\nadmin_pin_hash: "{value}"\n'
    with pytest.raises(ConfigError) as info:
        config_from_text(text, "kiosk.yaml")
    if tail == "\\ud800":  # the YAML parser refuses a lone surrogate itself, at the escape
        [problem] = info.value.problems
        assert str(problem).startswith(f"kiosk.yaml:4:{20 + len(stored)}: not valid YAML")
    else:
        assert [str(p)[:33] for p in info.value.problems] == ["kiosk.yaml:4:17: admin_pin_hash: "]


def test_a_short_salt_or_digest_is_refused(stored):
    from kiosk.config import ConfigError

    with pytest.raises(ConfigError, match="too short a salt or digest"):
        config_from_text(_config_with("scrypt$16384$8$1$AAAA$AAAA"))
