"""How long the after-work figures take: trends over 60 days and one shift's review, load + draw + PNG.

    python -m benchmarks.figures [--db PATH] [--repeats 5]

Data: the 60-day demo (``restbeat demo --days 60``, seed 1: 35 shifts, 130 check-ins, 1.2 M beats on
shift), recorded into a temporary database first (about 80 s) unless ``--db`` names one.  Each step is the
median of ``--repeats`` runs after a warm-up, in this process (matplotlib already imported).  Target: the
60-day trend figure, load + draw, under 2 s.  The review is shown cold (past shifts learned from their
beats, as a first `restbeat review` does) and warm (learned already, as within `restbeat report`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from benchmarks._timing import format_seconds, markdown_table, median_seconds
from restbeat.app.demo_month import fill_month
from restbeat.app.replay import LearnedShift
from restbeat.app.review import find_shift, load_review
from restbeat.app.trends import load_trends
from restbeat.store.database import open_database
from restbeat.ui.plots import png_bytes
from restbeat.ui.review_figure import review_figure
from restbeat.ui.trends_figure import trends_figure

DAYS = 60
LAST = dt.date(2026, 3, 11)
TARGET_S = 2.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="a database with the 60-day demo (default: record one)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "month.sqlite3"
        conn = open_database(path)
        last = LAST
        if args.db is None:
            started = time.perf_counter()
            fill_month(conn, DAYS, seed=1, last=LAST)
            print(f"recorded the {DAYS}-day demo in {time.perf_counter() - started:.0f} s\n")
        else:
            shifts = find_shift(conn, None)
            last = shifts.local_date
        trends = load_trends(conn, days=DAYS, today=last)
        session = find_shift(conn, None)
        learned: dict[int, LearnedShift] = {}
        review = load_review(conn, session, learned_before=learned)
        load_trends_s = median_seconds(lambda: load_trends(conn, days=DAYS, today=last), args.repeats)
        draw_trends_s = median_seconds(lambda: png_bytes(trends_figure(trends)), args.repeats)
        cold_review_s = median_seconds(lambda: load_review(conn, session), max(args.repeats // 2, 1))
        warm_review_s = median_seconds(
            lambda: load_review(conn, session, learned_before=learned), args.repeats
        )
        draw_review_s = median_seconds(lambda: png_bytes(review_figure(review)), args.repeats)
        conn.close()
    total = load_trends_s + draw_trends_s
    rows = [
        [
            f"trends, {DAYS} days",
            format_seconds(load_trends_s),
            format_seconds(draw_trends_s),
            format_seconds(total),
            f"< {TARGET_S:g} s",
            "pass" if total < TARGET_S else "FAIL",
        ],
        [
            "review, one 8-h shift (cold)",
            format_seconds(cold_review_s),
            format_seconds(draw_review_s),
            format_seconds(cold_review_s + draw_review_s),
            "-",
            "-",
        ],
        [
            "review, one 8-h shift (warm)",
            format_seconds(warm_review_s),
            format_seconds(draw_review_s),
            format_seconds(warm_review_s + draw_review_s),
            "-",
            "-",
        ],
    ]
    print(markdown_table(["figure", "load", "draw + PNG", "total", "target", "pass"], rows))


if __name__ == "__main__":
    main()
