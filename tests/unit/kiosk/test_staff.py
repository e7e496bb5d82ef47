"""PIN hashes, the corner gesture and the PIN pad's lockout."""

import pytest

from kiosk.config import config_from_text
from kiosk.staff import CornerTaps, PinLock, hash_pin, verify_pin


def test_hash_is_salted_and_verifies():
    first, second = hash_pin("2468"), hash_pin("2468")
    assert first != second and first.startswith("scrypt$")
    assert verify_pin("2468", first) and not verify_pin("2469", first)
    # The config model accepts what hash_pin makes.
    config_from_text(f"server: https://a.example\nroom: r\nresident: E\nadmin_pin_hash: '{first}'\n")


@pytest.mark.parametrize("pin", ["123", "12a4", "", "1" * 13])
def test_pin_rules(pin):
    with pytest.raises(ValueError):
        hash_pin(pin)


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
    lock = PinLock(hash_pin("2468"))
    assert not any(lock.check("0000", now=float(i)) for i in range(5))
    assert lock.seconds_locked(5.0) == pytest.approx(299.0)
    assert not lock.check("2468", now=100.0)  # right PIN, but locked
    assert lock.check("2468", now=305.0)


def test_no_pin_configured_means_no_exit():
    lock = PinLock(None)
    assert not lock.enabled and not lock.check("1234", now=0)
