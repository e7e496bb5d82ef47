"""What a Jitsi token's claims say, read without the secret (only the server holds it): pure, no Qt, no I/O.

In the core because both the kiosk's presence polling and the server check (kiosk.core.servercheck) ask it.
"""

from __future__ import annotations

from datetime import datetime, timezone

import jwt


def token_fits_room(token: str | None, room: str, now: datetime | None = None) -> bool:
    """Whether, as far as the kiosk can tell without the secret, the server would take this token for this room:
    it has not expired, is already valid (`nbf`), and its `room` claim names the room (Prosody lower-cases the claim)
    or is "*". A token signed with another secret or for another domain still "fits": only the server can tell."""
    if not token:
        return False
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return False
    moment = (now or datetime.now(timezone.utc)).timestamp()

    def number(value: object) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    # As luajwtjitsi: exp and nbf are optional, but numbers when present; expired from exp on, valid from nbf on.
    exp, nbf, claim = claims.get("exp"), claims.get("nbf"), claims.get("room")
    if exp is not None and (not number(exp) or moment >= exp):
        return False
    if nbf is not None and (not number(nbf) or moment < nbf):
        return False
    return isinstance(claim, str) and claim.lower() in ("*", room.lower())
