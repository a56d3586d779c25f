"""Which flagged intervals are corrected together: the window rule, in index order (batch and stream).

Detection flags candidates.  Flagged intervals whose indices differ by at most ``JOIN`` (5) share a window,
which also holds ``PAD`` (1) unflagged interval on either side (the compensatory pause of a premature beat is
often not flagged).  ``REFS`` (3) intervals either side give the rhythm: on the left the values already
corrected, on the right unflagged measured ones; a flagged interval never serves as a reference.  A window is
resolved once ``JOIN`` unflagged intervals followed its last flag (the stream knows it then), or when it
reaches ``MAX_WINDOW`` (32) intervals while artifacts go on (then with the left rhythm alone).
"""

from __future__ import annotations

from dataclasses import dataclass

PAD = 1
REFS = 3
JOIN = PAD + REFS + 1
MAX_WINDOW = 32


@dataclass(frozen=True, slots=True)
class Window:
    """Intervals ``start``..``stop - 1`` are corrected together; ``stop``..``refs_stop - 1`` give the rhythm
    on the right (empty when the window was closed by its length)."""

    start: int
    stop: int
    refs_stop: int


class WindowRule:
    """Groups flagged intervals into windows as they are classified, in index order (batch and stream)."""

    __slots__ = ("last_flag", "open_start", "resolved")

    def __init__(self, start: int = 0) -> None:
        self.resolved = start  # intervals before this are settled (a window may not reach back past it)
        self.open_start: int | None = None
        self.last_flag = -1

    def _close(self, window: Window) -> Window:
        self.resolved = window.stop
        self.open_start = None
        return window

    def close_before(self, upto: int) -> Window | None:
        """The open window if it closes at an index below ``upto``: every interval before ``upto`` has been
        classified and none after the last flag was flagged."""
        if self.open_start is None:
            return None
        normal_at = self.last_flag + JOIN
        forced_at = self.open_start + MAX_WINDOW - 1
        if min(normal_at, forced_at) >= upto:
            return None
        if forced_at < normal_at:
            return self._close(Window(self.open_start, forced_at + 1, forced_at + 1))
        stop = self.last_flag + PAD + 1
        return self._close(Window(self.open_start, stop, stop + REFS))

    def flag(self, index: int) -> list[Window]:
        """Interval ``index`` was flagged (all before it classified): the windows that close now."""
        closed = self.close_before(index)
        windows = [closed] if closed else []
        if self.open_start is None:
            self.open_start = max(index - PAD, self.resolved)
        self.last_flag = index
        if index >= self.open_start + MAX_WINDOW - 1:
            windows.append(self._close(Window(self.open_start, index + 1, index + 1)))
        return windows

    def finish(self, end: int) -> Window | None:
        """The segment ends before ``end``: the open window, clipped to it."""
        closed = self.close_before(end)
        if closed or self.open_start is None:
            return closed
        stop = min(self.last_flag + PAD + 1, end)
        return self._close(Window(self.open_start, stop, min(stop + REFS, end)))
