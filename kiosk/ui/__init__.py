"""Native screens and their style."""
