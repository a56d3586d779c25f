"""A live session's database work on its own thread, retried with backoff until the database takes it.

The event loop only queues operations (:class:`~restbeat.store.save_queue.SaveQueue`) and wakes the
writer; the writer has its own connection to the database file and writes what is queued in one
transaction.  On failure (another process holds the write lock, the disk is full) the rows stay queued and
the writer tries again after a backoff of 0.25 s, doubling to 2 s, so neither the screen nor the per-beat
path ever waits on SQLite's busy timeout or on the disk, and saving resumes by itself when the lock or the
space comes back.  Past the queue's memory bound the oldest rows go to the recovery file.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable

from restbeat.store.recovery_file import RecoveryFile
from restbeat.store.save_queue import SaveQueue

FIRST_BACKOFF_S = 0.25
MAX_BACKOFF_S = 2.0
BUSY_TIMEOUT_S = 2.0  # one attempt's wait for another process's write lock (taken as soon as it is freed)


class BackgroundWriter:
    """Writes ``queue`` into the database at ``path`` from a thread; see the module docstring."""

    def __init__(
        self,
        queue: SaveQueue,
        path: str,
        recovery: RecoveryFile,
        *,
        clock: Callable[[], float] = time.monotonic,
        busy_timeout_s: float = BUSY_TIMEOUT_S,
        first_backoff_s: float = FIRST_BACKOFF_S,
        max_backoff_s: float = MAX_BACKOFF_S,
    ) -> None:
        self.queue = queue
        self.path = path
        self.recovery = recovery
        self.clock = clock
        self.busy_timeout_s = busy_timeout_s
        self.first_backoff_s = first_backoff_s
        self.max_backoff_s = max_backoff_s
        self.attempts = 0
        self.failures = 0
        self.crash: BaseException | None = None  # an unexpected error that ended the thread
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._deadline = float("inf")
        self._thread = threading.Thread(target=self._run, name="restbeat-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def kick(self) -> None:
        """Something was queued: write it (unless a backoff is running)."""
        self._wake.set()

    def stop(self, timeout_s: float) -> bool:
        """Write what is queued, retrying for up to ``timeout_s``, then end the thread; False when the thread
        is still inside a write 30 s past that (a hung filesystem): its rows must not be written elsewhere."""
        self._deadline = self.clock() + timeout_s
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout_s + self.busy_timeout_s + 30.0)
        return not self._thread.is_alive()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=self.busy_timeout_s)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        backoff = self.first_backoff_s
        retry_at: float | None = None
        try:
            while True:
                now = self.clock()
                stopping = self._stopping.is_set()
                if stopping and (not len(self.queue) or now >= self._deadline):
                    return
                if retry_at is not None and now < retry_at:
                    self._sleep(min(retry_at, self._deadline) - now if stopping else retry_at - now)
                    continue
                if not len(self.queue):
                    self._sleep(None)
                    continue
                if self.queue.over_bound():
                    self._spill()
                self.attempts += 1
                try:
                    conn = conn or self._connect()
                    error = self.queue.try_write(conn)
                except sqlite3.Error as failed:  # the file could not even be opened: same retry
                    error = failed
                    self.queue.note_failure(failed)
                if error is None:
                    backoff, retry_at = self.first_backoff_s, None
                else:
                    self.failures += 1
                    retry_at = self.clock() + backoff
                    backoff = min(2.0 * backoff, self.max_backoff_s)
        except Exception as error:  # a defect: kept, shown on screen, and at the end the rows go to the
            self.crash = error  # recovery file (re-raising here would only print over the live screen)
            self.queue.note_failure(error)
        finally:
            if conn is not None:
                conn.close()

    def _sleep(self, seconds: float | None) -> None:
        self._wake.wait(seconds)
        self._wake.clear()

    def _spill(self) -> None:
        """Move the oldest rows to the recovery file, freeing memory down to half the bound; if no file can
        be written, drop just enough (down to 90 % of the bound), the oldest raw notifications first
        (counted as lost)."""
        bound = self.queue.max_rows
        oldest = self.queue.oldest_rows(self.queue.rows - bound // 2)
        try:
            path = self.recovery.append(oldest)
        except OSError:
            self.queue.drop_oldest(self.queue.rows - bound * 9 // 10)
            return
        self.queue.remove(oldest)
        self.queue.spilled(sum(op.count for op in oldest), str(path))
