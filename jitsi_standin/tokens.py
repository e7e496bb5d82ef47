"""The stand-in's token mode: a login token checked the way Prosody's token authentication checks it.

Prosody (`authentication = "token"`, with `app_id` and `app_secret`, HS256) checks the signature, `exp` and `nbf`,
`iss` and `aud` (the app id; `aud` may be "*"), `sub` (the domain, or "*") and `room` (the room, or "*"). A refusal
reaches the IFrame API's errorOccurred under the names lib-jitsi-meet gives it (JitsiConnectionErrors,
JitsiConferenceErrors), nested under "error" with jitsi-meet's type and isFatal (both are not fatal to Jitsi).
"""

from __future__ import annotations

from dataclasses import dataclass

import jwt

# A token Prosody refuses fails the XMPP login itself.
PASSWORD_REQUIRED = "connection.passwordRequired"
# No token at all, on a server that lets guests in but only authenticated users open rooms.
AUTHENTICATION_REQUIRED = "conference.authenticationRequired"
# A valid token for another room: the room refuses the join (presence error not-allowed).
NOT_ALLOWED = "conference.connectionError.notAllowed"


@dataclass(frozen=True)
class Refusal:
    """Why a join was refused: the error jitsi-meet reports, and the reason in words (for tests and logs)."""

    name: str
    reason: str

    def error(self) -> dict:
        """The errorOccurred payload's error, as jitsi-meet's notifyError sends it."""
        kind = "CONNECTION" if self.name.startswith("connection.") else "CONFERENCE"
        return {"name": self.name, "type": kind, "isFatal": False, "message": self.reason}


@dataclass(frozen=True)
class TokenAuth:
    """The server's token settings: the app id and secret a city shares with palim-provision, and its domain."""

    app_id: str
    app_secret: str
    domain: str  # what `sub` must name (or "*")

    def check(self, token: str | None, room: str) -> Refusal | None:
        """None when the token lets this room be joined; else why not."""
        if not token:
            return Refusal(AUTHENTICATION_REQUIRED, "no token: only authenticated users may open this room")
        try:
            claims = jwt.decode(token, self.app_secret, algorithms=["HS256"],
                                options={"verify_aud": False, "require": ["exp", "iss", "aud", "room"]})
        except jwt.ExpiredSignatureError:
            return Refusal(PASSWORD_REQUIRED, "the token has expired")
        except jwt.InvalidSignatureError:
            return Refusal(PASSWORD_REQUIRED, "the token's signature does not match the app secret")
        except jwt.PyJWTError as exc:
            return Refusal(PASSWORD_REQUIRED, f"the token is not valid: {exc}")
        if claims.get("iss") != self.app_id:
            return Refusal(PASSWORD_REQUIRED, "the token's iss is not the app id")
        if claims.get("aud") not in (self.app_id, "*"):
            return Refusal(PASSWORD_REQUIRED, "the token's aud is not the app id")
        if claims.get("sub", "*") not in (self.domain, "*"):
            return Refusal(PASSWORD_REQUIRED, "the token's sub is not this server's domain")
        claim = claims.get("room")
        if not isinstance(claim, str) or claim.lower() not in (room, "*"):  # Prosody lower-cases the claim
            return Refusal(NOT_ALLOWED, "the token is for another room")
        return None
