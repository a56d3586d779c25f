"""The `restbeat` command.

Sub-commands import their heavy dependencies (numpy, scipy, wfdb, ...) only when they run, so
``restbeat --help`` and ``restbeat --version`` stay fast.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from restbeat import __version__

if TYPE_CHECKING:
    from pathlib import Path

    from rich.console import Console

    from restbeat.app.clock import ScaledClock
    from restbeat.app.demo import DemoPerson
    from restbeat.app.live import LiveShift, PacerSettings
    from restbeat.devices.emulator import EmulatedStrap
    from restbeat.ui.sessions import Headline, Script, ScriptFactory

#: Context tags (kept in step with restbeat.store.writes.CONTEXTS, which the store enforces).
CONTEXTS = ("pre-shift", "on-shift", "post-shift", "morning", "sleep", "breathing", "other")

Handler = Callable[[argparse.Namespace], int]


class CommandError(Exception):
    """A user-facing failure: printed as one line, exit status 1."""


def _analyze(args: argparse.Namespace) -> int:
    from restbeat.app.analyze import analyze_file
    from restbeat.devices.files import RecordingError
    from restbeat.ui.analysis_view import render_json, render_table

    try:
        analysis = analyze_file(
            args.file,
            spectrum_method=args.spectrum,
            correct=args.correct,
            sampling_rate_hz=args.sampling_rate,
        )
    except RecordingError as error:
        raise CommandError(str(error)) from error
    print(render_json(analysis) if args.json else render_table(analysis))
    return 0


def _scan(args: argparse.Namespace) -> int:
    from restbeat.app.scan import render_straps, scan_straps
    from restbeat.devices.ble import BluetoothUnavailableError, describe, transient_errors

    try:
        straps = scan_straps(args.timeout)
    except BluetoothUnavailableError as error:
        raise CommandError(str(error)) from error
    except transient_errors() as error:
        raise CommandError(f"scanning failed: {describe(error)}") from error
    print(render_straps(straps, args.timeout))
    if args.remember and straps:
        from restbeat.devices.strap_memory import remember

        chosen = straps[0]
        path = remember(chosen)
        print(f"remembered {chosen.name or chosen.address} ({chosen.address}) in {path} for next time")
    return 0


def _strap_address(given: str | None) -> str:
    """The strap to use: ``--strap``, else the one remembered by ``restbeat scan --remember``."""
    if given:
        return given
    from restbeat.devices.strap_memory import StrapMemoryError, recall

    try:
        strap = recall()
    except StrapMemoryError as error:
        raise CommandError(str(error)) from error
    if strap is None:
        raise CommandError("no strap chosen yet: run `restbeat scan --remember`, or give --strap ADDRESS")
    return strap.address


def _record(args: argparse.Namespace) -> int:
    import asyncio
    from pathlib import Path

    from restbeat.app.record_raw import RawFileExistsError, record_raw
    from restbeat.devices.ble import BluetoothUnavailableError

    address = _strap_address(args.strap)
    duration = args.minutes * 60.0 if args.minutes else None
    print(f"recording raw notifications of {address} to {args.raw} (Ctrl-C to stop)", file=sys.stderr)
    try:
        summary = asyncio.run(record_raw(Path(args.raw), address, duration_s=duration))
    except (RawFileExistsError, BluetoothUnavailableError) as error:
        raise CommandError(str(error)) from error
    print(
        f"{summary.notifications} notifications and {summary.events} events over {summary.connections} "
        f"connection(s) in {summary.seconds:.0f} s written to {summary.path}"
    )
    return 0


def _open_store(path: str | None) -> sqlite3.Connection:
    from restbeat.store.database import StoreError, open_database

    try:
        return open_database(path)
    except StoreError as error:
        raise CommandError(str(error)) from error


def _open_existing_store(path: str | None) -> tuple[sqlite3.Connection, Path]:
    """The database for a command that only reads: never created as a side effect."""
    from pathlib import Path

    from restbeat.store.database import StoreError, default_db_path, open_existing

    target = Path(path).expanduser() if path else default_db_path()
    try:  # read-only: never created, migrated or written (store.database.open_existing)
        return open_existing(target), target
    except StoreError as error:
        demo = f"restbeat demo --days 30 --db {target}"
        hint = "" if target.exists() or target.is_symlink() else f": record a shift first, or try `{demo}`"
        raise CommandError(f"{error}{hint}") from error


def _review(args: argparse.Namespace) -> int:
    from pathlib import Path

    from restbeat.app.private_files import write_private
    from restbeat.app.review import ReviewError, find_shift, load_review
    from restbeat.ui.plots import png_bytes
    from restbeat.ui.review_figure import review_figure, review_text

    given = _png_out(args.out)  # a wrong name is said before any work
    conn, path = _open_existing_store(args.db)
    try:
        session = find_shift(conn, args.date)
        review = load_review(conn, session)
    except ReviewError as error:
        raise CommandError(f"{path}: {error}") from error
    for line in review_text(review):
        print(line)
    out = given or Path(f"restbeat-review-{session.local_date.isoformat()}.png")
    write_private(out, png_bytes(review_figure(review)))  # 0600, like the database
    print(f"figure: {out}")
    return 0


def _trends(args: argparse.Namespace) -> int:
    from pathlib import Path

    from restbeat.app.private_files import write_private
    from restbeat.app.trends import TrendsError, load_trends
    from restbeat.ui.plots import png_bytes
    from restbeat.ui.trends_figure import trends_figure, trends_text

    out = _png_out(args.out) or Path(f"restbeat-trends-{datetime.date.today().isoformat()}.png")
    conn, path = _open_existing_store(args.db)
    try:
        trends = load_trends(conn, days=args.days, today=args.until, context=args.context)
    except TrendsError as error:
        raise CommandError(f"{path}: {error}") from error
    for line in trends_text(trends):
        print(line)
    write_private(out, png_bytes(trends_figure(trends)))
    print(f"figure: {out}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from restbeat.app.review import ReviewError
    from restbeat.app.trends import TrendsError
    from restbeat.ui.report import period_report, shift_report, write_report

    conn, path = _open_existing_store(args.db)
    out = Path(args.out).expanduser()
    if out.suffix.lower() not in (".html", ".htm"):
        raise CommandError(f"{out}: the report is HTML; give a file name ending in .html")
    try:
        if args.date is not None or args.last:
            report = shift_report(conn, args.date)
        else:
            report = period_report(conn, args.days, args.until)
    except (ReviewError, TrendsError) as error:
        raise CommandError(f"{path}: {error}") from error
    try:
        written = write_report(report, out, pdf=args.pdf)
    except OSError as error:
        raise CommandError(f"{out}: could not write the report ({error.strerror or error})") from error
    for target in written:
        print(f"report: {target}")
    return 0


def _png_out(given: str | None) -> Path | None:
    """``--out`` as a path (None when not given: the command's own name); a name not ending in .png is
    refused."""
    from pathlib import Path

    if given is None:
        return None
    out = Path(given).expanduser()
    if out.suffix.lower() != ".png":
        raise CommandError(f"{out}: figures are PNG; give a file name ending in .png")
    return out


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from error


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from error
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def _positive_int(text: str, most: int = 2**63 - 1) -> int:
    """A whole number from 1 to ``most`` (the default: what SQLite holds, e.g. a session id)."""
    try:
        value = int(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from error
    if not 1 <= value <= most:
        raise argparse.ArgumentTypeError(f"{text!r} must be from 1 to {most}")
    return value


def _days(text: str) -> int:
    """A number of days, at most a century (dates past that are out of the calendar's range)."""
    return _positive_int(text, most=36_500)


def _import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rich.console import Console

    from restbeat.app.importing import import_files
    from restbeat.devices.recording import RecordingError
    from restbeat.ui.import_view import import_notes, import_progress, progress_callbacks, summary_table

    paths = [Path(name) for name in args.files]
    conn = _open_store(args.db)
    with import_progress(Console(stderr=True)) as progress:
        on_start, on_done = progress_callbacks(progress, len(paths))
        results = import_files(
            conn,
            paths,
            context=args.context,
            sampling_rate_hz=args.sampling_rate,
            correct=args.correct,
            on_start=on_start,
            on_done=on_done,
        )
    Console(width=max(Console().width, 100)).print(summary_table(results, paths))
    for line in import_notes(results):
        print(line)
    failed = [result for result in results if isinstance(result, RecordingError)]
    for error in failed:
        print(f"restbeat import: {error}", file=sys.stderr)
    return 1 if failed else 0


def _export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from restbeat.app.exporting import ExportError, export_sessions, select_sessions

    conn, _ = _open_existing_store(args.db)
    try:
        sessions = select_sessions(
            conn,
            session_ids=args.session,
            since=args.since,
            until=args.until,
            context=args.context,
            last=args.last,
        )
        result = export_sessions(conn, sessions, args.format, Path(args.out))
    except ExportError as error:
        raise CommandError(str(error)) from error
    unit = "notifications" if args.format == "raw" else "beats"
    where = result.paths[0] if len(result.paths) == 1 else f"{len(result.paths)} files in {args.out}"
    print(f"exported {result.sessions} session(s), {result.beats:,} {unit}, as {args.format} to {where}")
    return 0


def _sessions(args: argparse.Namespace) -> int:
    from restbeat.store.queries import session_summaries

    if args.delete is not None or args.upgrade:
        return _sessions_admin(args)
    conn, _ = _open_existing_store(args.db)
    rows = session_summaries(conn, args.since, args.until, args.context)
    if not rows:
        print("no sessions yet: `restbeat import FILE` or `restbeat demo` adds some")
        return 0
    print(
        f"{'id':>5}  {'start':16}  {'hours':>5}  {'context':10}  {'status':11}  "
        f"{'beats':>9}  {'HR':>5}  {'RMSSD':>6}  source"
    )
    for row in rows:
        s = row.session
        print(
            f"{s.id:>5}  {s.local_start:%Y-%m-%d %H:%M}  {s.duration_s / 3600:>5.1f}  {s.context:10}  "
            f"{s.status:11}  {row.beats:>9,}  {row.mean_hr_bpm:>5.0f}  {row.rmssd_ms:>6.1f}  {s.source}"
        )
    return 0


def _sessions_admin(args: argparse.Namespace) -> int:
    from restbeat.ui.session_admin import AdminError, delete, upgrade

    try:
        if args.delete is None:
            print(upgrade(args.db))
        for session_id in args.delete or []:  # each asked for and deleted on its own
            print(delete(args.db, session_id, args.yes))
    except AdminError as error:
        raise CommandError(str(error)) from error
    return 0


def _replay(args: argparse.Namespace) -> int:
    from restbeat.app.replay import BaselineError, load_baseline, replay
    from restbeat.devices.files import RecordingError, read_recording
    from restbeat.store.database import StoreError
    from restbeat.ui.replay_view import render_json_lines, render_text

    try:
        recording = read_recording(args.file)
        profile = load_baseline(args.baseline) if args.baseline else None
    except (RecordingError, BaselineError, StoreError) as error:
        raise CommandError(str(error)) from error
    outcomes, summary = replay(recording, profile, seed=args.seed)
    if args.json:
        print(render_json_lines(outcomes, recording, summary))
    else:
        baseline = args.baseline or "none (restbeat learns you from this recording first)"
        print(render_text(outcomes, recording, summary, baseline))
    return 0


def _live(args: argparse.Namespace, make: ScriptFactory, title: str, context: str) -> int:
    """Run a live command against a strap (or the emulated one) and print its summary."""
    import asyncio

    from rich.console import Console

    from restbeat.app.monitor import SessionPlan
    from restbeat.devices.ble import BluetoothUnavailableError
    from restbeat.store.save_ops import failure_reason
    from restbeat.store.writes import check_context
    from restbeat.ui.live_screen import render_summary
    from restbeat.ui.sessions import emulated, emulated_plan, with_strap

    try:
        check_context(context)
    except ValueError as error:
        raise CommandError(str(error)) from error
    conn = _open_store(args.db)
    console = Console()
    plan = SessionPlan(context=context, seed=args.seed)
    try:
        if args.emulated:
            summary = asyncio.run(
                emulated(conn, emulated_plan(plan), console, make, title=title, speed=args.speed)
            )
        else:
            from dataclasses import replace

            plan = replace(plan, strap_address=_strap_address(args.strap))
            summary = asyncio.run(with_strap(conn, plan, console, make, title))
    except BluetoothUnavailableError as error:
        raise CommandError(f"{error} (what was recorded is kept)") from error
    except sqlite3.Error as error:  # on the loop's own connection: the session's start (rows go off the loop)
        where, why = args.db or "the database", failure_reason(error)
        busy = why == "database locked"
        hint = "another process is writing to it; try again when it is done" if busy else why
        raise CommandError(f"{where}: the session could not start: {hint} ({error})") from error
    console.print(render_summary(summary))
    saved = summary.saved
    return 0 if saved is None or (saved.saved_all and not saved.lost_rows) else 1  # rows not in the database


def _monitor(args: argparse.Namespace) -> int:
    from restbeat.ui.sessions import monitor_script

    return _live(args, monitor_script, "restbeat monitor", args.context)


def _pacer_settings(args: argparse.Namespace, conn_path: str | None) -> PacerSettings:
    from restbeat.app.live import PacerSettings
    from restbeat.app.person import DEFAULT_RATE_PER_MIN, resonance_rate

    rate = args.rate
    if rate is None:
        rate = resonance_rate(_open_store(conn_path)) or DEFAULT_RATE_PER_MIN
    inhale, exhale = args.ratio
    return PacerSettings(rate_per_min=rate, inhale_share=inhale / (inhale + exhale))


def _ratio(text: str) -> tuple[float, float]:
    try:
        inhale, exhale = (float(part) for part in text.split(":"))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not an inhale:exhale ratio such as 4:6") from error
    if inhale <= 0 or exhale <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: both parts must be positive")
    return inhale, exhale


def _breathe(args: argparse.Namespace) -> int:
    import asyncio

    from rich.console import Console

    from restbeat.recovery.wording import BREATHING_SAFETY
    from restbeat.ui.sessions import breathe_script, pacer_only

    settings = _pacer_settings(args, args.db)
    duration = args.minutes * 60.0
    console = Console()
    console.print(BREATHING_SAFETY)
    if args.no_strap:
        breathed = asyncio.run(pacer_only(console, settings, duration))
        console.print(
            f"{breathed / 60:.1f} min at {settings.rate_per_min:g}/min (no strap: nothing measured)"
        )
        return 0

    def make(
        shift: LiveShift, person: DemoPerson | None, strap: EmulatedStrap | None, clock: ScaledClock | None
    ) -> tuple[Script | None, Headline]:
        shift.pacer = settings
        return breathe_script(duration)(shift, person, strap, clock)

    return _live(args, make, "restbeat breathe", "breathing")


def _resonance(args: argparse.Namespace) -> int:
    from rich.console import Console

    from restbeat.app.breathe import ResonanceScript
    from restbeat.ui.sessions import resonance_script

    holder: list[ResonanceScript] = []
    status = _live(args, resonance_script(holder), "restbeat resonance", "breathing")
    result = holder[0].result if holder else None
    console = Console()
    if result is None:
        console.print("the protocol was stopped before its end: no resonance rate stored")
    elif result.best_rate_per_min is None:
        console.print(f"no resonance rate found: {result.reason}")
    else:
        console.print(f"your resonance breathing rate: {result.best_rate_per_min:g}/min (stored)")
        console.print(result.reason)
    return status


def _demo(args: argparse.Namespace) -> int:
    from rich.console import Console

    from restbeat.ui.live_screen import render_summary
    from restbeat.ui.sessions import demo_database, prepare_demo, run_demo

    path = demo_database(args.db)
    conn = _open_store(str(path))
    console = Console()
    if args.days is not None:
        return _demo_month(conn, console, path, args)
    speed = 1.0 if args.realtime else args.speed
    console.print(
        f"restbeat demo: an emulated strap on a virtual Bluetooth link, a scripted shift at {speed:g}x"
    )
    console.print(f"database: {path}", soft_wrap=True)
    prepare_demo(conn)
    summary = run_demo(conn, console, speed=speed, seed=args.seed)
    console.print(render_summary(summary))
    console.print(f"next: restbeat review --last --db {path}", soft_wrap=True, highlight=False)
    return 0


def _demo_month(conn: sqlite3.Connection, console: Console, path: Path, args: argparse.Namespace) -> int:
    from restbeat.ui.month_view import record_month, render_month

    days = f"{args.days} day{'s' if args.days != 1 else ''}"
    console.print(
        f"restbeat demo: {days} of a nurse's rota (day and night shifts, check-ins), recorded through the "
        "live path"
    )
    console.print(f"database: {path}", soft_wrap=True)
    try:
        summary = record_month(conn, console, days=args.days, seed=args.seed)
    except ValueError as error:
        raise CommandError(f"{path}: {error}") from error
    console.print(render_month(summary))
    console.print("next:")
    for command in (
        f"restbeat trends --db {path}",
        f"restbeat review --last --db {path}",
        f"restbeat report --out restbeat-report.html --db {path}",
    ):
        console.print(f"  {command}", soft_wrap=True, highlight=False)
    return 0


def _add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="PATH",
        help="the database (default: $RESTBEAT_DB, else restbeat.sqlite3 in your data folder)",
    )


def _add_selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from", dest="since", type=_date, metavar="DATE", help="first local date (YYYY-MM-DD)"
    )
    parser.add_argument("--to", dest="until", type=_date, metavar="DATE", help="last local date (YYYY-MM-DD)")
    parser.add_argument("--context", choices=CONTEXTS, help="only sessions with this context tag")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="restbeat",
        description="Stress and recovery tracker: HRV from RR intervals of a Bluetooth LE chest strap.",
        epilog="A wellbeing tool, not a medical device.",
    )
    parser.add_argument("--version", action="version", version=f"restbeat {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    analyze = commands.add_parser(
        "analyze",
        help="HRV metrics of a recording (any format restbeat imports)",
        description="Read an RR recording, detect and correct artifacts (Lipponen & Tarvainen 2019) and "
        "print its time, frequency and nonlinear HRV metrics with the artifacts found per class.",
    )
    analyze.add_argument(
        "file", help="RR text or CSV, Kubios, OpenHRV, FIT, WFDB, ECG or raw strap recording"
    )
    analyze.add_argument("--json", action="store_true", help="print JSON instead of a table")
    analyze.add_argument(
        "--spectrum",
        choices=("auto", "welch", "lomb"),
        default="auto",
        help="spectral method: Welch as Kubios, Lomb-Scargle, or auto (Welch unless short or gappy)",
    )
    analyze.add_argument(
        "--no-correct",
        dest="correct",
        action="store_false",
        help="analyse the intervals as they are, without artifact detection and correction",
    )
    analyze.add_argument(
        "--sampling-rate",
        type=_positive,
        metavar="HZ",
        help="sampling rate of an ECG CSV without a time column",
    )
    analyze.set_defaults(handler=_analyze)

    scan = commands.add_parser(
        "scan",
        help="list the heart-rate straps in range",
        description="Scan for Bluetooth LE devices advertising the Heart Rate Service (Polar H10, Garmin "
        "HRM-Pro, Wahoo TICKR, ...) and list their names, addresses and signal strength.",
    )
    scan.add_argument("--timeout", type=float, default=5.0, help="seconds to scan (default 5)")
    scan.add_argument(
        "--remember", action="store_true", help="remember the strongest strap found for the next sessions"
    )
    scan.set_defaults(handler=_scan)

    record = commands.add_parser(
        "record",
        help="record a strap's raw notifications to a file",
        description="Record every Heart Rate Measurement notification of a strap, byte for byte, with its "
        "arrival time, and every link event (drops, reconnects, battery, contact) as JSON lines, "
        "reconnecting through drops until stopped.",
    )
    record.add_argument("--raw", required=True, metavar="FILE", help="the JSON-lines file to create")
    record.add_argument("--strap", metavar="ADDRESS", help="the strap (default: the remembered one)")
    record.add_argument("--minutes", type=float, help="stop after this many minutes (default: Ctrl-C)")
    record.set_defaults(handler=_record)

    importer = commands.add_parser(
        "import",
        help="import recordings (RR text/CSV, Kubios, OpenHRV, FIT, WFDB, ECG, raw) into the database",
        description="Import RR or ECG recordings into the database, one session per recording, the format "
        "told by the content: plain RR text (ms or s), Polar Sensor Logger, HRV Logger and other RR CSV, "
        "Kubios RR text, OpenHRV logs, Garmin FIT with HRV, WFDB beat annotations, ECG (WFDB or CSV, R peaks "
        "by neurokit2) and restbeat's own CSV and raw exports. Each file is one transaction; a file already "
        "imported is skipped.",
    )
    importer.add_argument("files", nargs="+", metavar="FILE", help="recordings to import")
    importer.add_argument(
        "--context", choices=CONTEXTS, default="other", help="context tag of the sessions (default: other)"
    )
    importer.add_argument(
        "--sampling-rate",
        type=_positive,
        metavar="HZ",
        help="sampling rate of an ECG CSV without a time column",
    )
    importer.add_argument(
        "--no-correct",
        dest="correct",
        action="store_false",
        help="store the intervals as they are (a series already corrected, e.g. a restbeat Kubios export)",
    )
    _add_db_option(importer)
    importer.set_defaults(handler=_import)

    exporter = commands.add_parser(
        "export",
        help="export sessions as Kubios RR text, beat CSV, JSON or raw strap packets",
        description="Export sessions: kubios (Kubios HRV RR text of the NN series), csv (every beat with "
        "time, RR, segment, quality and class), json (metrics, snapshots, prompts, outcomes, annotations) "
        "or raw (the strap's notifications, byte for byte). Choose sessions by --session, --last or a date "
        "range.",
    )
    exporter.add_argument("--format", required=True, choices=("kubios", "csv", "json", "raw"))
    exporter.add_argument("--out", required=True, metavar="PATH", help="file, or directory for several files")
    exporter.add_argument(
        "--session", type=_positive_int, action="append", metavar="ID", help="a session id (repeatable)"
    )
    exporter.add_argument("--last", action="store_true", help="the most recent session (of the selection)")
    _add_selection(exporter)
    _add_db_option(exporter)
    exporter.set_defaults(handler=_export)

    sessions = commands.add_parser(
        "sessions",
        help="list the sessions in the database",
        description="List recorded and imported sessions.",
    )
    _add_selection(sessions)
    sessions.add_argument(
        "--delete",
        type=_positive_int,
        action="append",
        metavar="ID",
        help="delete this session and all its rows (repeatable)",
    )
    sessions.add_argument("--yes", action="store_true", help="with --delete: do not ask first")
    sessions.add_argument("--upgrade", action="store_true", help="bring an older database to this schema")
    _add_db_option(sessions)
    sessions.set_defaults(handler=_sessions)

    replayer = commands.add_parser(
        "replay",
        help="run a recording through the live assessment and recommender",
        description=(
            "Run any recording the importers read through the live pipeline (streaming correction, "
            "metrics, assessment, recommender) as fast as it can, and print the state changes and "
            "prompts with their times and reasons."
        ),
    )
    replayer.add_argument("file", help="the recording")
    replayer.add_argument("--json", action="store_true", help="JSON lines instead of text")
    replayer.add_argument(
        "--baseline",
        metavar="FILE_OR_DB",
        help="start from a known person: a recording of theirs, or a restbeat database",
    )
    replayer.add_argument("--seed", type=int, default=0, help="seed of the practice choice (default 0)")
    replayer.set_defaults(handler=_replay)

    def live_options(command: argparse.ArgumentParser) -> None:
        command.add_argument("--strap", metavar="ADDRESS", help="the strap (default: the remembered one)")
        command.add_argument(
            "--emulated", action="store_true", help="use the emulated strap on a virtual link (no radio)"
        )
        command.add_argument(
            "--speed", type=_positive, default=1.0, help="with --emulated: faster than real time (default 1)"
        )
        command.add_argument("--seed", type=int, default=0, help="seed of the practice choice (default 0)")
        _add_db_option(command)

    monitor = commands.add_parser(
        "monitor",
        help="record a shift live: HR, HRV against your usual, prompts when recovery lags",
        description=(
            "Connect to the strap, record the session and show HR, RMSSD over 60 s and 5 min against "
            "your usual range, the state and why, the link, and prompts. Keys: b breathe now, a annotate, "
            "s snooze prompts, q stop."
        ),
    )
    monitor.add_argument("--context", default="on-shift", choices=CONTEXTS, help="context tag (on-shift)")
    live_options(monitor)
    monitor.set_defaults(handler=_monitor)

    breathe = commands.add_parser(
        "breathe",
        help="paced breathing with a pacer, measured with the strap",
        description=(
            "A breathing pacer driven by the clock. With a strap: 2 min quiet, the pacer, 2 min quiet, "
            "then RMSSD before/during/after, the HR swing per breath and whether your breathing followed "
            "the pacer, stored as a practice outcome."
        ),
    )
    breathe.add_argument(
        "--rate", type=_positive, default=None, help="breaths/min (default: your resonance rate, else 6)"
    )
    breathe.add_argument("--ratio", type=_ratio, default=(4.0, 6.0), help="inhale:exhale (default 4:6)")
    breathe.add_argument("--minutes", type=_positive, default=2.5, help="length of the pacer (default 2.5)")
    breathe.add_argument("--no-strap", action="store_true", help="the pacer alone, nothing measured")
    live_options(breathe)
    breathe.set_defaults(handler=_breathe)

    resonance = commands.add_parser(
        "resonance",
        help="find your resonance breathing rate (about 14 min, strap needed)",
        description=(
            "2-min trials at 6.5, 6, 5.5, 5 and 4.5 breaths/min with 1 min of normal breathing between "
            "them; the rate with the largest HR swing and low-frequency peak becomes your pace."
        ),
    )
    live_options(resonance)
    resonance.set_defaults(handler=_resonance)

    review = commands.add_parser(
        "review",
        help="one shift in a figure and a few lines: HRV and HR against your usual, prompts, practices",
        description=(
            "Review a shift: 60-s RMSSD and HR against your normal band, low-quality stretches and gaps, "
            "prompts and practices with their measured effect, notes, and the check-ins before and after. "
            "Prints a summary and writes the figure as PNG."
        ),
    )
    review.add_argument("date", nargs="?", type=_date, help="the shift's local date (YYYY-MM-DD)")
    review.add_argument("--last", action="store_true", help="the latest shift (the default)")
    review.add_argument("--out", metavar="PNG", help="where to write the figure (restbeat-review-DATE.png)")
    _add_db_option(review)
    review.set_defaults(handler=_review)

    trends = commands.add_parser(
        "trends",
        help="your recovery day by day: daily HRV against your normal range, resting HR, practices",
        description=(
            "Day by day: your daily check-in lnRMSSD with its 7-day mean against your 60-day normal range, "
            "resting HR, day-to-day variation, day vs night shifts, the practices that helped you most, and "
            "stretches of low recovery. Prints a summary and writes the figure as PNG."
        ),
    )
    trends.add_argument("--days", type=_days, default=60, help="how many days back (60)")
    trends.add_argument(
        "--to", dest="until", type=_date, metavar="DATE", help="the last day (default: today)"
    )
    trends.add_argument(
        "--context", choices=("morning", "pre-shift"), help="the daily check-in (default: your usual one)"
    )
    trends.add_argument("--out", metavar="PNG", help="where to write the figure (restbeat-trends-DATE.png)")
    _add_db_option(trends)
    trends.set_defaults(handler=_trends)

    report = commands.add_parser(
        "report",
        help="a self-contained HTML report of a shift or a period (optionally PDF)",
        description=(
            "Write one HTML file with the figures inside (it opens offline): a shift (DATE or --last) or, "
            "by default, the last --days days with their shifts."
        ),
    )
    report.add_argument("--out", required=True, metavar="FILE.html", help="the report to write")
    report.add_argument("date", nargs="?", type=_date, help="report on the shift of this local date")
    report.add_argument("--last", action="store_true", help="report on the latest shift")
    report.add_argument("--days", type=_days, default=30, help="the period's length in days (30)")
    report.add_argument(
        "--to", dest="until", type=_date, metavar="DATE", help="the period's last day (today)"
    )
    report.add_argument("--pdf", action="store_true", help="also write FILE.pdf")
    _add_db_option(report)
    report.set_defaults(handler=_report)

    demo = commands.add_parser(
        "demo",
        help="a whole shift with an emulated strap: no strap needed",
        description=(
            "An emulated strap on a virtual Bluetooth link plays a scripted shift (calm, a stress episode, "
            "a prompt, paced breathing, recovery) through the live path into a throwaway database."
        ),
    )
    demo.add_argument("--db", metavar="PATH", help="record into this database instead of a throwaway one")
    demo.add_argument("--realtime", action="store_true", help="run at 1x (the shift takes about 45 min)")
    demo.add_argument("--speed", type=_positive, default=120.0, help="how much faster than real time (120)")
    demo.add_argument(
        "--seed", type=int, default=1, help="seed of the practice choice (default 1: paced breathing first)"
    )
    demo.add_argument(
        "--days",
        type=_days,
        metavar="N",
        help="instead of the live shift, record N days of shifts and check-ins (about 1 s a day)",
    )
    demo.set_defaults(handler=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    for stream in (sys.stdout, sys.stderr):  # a file name that is not UTF-8 is shown escaped, not a crash
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    try:
        return handler(args)
    except CommandError as error:
        print(f"restbeat {args.command}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"restbeat {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`restbeat sessions | head`): stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
