"""The family controller: who waits in the room (presence), the ring sound, and telling the family of a call."""

from __future__ import annotations

import logging
from datetime import datetime

from PyQt6.QtCore import QObject, QUrl, pyqtSignal

from kiosk.callflow import State
from kiosk.config import KioskConfig
from kiosk.controllers.watchers import Notifier, PresenceWatch
from kiosk.core.assets import ring_sound
from kiosk.family import notice, presence_url, should_notify, told, who_waits
from kiosk.health import in_any_window
from kiosk.notify import deliver
from kiosk.servertoken import read_token, token_fits_room

log = logging.getLogger(__name__)

# Presence is asked only while nobody is in, or on the way into, a call.
ASKING_STATES = frozenset({State.IDLE, State.RINGING})


class FamilyController(QObject):
    """Reports who waits, rings while the flow wants it, and sends the family notice in the background."""

    presence_changed = pyqtSignal(object, bool)  # others waiting (int, None: unknown), quiet hours now
    waiting_changed = pyqtSignal(object)  # right before presence_changed: who waits (family.Waiting), by name
    incident = pyqtSignal(str, str)  # kind, detail: a notice that did not reach someone
    told = pyqtSignal(object)  # family.Told of this tap (the last notice's, when a second tap sends none), or None

    def __init__(self, config: KioskConfig, parent=None):
        super().__init__(parent)
        self.config = config
        self._ringer = None
        self._ringing_on = False
        self._last_notice: datetime | None = None
        self.notifier = Notifier(self)
        self.notifier.delivered.connect(self._delivered)
        self.presence: PresenceWatch | None = None
        if config.presence.url:
            template, room, jwt_file = config.presence.url, config.room, config.jwt_file
            # The login token is read for every request, like at each join: a renewed token counts at once.
            # 403 is an empty room when the token fits it (family.parse_presence): mod_muc_size's token check.
            self.presence = PresenceWatch(lambda: presence_url(template, room, read_token(jwt_file)),
                                          config.presence.interval_s, config.server, config.tls_pins, self,
                                          forbidden_means_empty=lambda: token_fits_room(read_token(jwt_file), room))
            self.presence.changed.connect(self._presence)
            self.presence.names.connect(self._names)

    @property
    def ringing_sound_on(self) -> bool:
        """True while the flow wants the ring sound playing."""
        return self._ringing_on

    def call_state(self, state: State) -> None:
        """Follow the call flow: ask who waits only while idle or ringing."""
        if self.presence is not None:
            self.presence.pause(state not in ASKING_STATES)

    def ring(self, on: bool) -> None:
        """Start or stop the ring sound."""
        self._ringing_on = on
        if on:
            # Imported on the first ring: home never needs QtMultimedia.
            from PyQt6.QtMultimedia import QSoundEffect

            if self._ringer is None:
                self._ringer = QSoundEffect(self)
                self._ringer.setSource(QUrl.fromLocalFile(str(ring_sound())))
                self._ringer.setLoopCount(QSoundEffect.Loop.Infinite.value)
                self._ringer.setVolume(1.0)
            self._ringer.play()
        elif self._ringer is not None:
            self._ringer.stop()

    def tell_family(self) -> None:
        """Tell the family contacts that the resident is calling (at most once per dedupe window)."""
        family = self.config.family
        now = datetime.now().astimezone()
        if not family.contacts:
            self.told.emit(None)
            return
        if not should_notify(self._last_notice, now, family.dedupe_minutes):
            log.info("family already told about this call a moment ago: nothing new sent")
            self.told.emit(told(family.contacts, self._last_notice))
            return
        self._last_notice = now
        self.told.emit(told(family.contacts, now))
        item = notice(self.config, now)
        log.info("telling %d family contact(s) that %s is calling", len(family.contacts), self.config.resident)
        self.notifier.send(lambda: deliver(family.contacts, family.smtp, item))

    def _names(self, names) -> None:
        # Names are shown, never logged; contacts matched by name and aliases bring their relation and photo.
        self.waiting_changed.emit(who_waits(names, self.config.family.contacts))

    def _presence(self, others) -> None:
        self.presence_changed.emit(others, in_any_window(datetime.now(), self.config.presence.quiet_hours))

    def _delivered(self, results: list) -> None:
        for result in results:
            if not result.ok:
                self.incident.emit("notify_failed", f"{result.contact} by {result.channel}: {result.detail}")

    def shutdown(self) -> None:
        """Silence, and no more questions or notices."""
        self.notifier.stop()
        self.ring(False)
        if self.presence is not None:
            self.presence.stop()
