"""Makes the stand-in fixtures available to the stand-in's own tests."""

from jitsi_standin.fixtures import standin, standin_page  # noqa: F401  (pytest finds fixtures by name)
