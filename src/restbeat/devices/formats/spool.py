"""A pipe (``restbeat import <(cat f)``, ``/dev/stdin``, a FIFO) read once into a temporary file.

The duplicate check (SHA-256) and the reader then see the same bytes, which a pipe cannot give twice.
Limits: at most ``MAX_PIPE_BYTES`` (512 MiB; a week of RR text is about 5 MB, a raw strap day about
10 MB), and a pipe that sends nothing for ``WAIT_S`` (10 s), or a FIFO no one writes to, is an error
rather than a wait forever.  Devices (``/dev/zero``) and directories are not read: the readers refuse
them (:func:`restbeat.devices.formats.lines.check_file`).
"""

from __future__ import annotations

import os
import select
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from restbeat.devices.recording import RecordingError

MAX_PIPE_BYTES = 512 * 1024 * 1024
WAIT_S = 10.0
_CHUNK = 1 << 20
_ANONYMOUS = ("/dev/fd/", "/dev/stdin", "/proc/")  # a shell's pipe: its writer is there from the start


def is_pipe(path: Path) -> bool:
    """True for a FIFO or pipe (following links); False for anything else, or a path that cannot be seen."""
    try:
        return stat.S_ISFIFO(path.stat().st_mode)
    except OSError:
        return False


def _copy(path: Path, target: Path, wait_s: float) -> None:
    anonymous = str(path).startswith(_ANONYMOUS)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as error:
        raise RecordingError(f"{path}: cannot read ({error.strerror or error})") from error
    total = 0
    deadline = time.monotonic() + wait_s
    try:
        with target.open("wb") as out:
            while True:
                ready, _, _ = select.select([fd], [], [], max(deadline - time.monotonic(), 0.0))
                if not ready:
                    raise RecordingError(
                        f"{path}: nothing came through the pipe for {wait_s:g} s (no writer?); "
                        "save it to a file first"
                    )
                try:
                    chunk = os.read(fd, _CHUNK)
                except BlockingIOError:
                    continue
                if chunk:
                    total += len(chunk)
                    if total > MAX_PIPE_BYTES:
                        raise RecordingError(
                            f"{path}: more than {MAX_PIPE_BYTES >> 20} MiB through a pipe; save it to a file"
                        )
                    out.write(chunk)
                    deadline = time.monotonic() + wait_s
                    continue
                if total or anonymous:
                    return  # end of the data (an empty pipe is then an empty file, which the reader says)
                if time.monotonic() >= deadline:  # a FIFO no one has opened for writing
                    raise RecordingError(f"{path}: a FIFO no one wrote to in {wait_s:g} s; save it to a file")
                time.sleep(0.05)
    except OSError as error:
        raise RecordingError(f"{path}: cannot read the pipe ({error.strerror or error})") from error
    finally:
        os.close(fd)


@contextmanager
def readable_file(path: Path, wait_s: float | None = None) -> Iterator[Path]:
    """``path`` itself unless it is a pipe; a pipe's bytes in a temporary file, removed afterwards.

    A :class:`RecordingError` raised inside the block names ``path``, not the temporary file."""
    if not is_pipe(path):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="restbeat-pipe-") as folder:
        target = Path(folder) / (path.name or "pipe")
        _copy(path, target, WAIT_S if wait_s is None else wait_s)
        try:
            yield target
        except RecordingError as error:
            error.args = (str(error).replace(str(target), str(path)), *error.args[1:])
            raise
