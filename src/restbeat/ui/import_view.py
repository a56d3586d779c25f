"""What `restbeat import` shows: a progress bar over the files, then one summary row per file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from restbeat.app.importing import ImportResult
from restbeat.devices.recording import RecordingError


def import_progress(console: Console) -> Progress:
    """A bar counting files, naming the one being read."""
    return Progress(
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
    )


def progress_callbacks(
    progress: Progress, total: int
) -> tuple[Callable[[Path], None], Callable[[Path, ImportResult | RecordingError], None]]:
    """(on_start, on_done) for :func:`restbeat.app.importing.import_files` that drive ``progress``."""
    task = progress.add_task("", total=total)

    def on_start(path: Path) -> None:
        progress.update(task, description=path.name)

    def on_done(path: Path, _: ImportResult | RecordingError) -> None:
        progress.update(task, advance=1, description=path.name)

    return on_start, on_done


def summary_table(results: list[ImportResult | RecordingError], paths: list[Path]) -> Table:
    """One row per file: format, what happened, session, beats, hours, junk lines, corrected share."""
    table = Table(title="import summary", title_justify="left")
    for column in ("file", "format", "result", "session", "beats", "hours", "junk lines", "corrected"):
        table.add_column(
            column, justify="right" if column in {"beats", "hours", "junk lines", "corrected"} else "left"
        )
    for path, result in zip(paths, results, strict=True):
        if isinstance(result, RecordingError):
            table.add_row(path.name, "", "[red]failed (below)[/red]", "", "", "", "", "")
            continue
        sessions = ", ".join(str(i) for i in result.session_ids)
        if result.status == "duplicate":
            table.add_row(path.name, result.format, "already imported", sessions, "", "", "", "")
            continue
        usable = max(result.beats - result.excluded, 1)
        table.add_row(
            path.name,
            result.format,
            "imported",
            sessions,
            f"{result.beats:,}",
            f"{result.duration_s / 3600:.1f}",
            str(result.skipped_lines),
            f"{100.0 * result.corrected / usable:.1f} %",
        )
    return table


def import_notes(results: list[ImportResult | RecordingError]) -> list[str]:
    """One line per file with skipped lines (how many, the first few with their numbers), then each reader's
    note once with the files it applies to."""
    lines = []
    files_by_note: dict[str, list[str]] = {}
    for result in results:
        if isinstance(result, ImportResult):
            for note in result.notes:
                files_by_note.setdefault(note, []).append(result.path.name)
    for note, names in files_by_note.items():
        shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        lines.append(f"{shown}: {note}")
    for result in results:
        if isinstance(result, ImportResult) and result.skipped_lines:
            shown = ", ".join(f"line {s.line_number}: {s.text!r}" for s in result.skipped_examples[:3])
            lines.append(
                f"{result.path.name}: {result.skipped_lines} line(s) without an RR value skipped ({shown})"
            )
    return lines
