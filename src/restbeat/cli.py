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
    scan.set_defaults(handler=_scan)
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
