"""The `restbeat` command.

Sub-commands import their heavy dependencies (numpy, scipy, wfdb, ...) only when they run, so
``restbeat --help`` and ``restbeat --version`` stay fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from restbeat import __version__

Handler = Callable[[argparse.Namespace], int]


class CommandError(Exception):
    """A user-facing failure: printed as one line, exit status 1."""


def _analyze(args: argparse.Namespace) -> int:
    from restbeat.app.analyze import analyze_file
    from restbeat.devices.files import RecordingError
    from restbeat.ui.analysis_view import render_json, render_table

    try:
        analysis = analyze_file(args.file, spectrum_method=args.spectrum, correct=args.correct)
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
        help="HRV metrics of an RR recording (plain RR text or WFDB beat annotations)",
        description="Read an RR recording, detect and correct artifacts (Lipponen & Tarvainen 2019) and "
        "print its time, frequency and nonlinear HRV metrics with the artifacts found per class.",
    )
    analyze.add_argument("file", help="RR text (one interval in ms per line) or a WFDB record/annotation")
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
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


if __name__ == "__main__":
    sys.exit(main())
