"""The strap chosen last time (address and name), kept in the user's config directory.

The file is ``strap.json`` under ``RESTBEAT_CONFIG_DIR`` when set, else the platform's user config directory
(platformdirs); directory 0700 and file 0600.  A broken file is reported in one line naming it, never
silently replaced.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from restbeat.devices.ble import StrapInfo


class StrapMemoryError(ValueError):
    """The remembered-strap file exists but cannot be read."""


def config_dir() -> Path:
    """Where restbeat keeps its settings."""
    if env := os.environ.get("RESTBEAT_CONFIG_DIR"):
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_config_dir("restbeat"))


def memory_path() -> Path:
    """The file holding the remembered strap."""
    return config_dir() / "strap.json"


def remember(strap: StrapInfo, path: Path | None = None) -> Path:
    """Keep ``strap`` (address and name) for next time; returns the file written."""
    target = path or memory_path()
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # a new temporary file of our own (O_EXCL, 0600): never a stale one left by someone else, whose mode
    # (0666, say) the replace would hand on to the remembered strap
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"address": strap.address, "name": strap.name}, handle)
        os.replace(temporary, target)  # atomic: a crash leaves the old file or the new one
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def recall(path: Path | None = None) -> StrapInfo | None:
    """The remembered strap, or None if none was remembered; raises :class:`StrapMemoryError` on a broken
    file."""
    source = path or memory_path()
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise StrapMemoryError(f"{source}: cannot read the remembered strap ({error})") from error
    if not isinstance(data, dict) or not isinstance(data.get("address"), str):
        raise StrapMemoryError(f"{source}: no strap address in it; run `restbeat scan --remember` again")
    return StrapInfo(data["address"], str(data.get("name") or ""), None)
