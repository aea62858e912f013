"""The one error base the command line shows as is: its message is one sentence, safe to print."""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix; the message names the thing and the fix, and holds no secret."""
