"""Files that hold the person's data (exports, reports, figures, raw recordings) are created 0600, like the
database: readable by the person alone, whatever the umask.  ``chmod`` afterwards to share one."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Literal, overload

PRIVATE_MODE = 0o600


def _fd(path: Path, exclusive: bool) -> int:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, PRIVATE_MODE)
    try:
        if not exclusive:
            os.fchmod(fd, PRIVATE_MODE)  # a file that was already there, perhaps 0644, becomes private too
    except OSError:
        os.close(fd)
        raise
    return fd


@overload
def open_private(path: Path, *, binary: Literal[False] = ..., exclusive: bool = ...) -> IO[str]: ...
@overload
def open_private(path: Path, *, binary: Literal[True], exclusive: bool = ...) -> IO[bytes]: ...
def open_private(path: Path, *, binary: bool = False, exclusive: bool = True) -> IO[str] | IO[bytes]:
    """Open ``path`` for writing, 0600: a new file (FileExistsError if there is one) unless ``exclusive``
    is False (then an existing file is replaced and made 0600).  Text is UTF-8 with newlines as written."""
    fd = _fd(path, exclusive)
    if binary:
        return os.fdopen(fd, "wb")
    return os.fdopen(fd, "w", encoding="utf-8", newline="")


def write_private(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` (replacing it), 0600."""
    if isinstance(data, str):
        with open_private(path, exclusive=False) as handle:
            handle.write(data)
    else:
        with open_private(path, binary=True, exclusive=False) as out:
            out.write(data)
