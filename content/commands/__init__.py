"""What each command answers. Every adapter calls this; none decides it."""

from content.commands.browse import LATEST_DEFAULT, LATEST_MAX

__all__ = ["LATEST_DEFAULT", "LATEST_MAX"]
