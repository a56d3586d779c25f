"""Where the shared real recordings live (../shared/data; see its README for sources and licences).

Looked up in order: the RESTBEAT_SHARED_DATA environment variable, ``../shared/data`` beside the
repository, and ``/work/shared/data``.  A missing data directory is an error, not a skip: the tests that
use real recordings must run everywhere the suite runs.
"""

from __future__ import annotations

import os
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]


def shared_data_dir() -> Path:
    """The directory holding the shared recordings; raises if it cannot be found."""
    candidates = []
    if env := os.environ.get("RESTBEAT_SHARED_DATA"):
        candidates.append(Path(env))
    candidates += [_REPO.parent / "shared" / "data", Path("/work/shared/data")]
    for candidate in candidates:
        if (candidate / "README.md").is_file():
            return candidate
    searched = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"shared recordings not found (searched {searched}); set RESTBEAT_SHARED_DATA")


def shared(*parts: str) -> Path:
    """Path of a file inside the shared data directory."""
    return shared_data_dir().joinpath(*parts)
