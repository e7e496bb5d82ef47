"""palim-provision's commands, one module each: its --help, the mapping of its arguments onto the function of the
module that does the command's work, and nothing else. provisioning/cli.py builds the parser from COMMANDS and
prints through commands.output."""

from __future__ import annotations

from . import (apply, cards, check, claims, extract, helper_sheet, hub_config, image, install, inventory, render,
               report, rooms, server_check, release, settings, status, tokens, validate)

# In the order --help lists them.
COMMANDS = (validate, rooms, render, apply, inventory, hub_config, cards, check, report, extract, server_check, tokens,
            settings, image, install, helper_sheet, claims, release, status)
