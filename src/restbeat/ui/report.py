"""`restbeat report`: one self-contained HTML file (figures embedded as PNG, styles inline, nothing fetched
when it is opened) of a shift or a period, and optionally the same as a PDF.

A report is a title, a line saying what it covers, and sections, each a figure with its alt text and the
plain-language lines that go with it.  Every report ends with what restbeat is not: a wellbeing tool, not a
medical device.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from restbeat import __version__
from restbeat.app.private_files import open_private, write_private

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from restbeat.app.review import ShiftReview
    from restbeat.app.trends import Trends

NOT_A_MEDICAL_DEVICE = (
    "restbeat is a wellbeing tool, not a medical device. It does not diagnose, treat or prevent any "
    "condition. If low recovery goes on, or you are worried about your health, talk to your doctor, "
    "occupational health or another professional."
)


@dataclass(frozen=True, slots=True)
class Section:
    """One part of a report: a heading, a figure (PNG bytes) described by ``alt``, and its text lines."""

    heading: str
    png: bytes
    alt: str
    lines: tuple[str, ...]
    figure: Figure | None = None  # kept for the PDF, which draws it as vectors


@dataclass(frozen=True, slots=True)
class Report:
    """What a report holds (``generated`` is local time)."""

    title: str
    covers: str
    sections: tuple[Section, ...]
    generated: dt.datetime


_STYLE = """
:root { color-scheme: light; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a;
       background: #ffffff; max-width: 1180px; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 2px solid #0072B2; padding-bottom: 0.2rem; }
p.covers { color: #444444; margin-top: 0; }
figure { margin: 1rem 0; }
figure img { width: 100%; height: auto; border: 1px solid #dddddd; }
ul.summary { padding-left: 1.2rem; }
ul.summary li { margin: 0.25rem 0; }
aside.notice { margin-top: 2.5rem; padding: 0.8rem 1rem; border-left: 6px solid #E69F00;
               background: #fff8e6; }
footer { margin-top: 1.5rem; color: #555555; font-size: 0.9rem; }
@media print { body { margin: 0; max-width: none; } h2 { break-before: page; } }
"""


def report_html(report: Report) -> str:
    """The report as one HTML document, its figures inline (data: URLs), readable offline."""
    parts = [
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(report.title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>{html.escape(report.title)}</h1>",
        f'<p class="covers">{html.escape(report.covers)}</p>',
    ]
    for section in report.sections:
        encoded = base64.b64encode(section.png).decode("ascii")
        parts += [
            "<section>",
            f"<h2>{html.escape(section.heading)}</h2>",
            '<ul class="summary">',
            *(f"<li>{html.escape(line)}</li>" for line in section.lines),
            "</ul>",
            "<figure>",
            f'<img src="data:image/png;base64,{encoded}" alt="{html.escape(section.alt, quote=True)}">',
            f"<figcaption>{html.escape(section.alt)}</figcaption>",
            "</figure>",
            "</section>",
        ]
    parts += [
        f'<aside class="notice" role="note"><strong>Please note.</strong> {html.escape(NOT_A_MEDICAL_DEVICE)}'
        "</aside>",
        f"<footer>Made by restbeat {html.escape(__version__)} on "
        f"{report.generated:%d %B %Y at %H:%M} (your local time, UTC{_offset(report.generated)}).</footer>",
        "</main>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _offset(moment: dt.datetime) -> str:
    offset = moment.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def write_report(report: Report, out: Path, pdf: bool = False) -> list[Path]:
    """Write the HTML (and with ``pdf`` the PDF beside it, same name); returns the paths written."""
    write_private(out, report_html(report))  # 0600, like the database
    written = [out]
    if pdf:
        target = out.with_suffix(".pdf")
        write_pdf(report, target)
        written.append(target)
    return written


def write_pdf(report: Report, out: Path) -> None:
    """The report as a PDF: per section a page of text then the figure (A4 landscape)."""
    from matplotlib.backends.backend_pdf import PdfPages

    from restbeat.ui.plots import pyplot_free_figure

    with (
        open_private(out, binary=True, exclusive=False) as handle,
        PdfPages(handle, metadata={"Title": report.title, "Creator": f"restbeat {__version__}"}) as pages,
    ):
        for index, section in enumerate(report.sections):
            page = pyplot_free_figure(11.69, 8.27)
            heading = report.title if index == 0 else section.heading
            lines = [report.covers, "", section.heading] if index == 0 else []
            page.text(0.05, 0.94, heading, fontsize=18, weight="bold", va="top")
            body = [*lines, *(f"• {line}" for line in section.lines)]
            if index == len(report.sections) - 1:
                body += ["", NOT_A_MEDICAL_DEVICE]
            page.text(0.05, 0.86, _wrap(body, 120), fontsize=11, va="top", linespacing=1.5)
            pages.savefig(page)
            if section.figure is not None:
                pages.savefig(section.figure)


def _wrap(lines: Sequence[str], width: int) -> str:
    import textwrap

    wrapped: list[str] = []
    for line in lines:
        wrapped += textwrap.wrap(line, width, subsequent_indent="   ") or [""]
    return "\n".join(wrapped)


# -- what goes in a report ----------------------------------------------------------------------------------


def shift_section(review: ShiftReview) -> Section:
    """A shift's figure and its summary lines."""
    from restbeat.ui.plots import png_bytes
    from restbeat.ui.review_figure import review_figure, review_text

    figure = review_figure(review)
    kind = "night" if review.night else "day"
    start, end = review.local(0.0), review.local(review.end_s)
    alt = (
        f"The {kind} shift of {start:%d %B %Y}, {start:%H:%M} to {end:%H:%M}: 60-second RMSSD (ms) and heart "
        "rate (bpm) over the shift against the usual range, with prompts, practices, notes, low-quality "
        "stretches and the check-ins before and after."
    )
    lines = tuple(review_text(review))
    return Section(f"The shift of {start:%A %d %B %Y}", png_bytes(figure), alt, lines, figure)


def trends_section(trends: Trends) -> Section:
    """The period's trends figure and its summary lines."""
    from restbeat.ui.plots import png_bytes
    from restbeat.ui.trends_figure import trends_figure, trends_text

    figure = trends_figure(trends)
    # the report ends with its own not-a-medical-device notice
    lines = tuple(line for line in trends_text(trends) if not line.startswith("restbeat is a wellbeing tool"))
    alt = (
        f"Day by day from {trends.first:%d %B} to {trends.last:%d %B %Y}: the {trends.context} check-in's "
        "lnRMSSD with its 7-day mean against the 60-day normal range, resting heart rate (bpm), day-to-day "
        "variation (%), day and night shifts compared, and the practices ranked by their measured effect."
    )
    return Section(
        f"Your recovery, {trends.first:%d %b} - {trends.last:%d %b %Y}",
        png_bytes(figure),
        alt,
        lines,
        figure,
    )


def shift_report(conn: sqlite3.Connection, day: dt.date | None) -> Report:
    """The report of the shift on local date ``day`` (the latest when None)."""
    from restbeat.app.review import find_shift, load_review

    review = load_review(conn, find_shift(conn, day))
    start, end = review.local(0.0), review.local(review.end_s)
    covers = (
        f"{'Night' if review.night else 'Day'} shift from {start:%d %B %Y %H:%M} to {end:%H:%M}, in your "
        f"local time (UTC{_offset(start)})."
    )
    return Report(f"restbeat: your shift of {start:%d %B %Y}", covers, (shift_section(review),), _now())


def period_report(conn: sqlite3.Connection, days: int, last: dt.date | None = None) -> Report:
    """The report of the ``days`` days up to ``last`` (today when None): the trends, then the latest shift
    in them."""
    from restbeat.app.review import find_shift, load_review
    from restbeat.app.trends import load_trends
    from restbeat.store.queries import list_sessions

    trends = load_trends(conn, days=days, today=last)
    sections = [trends_section(trends)]
    shifts = [s for s in list_sessions(conn, trends.first, trends.last, context="on-shift")]
    if shifts:
        sections.append(shift_section(load_review(conn, find_shift(conn, shifts[-1].local_date))))
    covers = (
        f"{trends.first:%d %B} to {trends.last:%d %B %Y} ({days} days), dates in your local time; "
        f"{trends.measured} days with a check-in, {len(trends.shifts)} shifts."
    )
    title = f"restbeat: your recovery, {trends.first:%d %b} - {trends.last:%d %b %Y}"
    return Report(title, covers, tuple(sections), _now())


def _now() -> dt.datetime:
    return dt.datetime.now().astimezone()
