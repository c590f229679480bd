"""The messages a fit collects on its way (``fit.warnings``)."""

from __future__ import annotations

from semnet.errors import warn


class Messages(list):
    """A list of messages; each one appended is also issued at once as a
    :class:`~semnet.errors.SemnetWarning` (so a user sees it even when a later step
    fails)."""

    def append(self, message: str) -> None:
        super().append(message)
        warn(message)

    def extend(self, messages) -> None:
        for message in messages:
            self.append(message)
