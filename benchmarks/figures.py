"""How long the after-work figures take: trends over 60 days and one shift's review, load + draw + PNG.

    python -m benchmarks.figures [--db PATH] [--repeats 5]

Data: the 60-day demo (``restbeat demo --days 60``, seed 1: 35 shifts, 130 check-ins, 1.2 M beats on
shift), recorded into a temporary database first (about 80 s) unless ``--db`` names one.  Each step is the
median of ``--repeats`` runs after a warm-up, in this process (matplotlib already imported).  Target: the
60-day trend figure, load + draw, under 2 s.  The review's baseline comes from up to 20 earlier shifts:
learned from their beats (the first time ever), from the lessons kept in the store (every later `restbeat
review` or `monitor`), or from memory (within one `restbeat report`).  ``--db`` is copied first: the
first-ever runs delete the kept lessons.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
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


def _row(name: str, load_s: float, draw_s: float, target: bool = False) -> list[str]:
    total = load_s + draw_s
    verdict = ("pass" if total < TARGET_S else "FAIL") if target else "-"
    timings = [format_seconds(load_s), format_seconds(draw_s), format_seconds(total)]
    return [name, *timings, f"< {TARGET_S:g} s" if target else "-", verdict]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="a database with the 60-day demo (default: record one)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "month.sqlite3"
        if args.db is not None:
            shutil.copy(args.db, path)
        conn = open_database(path)
        if args.db is None:
            started = time.perf_counter()
            fill_month(conn, DAYS, seed=1, last=LAST)
            print(f"recorded the {DAYS}-day demo in {time.perf_counter() - started:.0f} s\n")
        session = find_shift(conn, None)
        last = session.local_date
        trends = load_trends(conn, days=DAYS, today=last)
        learned: dict[int, LearnedShift] = {}
        review = load_review(conn, session, learned_before=learned)

        def first_ever() -> None:
            conn.execute("DELETE FROM lessons")
            load_review(conn, session)

        rows = [
            _row(
                f"trends, {DAYS} days",
                median_seconds(lambda: load_trends(conn, days=DAYS, today=last), args.repeats),
                median_seconds(lambda: png_bytes(trends_figure(trends)), args.repeats),
                target=True,
            )
        ]
        draw_s = median_seconds(lambda: png_bytes(review_figure(review)), args.repeats)
        rows += [
            _row(
                "review of a shift, first ever", median_seconds(first_ever, max(args.repeats // 2, 1)), draw_s
            ),
            _row(
                "review of a shift, lessons kept",
                median_seconds(lambda: load_review(conn, session), args.repeats),
                draw_s,
            ),
            _row(
                "review of a shift, in memory",
                median_seconds(lambda: load_review(conn, session, learned_before=learned), args.repeats),
                draw_s,
            ),
        ]
        conn.close()
    print(markdown_table(["figure", "load", "draw + PNG", "total", "target", "pass"], rows))


if __name__ == "__main__":
    main()
