"""Single keys from the terminal without Enter (cbreak mode), read on the asyncio loop.

Where stdin is not a terminal (a pipe, CI) there are no keys and nothing is changed.  The terminal's mode is
restored on :meth:`KeyReader.close`, also after an error.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import deque
from types import TracebackType
from typing import Any


class KeyReader:
    """Collects key presses; :meth:`drain` returns those since the last call."""

    def __init__(self) -> None:
        self._keys: deque[str] = deque()
        self._fd: int | None = None
        self._saved: list[Any] | None = None

    def __enter__(self) -> KeyReader:
        if not sys.stdin.isatty():
            return self
        import termios
        import tty

        fd = sys.stdin.fileno()
        self._saved = termios.tcgetattr(fd)
        tty.setcbreak(fd)
        self._fd = fd
        asyncio.get_running_loop().add_reader(fd, self._read)
        return self

    def _read(self) -> None:
        assert self._fd is not None
        data = os.read(self._fd, 64)
        self._keys.extend(data.decode("utf-8", "replace"))

    def drain(self) -> list[str]:
        """Keys pressed since the last call, oldest first."""
        keys = list(self._keys)
        self._keys.clear()
        return keys

    def close(self) -> None:
        """Stop reading and restore the terminal."""
        if self._fd is None:
            return
        import termios

        asyncio.get_running_loop().remove_reader(self._fd)
        if self._saved is not None:
            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
        self._fd = None

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
