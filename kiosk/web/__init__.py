"""Everything that touches QtWebEngine."""
