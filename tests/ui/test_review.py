"""The review figure and text, checked on what they show: the series and the band plotted, one marker per
prompt, every practice and note, the periods labelled, units on the axes, local clock times."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from typing import Any

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from restbeat.app.review import (
    POST_SHIFT,
    PRE_SHIFT,
    SHIFT,
    Effect,
    PracticeDone,
    ShiftReview,
    find_shift,
    load_review,
)
from restbeat.store.queries import session_records
from restbeat.ui.plots import png_bytes
from restbeat.ui.review_figure import PROMPT_STYLE, review_figure, review_text

NIGHT_SHIFT = dt.date(2026, 3, 4)  # 4 prompts (3 accepted, 1 snoozed), 3 practices, a note, a link drop
DISMISSED_SHIFT = dt.date(2026, 3, 5)  # a night shift with a dismissed prompt
EXPIRED_SHIFT = dt.date(2026, 3, 8)  # a day shift with a prompt left to expire


@pytest.fixture(scope="module")
def review(month_conn: sqlite3.Connection) -> ShiftReview:
    return load_review(month_conn, find_shift(month_conn, NIGHT_SHIFT))


@pytest.fixture(scope="module")
def figure(review: ShiftReview) -> Figure:
    return review_figure(review)


def _axes(figure: Figure) -> tuple[Axes, Axes, Axes]:
    lane, top, bottom = figure.axes
    return lane, top, bottom


def _by_gid(axes: Axes, gid: str) -> list[Any]:
    artists = [*axes.lines, *axes.patches, *axes.collections, *axes.texts]
    return [a for a in artists if (a.get_gid() or "") == gid]


def _same(drawn: Any, expected: np.ndarray) -> None:
    np.testing.assert_array_equal(np.asarray(drawn, dtype=np.float64), expected)  # NaN-aware


def test_the_lines_are_the_reviews_series(review: ShiftReview, figure: Figure) -> None:
    _, top, bottom = _axes(figure)
    (rmssd,) = _by_gid(top, "rmssd")
    (hr,) = _by_gid(bottom, "hr")
    assert isinstance(rmssd, Line2D) and isinstance(hr, Line2D)
    _same(rmssd.get_ydata(), review.series.rmssd_ms)
    _same(hr.get_ydata(), review.series.hr_bpm)
    _same(rmssd.get_xdata(), review.series.t_s / 3600.0)
    assert np.isfinite(review.series.rmssd_ms).sum() > 5000
    assert top.get_yscale() == "log"


def test_the_band_drawn_is_the_usual_range(review: ShiftReview, figure: Figure) -> None:
    _, top, bottom = _axes(figure)
    for axes, gid, low, high in (
        (top, "rmssd-band", review.series.band_low_ms, review.series.band_high_ms),
        (bottom, "hr-band", review.series.hr_band_low_bpm, review.series.hr_band_high_bpm),
    ):
        (band,) = _by_gid(axes, gid)
        assert isinstance(band, PolyCollection)
        vertices = np.concatenate([path.vertices for path in band.get_paths()])
        finite = np.isfinite(low)
        assert set(np.round(vertices[:, 1], 9)) == set(
            np.round(np.concatenate([low[finite], high[finite]]), 9)
        )
        assert vertices[:, 0].min() == pytest.approx(review.series.t_s[finite].min() / 3600.0)
        assert vertices[:, 0].max() == pytest.approx(review.series.t_s[finite].max() / 3600.0)
    assert any("usual range" in text.get_text() for text in figure.legends[0].get_texts())


def test_one_marker_per_stored_prompt_shaped_by_the_answer(
    month_conn: sqlite3.Connection, review: ShiftReview, figure: Figure
) -> None:
    _, top, _ = _axes(figure)
    stored = session_records(month_conn, "prompts", review.session.id)
    markers = [line for line in top.lines if (line.get_gid() or "").startswith("prompts-")]
    assert sum(np.asarray(line.get_xdata()).size for line in markers) == len(stored) == 4
    shapes = {line.get_gid(): line.get_marker() for line in markers}
    assert shapes == {
        f"prompts-{answer}": PROMPT_STYLE[answer][0] for answer in {p["response"] for p in stored}
    }
    answers = {p["response"] for p in stored}
    assert len(answers) >= 2  # more than one shape to tell apart
    legend = {text.get_text() for text in figure.legends[0].get_texts()}
    assert {f"prompt {answer}" for answer in answers} <= legend


def test_every_answer_of_the_month_has_its_own_marker(month_conn: sqlite3.Connection) -> None:
    """Across the month's shifts every answer a person can give appears, each drawn with its own shape."""
    seen: set[str] = set()
    for day in (NIGHT_SHIFT, DISMISSED_SHIFT, EXPIRED_SHIFT):
        review = load_review(month_conn, find_shift(month_conn, day))
        stored = session_records(month_conn, "prompts", review.session.id)
        top = _axes(review_figure(review))[1]
        markers = [line for line in top.lines if (line.get_gid() or "").startswith("prompts-")]
        assert sum(np.asarray(line.get_xdata()).size for line in markers) == len(stored)
        for line in markers:
            answer = (line.get_gid() or "").removeprefix("prompts-")
            assert line.get_marker() == PROMPT_STYLE[answer][0]
            seen.add(answer)
    assert seen == {"accepted", "dismissed", "snoozed", "expired"}
    assert len({PROMPT_STYLE[answer][0] for answer in seen}) == len(seen)


def test_every_practice_and_note_is_drawn_and_listed(
    month_conn: sqlite3.Connection, review: ShiftReview, figure: Figure
) -> None:
    _, top, _ = _axes(figure)
    outcomes = session_records(month_conn, "outcomes", review.session.id)
    notes = session_records(month_conn, "annotations", review.session.id)
    spans = _by_gid(top, "practice")
    assert len(spans) == len(review.practices) == len(outcomes) == 3
    starts = sorted(span.get_x() for span in spans if isinstance(span, Rectangle))
    assert starts == pytest.approx(sorted(o["started_t_s"] / 3600.0 for o in outcomes))
    labels = [text.get_text() for text in _by_gid(top, "practice-label")]
    assert labels == [
        f"{n}: RMSSD {p.effect.rmssd_before_ms:.0f}→{p.effect.rmssd_after_ms:.0f} ms"
        for n, p in enumerate(review.practices, 1)
    ]
    (flags,) = _by_gid(top, "notes")
    assert np.asarray(flags.get_xdata()).size == len(notes) == 1
    legend = [text.get_text() for text in figure.legends[0].get_texts()]
    assert any(text.startswith("a ") and notes[0]["text"][:30] in text for text in legend)


def test_the_periods_are_labelled(figure: Figure) -> None:
    lane, _, _ = _axes(figure)
    assert {text.get_text() for text in lane.texts} == {"pre-shift", "on-shift", "post-shift"}
    assert [label.get_text() for label in lane.get_yticklabels()] == ["session", "state", "moving"]


def test_every_axis_says_its_unit(figure: Figure) -> None:
    _, top, bottom = _axes(figure)
    assert top.get_ylabel() == "60-s RMSSD (ms, log scale)"
    assert bottom.get_ylabel() == "HR (bpm)"
    assert bottom.get_xlabel() == "local time (UTC+00:00)"


def test_times_are_on_the_persons_local_clock(review: ShiftReview) -> None:
    """The same shift recorded at UTC+05:30: it starts at 03:30 on the axis, not at the UTC 22:00, and the
    ticks fall on whole hours of that clock (half-hours of UTC)."""
    zone = dt.timezone(dt.timedelta(hours=5, minutes=30))
    session = dataclasses.replace(review.session, tz_offset_s=5 * 3600 + 1800)
    shifted = dataclasses.replace(review, session=session, zone=zone)
    figure = review_figure(shifted)
    _, _, bottom = _axes(figure)
    figure.canvas.draw()
    formatter = bottom.xaxis.get_major_formatter()
    ticks = list(bottom.get_xticks())
    assert formatter(0.0, 0) == f"{session.local_start:%H:%M}" == "03:30"
    assert [formatter(tick, 0) for tick in ticks[:3]] == ["04:00", "05:00", "06:00"]
    assert all(tick % 1.0 == pytest.approx(0.5) for tick in ticks)  # hours from the start, on the half
    left, _ = bottom.get_xlim()
    assert left < min(p.start_s for p in review.periods) / 3600.0 <= ticks[0]
    assert bottom.get_xlabel() == "local time (UTC+05:30)"
    assert "03:30-11:30 (UTC+05:30)" in review_text(shifted)[0]


def test_strain_and_the_gaps_are_shaded(review: ShiftReview, figure: Figure) -> None:
    _, top, bottom = _axes(figure)
    strained = review.series.where(np.asarray(review.series.state) == "strained")
    assert strained
    for axes in (top, bottom):
        shaded = sorted((r.get_x(), r.get_x() + r.get_width()) for r in _by_gid(axes, "strained"))
        assert np.allclose(shaded, np.asarray(strained) / 3600.0)
        hatched = [p for p in axes.patches if (p.get_gid() or "").startswith("span-")]
        assert len(hatched) == len(review.spans) > 0
        assert all(p.get_hatch() for p in hatched)


def test_crowded_practices_are_numbered_and_their_effects_listed(review: ShiftReview) -> None:
    effect = Effect(rmssd_before_ms=12.0, rmssd_after_ms=30.0, delta_ln_rmssd=0.9)
    crowded = tuple(
        PracticeDone(
            3600.0 + 300.0 * i, 3720.0 + 300.0 * i, "paced-breathing", "Paced breathing", True, effect
        )
        for i in range(8)
    )
    figure = review_figure(dataclasses.replace(review, practices=crowded))
    _, top, _ = _axes(figure)
    assert [t.get_text() for t in _by_gid(top, "practice-label")] == [str(n) for n in range(1, 9)]
    legend = [text.get_text() for text in figure.legends[0].get_texts()]
    assert sum("paced breathing: RMSSD 12→30 ms" in text for text in legend) == 8


def test_a_shift_with_nothing_around_it_still_draws(review: ShiftReview) -> None:
    bare = dataclasses.replace(
        review,
        periods=tuple(p for p in review.periods if p.context == SHIFT),
        prompts=(),
        practices=(),
        notes=(),
        summary=dataclasses.replace(review.summary, recovery=None, recovery_note="no post-shift session"),
    )
    figure = review_figure(bare)
    lane, top, _ = _axes(figure)
    assert {text.get_text() for text in lane.texts} == {"on-shift"}
    assert not _by_gid(top, "practice") and not _by_gid(top, "after-value")
    assert png_bytes(figure).startswith(b"\x89PNG")
    assert "After the shift: no post-shift session." in review_text(bare)


def test_the_figure_renders_to_png(figure: Figure) -> None:
    png = png_bytes(figure)
    assert png.startswith(b"\x89PNG") and len(png) > 50_000
    width, height = figure.get_size_inches()
    assert (width, height) == (12.0, 6.0)


def test_the_text_gives_the_numbers_with_their_units(review: ShiftReview) -> None:
    lines = review_text(review)
    text = "\n".join(lines)
    summary = review.summary
    assert lines[0].startswith("Wed 04 Mar 2026: night shift 22:00-06:00")
    assert lines[1].startswith(f"Strained {round(summary.strained_s / 60) // 60} h")
    lowest = summary.lowest
    assert lowest is not None
    assert f"Lowest 5 min at rest: 60-s RMSSD {lowest.rmssd_ms:.0f} ms" in text
    assert "Prompts: 4 (3 accepted, 1 snoozed); 3 practices measured:" in text
    assert sum(line.startswith(("  1. ", "  2. ", "  3. ", "  4. ")) for line in lines) == 3
    recovery = summary.recovery
    assert recovery is not None and recovery.reference is not None
    assert (
        f"After the shift: RMSSD {recovery.value.rmssd_ms:.0f} ms, HR {recovery.value.hr_bpm:.0f} bpm" in text
    )
    assert f"your usual after a shift {recovery.reference.rmssd_ms:.0f} ms" in text
    assert f"Notes: {review.local(review.notes[0].t_s):%H:%M} {review.notes[0].text}." in lines
    assert "link drop at" in text
    for context in (PRE_SHIFT, POST_SHIFT):
        assert any(p.context == context for p in review.periods)


@pytest.mark.parametrize(("minutes", "step"), [(40, 10), (150, 15), (240, 30)])
def test_a_short_session_gets_a_tick_every_few_minutes(review: ShiftReview, minutes: int, step: int) -> None:
    """A session under 5 h is ticked every 10-30 min of the local clock, so its axis still reads."""
    shift = next(p for p in review.periods if p.context == SHIFT)
    period = dataclasses.replace(shift, end_s=minutes * 60.0)
    short = dataclasses.replace(review, periods=(period,), prompts=(), practices=(), notes=())
    figure = review_figure(short)
    _, _, bottom = _axes(figure)
    labels = [bottom.xaxis.get_major_formatter()(tick, 0) for tick in bottom.get_xticks()]
    assert len(labels) >= 3
    assert all(int(label[3:]) % step == 0 for label in labels)
    assert len(set(labels)) == len(labels)
