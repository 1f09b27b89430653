"""Parameter types the commands share."""

from __future__ import annotations

import click

from engine.inputs import MAX_ID

# An id as the database holds one (64-bit signed): a larger number is no such id, said
# in one line, not the database driver's OverflowError.
ID = click.IntRange(min=1, max=MAX_ID)
