"""Real recordings for the tests: the bundled ones in tests/data, and the full corpus for marked tests.

``bundled(...)`` is a file in ``tests/data``: part of the repository, so always there (sources, licences,
citations and what was cut: tests/data/README.md).  The default suite uses only these.

``shared(...)`` is a file in the full corpus (about 37 MB, not in the repository), found by
``benchmarks.data``: ``RESTBEAT_SHARED_DATA``, ``../shared/data`` beside the repository, or the fetch cache
(``python -m benchmarks.data fetch``).  Only a test marked ``@pytest.mark.corpus`` may read the corpus
(through shared() or a benchmark helper): such tests run wherever the corpus is, and are skipped with a
reason saying how to get it where it is not (tests/conftest.py).  An unmarked reader is an error even where
the corpus is present, so that no default test needs it silently.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import data as corpus_data
from benchmarks.data import FETCH_HINT, CorpusMissingError, corpus_dir, find_corpus, missing_message

__all__ = ["BUNDLED", "CorpusMissingError", "bundled", "corpus_available", "missing_message", "shared"]

BUNDLED = Path(__file__).resolve().parents[1] / "data"

# Set by tests/conftest.py around each test: its node id, and whether it carries the corpus marker.
running: tuple[str, bool] | None = None


def _only_in_corpus_tests() -> None:
    """benchmarks.data's access guard while the suite runs: only a test marked corpus reads the corpus."""
    if running is None or not running[1]:
        where = f"test {running[0]}" if running else "code outside a test (module level, collection)"
        raise RuntimeError(f"{where} reads the full corpus: mark it @pytest.mark.corpus, or use bundled()")


corpus_data.access_guard = _only_in_corpus_tests


def bundled(*parts: str) -> Path:
    """Path of a recording bundled in tests/data (or a WFDB record name: its files without the suffix);
    raises if it is not there (a repository file is missing)."""
    path = BUNDLED.joinpath(*parts)
    if not path.exists() and not any(path.parent.glob(f"{path.name}.*")):
        raise FileNotFoundError(f"{path}: not in tests/data (see tests/data/README.md for what is bundled)")
    return path


def corpus_available() -> bool:
    return find_corpus() is not None


def shared(*parts: str) -> Path:
    """Path of a file in the full corpus, for a test marked ``@pytest.mark.corpus``.

    A file missing from a corpus that is otherwise there (a partial fetch) skips the test, naming the file.
    """
    path = corpus_dir().joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not in the corpus; get it with {FETCH_HINT}")
    return path
