"""The remembered strap: written atomically with private permissions, read back, broken files reported."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from restbeat.devices.ble import StrapInfo
from restbeat.devices.strap_memory import StrapMemoryError, memory_path, recall, remember


def test_remember_and_recall(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESTBEAT_CONFIG_DIR", str(tmp_path / "config"))
    assert recall() is None
    written = remember(StrapInfo("C0:11:22:33:44:55", "Polar H10 ABCDEF01", -61))
    assert written == memory_path() == tmp_path / "config" / "strap.json"
    assert recall() == StrapInfo("C0:11:22:33:44:55", "Polar H10 ABCDEF01", None)
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert stat.S_IMODE(written.parent.stat().st_mode) == 0o700


@pytest.mark.parametrize("content", ["{not json", '{"name": "no address"}', "[]"])
def test_a_broken_file_is_named_in_one_line(tmp_path: Path, content: str) -> None:
    path = tmp_path / "strap.json"
    path.write_text(content)
    with pytest.raises(StrapMemoryError, match=str(path)) as error:
        recall(path)
    assert "\n" not in str(error.value)
