"""Text recordings read a line at a time in bounded memory: encoding from the first bytes, short lines only.

Limits, each an error naming the file (and line):

* ``MAX_LINE_CHARS`` = 65 536 characters per line.  The longest line of any format restbeat reads is a raw
  strap notification (under 300 characters) or a CSV row (under 1 KiB), so a longer line is not a
  recording's; it is never held whole (a 2-GB sparse file or a 16-M-number line is refused at its first
  64 KiB).
* ``MAX_BEATS`` = 2 000 000 intervals per file: 23 days of beats at 86 bpm; a 12-h shift is about 50 000
  and a week about 700 000.  Readers keep values in packed arrays (8 bytes each; about 34 bytes per beat
  at the peak, with its time and line number), never the text.  Correcting and storing them costs more
  (measured: an import of 2 M beats peaks at 350 MB, an analysis at 620 MB).
* ``MAX_ECG_SAMPLES`` = 6 000 000 ECG samples per file: 12.8 h at the Polar H10's 130 Hz, 100 min at
  1000 Hz.  R-peak detection (neurokit2) needs about 190 bytes per sample (390 MB for 4 h at 130 Hz), so
  the cap keeps an ECG analysis near 1.1 GB.

Encodings: UTF-8 (with or without a BOM), UTF-16 and UTF-32 with a BOM, and UTF-16 without a BOM when
every other byte of the first 4 KiB is zero (Windows tools write UTF-16).  Undecodable bytes become U+FFFD.
"""

from __future__ import annotations

import codecs
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from restbeat.devices.formats.values import where
from restbeat.devices.recording import RecordingError

MAX_LINE_CHARS = 65_536
MAX_BEATS = 2_000_000
MAX_ECG_SAMPLES = 6_000_000
HEAD_BYTES = 4096

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def check_file(path: Path) -> None:
    """Raise :class:`RecordingError` unless ``path`` is a regular file (or a directory's caller wants
    that message): no such file, a symlink loop, a directory, a pipe or a device each say so."""
    try:
        mode = path.stat().st_mode
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise RecordingError(f"{path}: a symlink loop (the link points back to itself)") from error
        if error.errno in (errno.ENOENT, errno.ENOTDIR):
            if path.is_symlink():
                target = os.readlink(path)
                raise RecordingError(f"{path}: a symlink to {target}, which does not exist") from error
            raise RecordingError(f"{path}: no such file") from error
        raise RecordingError(f"{path}: cannot read ({error.strerror or error})") from error
    if stat.S_ISDIR(mode):
        raise RecordingError(f"{path}: is a directory, expected a recording file")
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        raise RecordingError(f"{path}: a pipe, not a file; save it to a file first")
    if not stat.S_ISREG(mode):
        raise RecordingError(f"{path}: a device, not a recording file")


def text_encoding(head: bytes) -> str:
    """The codec of a text file from its first bytes (see the module docstring)."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return codec
    pairs = len(head) // 2
    if pairs >= 2 and b"\x00" in head:
        odd_zero = head[1 : 2 * pairs : 2].count(0)
        even_zero = head[0 : 2 * pairs : 2].count(0)
        if odd_zero >= 0.9 * pairs and even_zero <= 0.1 * pairs:
            return "utf-16-le"
        if even_zero >= 0.9 * pairs and odd_zero <= 0.1 * pairs:
            return "utf-16-be"
    return "utf-8"


def read_head(path: Path) -> tuple[bytes, str]:
    """The first 4 KiB of a file, as bytes and as decoded text (a partial last character dropped)."""
    check_file(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError as error:
        raise RecordingError(f"{path}: cannot read ({error.strerror or error})") from error
    decoder = codecs.getincrementaldecoder(text_encoding(head))(errors="replace")
    return head, decoder.decode(head, final=False)


def numbered_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Each line of a text file with its number (from 1), without its line end; a line over
    ``MAX_LINE_CHARS`` raises :class:`RecordingError` naming it.  Memory is one line at a time."""
    head, _ = read_head(path)
    encoding = text_encoding(head)
    number = 0
    try:
        with path.open(encoding=encoding, errors="replace", newline=None) as handle:
            while True:
                line = handle.readline(MAX_LINE_CHARS + 1)
                if not line:
                    return
                number += 1
                if len(line) > MAX_LINE_CHARS:
                    raise RecordingError(
                        f"{path}, line {number}: longer than {MAX_LINE_CHARS} characters; no recording "
                        "restbeat reads has such lines"
                    )
                yield number, line.rstrip("\n")
    except OSError as error:
        raise RecordingError(f"{path}, line {number + 1}: cannot read ({error.strerror or error})") from error


def check_count(
    path: Path, line: int | None, count: int, limit: int | None = None, what: str = "intervals"
) -> None:
    """Raise :class:`RecordingError` when a file holds more than ``limit`` values (default ``MAX_BEATS``)."""
    limit = MAX_BEATS if limit is None else limit
    if count > limit:
        span = " (over 3 weeks of beats)" if what == "intervals" else ""
        raise RecordingError(
            f"{where(path, line)}: more than {limit:,} {what} in one file{span}; split the file"
        )


__all__ = [
    "HEAD_BYTES",
    "MAX_BEATS",
    "MAX_ECG_SAMPLES",
    "MAX_LINE_CHARS",
    "check_count",
    "check_file",
    "numbered_lines",
    "read_head",
    "text_encoding",
]
