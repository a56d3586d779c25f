"""A desktop notification where the platform has one (notify-send on Linux, osascript on macOS); where it
has none, nothing is shown and nothing fails.  It never blocks the screen: the helper runs detached."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys

logger = logging.getLogger(__name__)


def notification_command(title: str, body: str) -> list[str] | None:
    """The command that shows a notification on this platform, or None where there is none."""
    if sys.platform == "darwin" and shutil.which("osascript"):
        script = f"display notification {_quoted(body)} with title {_quoted(title)}"
        return ["osascript", "-e", script]
    if shutil.which("notify-send"):
        return ["notify-send", "--app-name=restbeat", title, body]
    return None


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def notify(title: str, body: str) -> bool:
    """Show a desktop notification; False when the platform has none or it could not be started (logged)."""
    command = notification_command(title, body)
    if command is None:
        return False
    try:
        subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError as error:
        logger.warning("desktop notification not shown: %s", error)
        return False
    return True
