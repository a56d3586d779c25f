"""The review of one shift: a figure (60-s RMSSD and HR against the person's usual, the state, the data's
gaps, prompts, practices and notes, in local clock time) and the short text beside it.

Only `restbeat review` and `restbeat report` import this module; matplotlib is loaded here, never by
:mod:`restbeat.app.review`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from restbeat.app.review import (
    POST_SHIFT,
    PRE_SHIFT,
    SHIFT,
    Against,
    PracticeDone,
    ShiftReview,
    SpanKind,
)
from restbeat.recovery.assess import Gate, State
from restbeat.recovery.baseline import ReferenceSource
from restbeat.ui.plots import (
    BLACK,
    GOOD,
    GREY,
    HR,
    HRV,
    LOW,
    NO_DATA,
    NORMAL_BAND,
    NOTE,
    pyplot_free_figure,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

WIDTH_IN, HEIGHT_IN = 12.0, 6.0
#: How each answer to a prompt is drawn: marker, filled, legend label (shape carries the meaning).
PROMPT_STYLE = {
    "accepted": ("v", True, "prompt accepted"),
    "dismissed": ("X", True, "prompt dismissed"),
    "snoozed": ("s", False, "prompt snoozed"),
    "expired": ("o", False, "prompt expired"),
    "unanswered": ("o", False, "prompt unanswered"),
}
PERIOD_LABEL = {PRE_SHIFT: "pre-shift", SHIFT: "on-shift", POST_SHIFT: "post-shift"}
HATCH = {SpanKind.NO_DATA: "////", SpanKind.LOW_QUALITY: "xxxx"}
NO_CLEAR_CHANGE_LN = 0.1  # |delta lnRMSSD| below this is "no clear change" (as the live screen says)
_TOP_ROOM = 0.24  # share of the RMSSD axis kept free above the data for the markers and labels
_CHAR_IN = 0.062  # width of one character of the small labels (in), to keep them from colliding


def _h(t_s: float) -> float:
    """The x coordinate: hours from the shift's start (the ticks say the local clock time)."""
    return t_s / 3600.0


# -- the figure ------------------------------------------------------------------------------------------


def review_figure(review: ShiftReview) -> Figure:
    """The shift in one 12 x 6 in figure: a lane of periods, state and movement; 60-s RMSSD (ms, log
    scale) over the usual range with prompts, practices, notes and the lowest 5 min; 60-s HR (bpm)."""
    figure = pyplot_free_figure(WIDTH_IN, HEIGHT_IN)
    grid = figure.add_gridspec(3, 1, height_ratios=(0.7, 3.0, 1.4))
    lane = figure.add_subplot(grid[0])
    top = figure.add_subplot(grid[1], sharex=lane)
    bottom = figure.add_subplot(grid[2], sharex=lane)
    x = review.series.t_s / 3600.0
    _lane(lane, review)
    handles = _rmssd(top, review, x)
    handles += _hr(bottom, review, x)
    for axes in (top, bottom):
        _shade(axes, review)
    first = min(p.start_s for p in review.periods)
    last = max(p.end_s for p in review.periods)
    pad = 0.01 * (last - first)
    lane.set_xlim(_h(first - pad), _h(last + pad))
    _clock_axis(bottom, review, first - pad, last + pad)
    for axes in (lane, top):
        axes.tick_params(labelbottom=False)
    bottom.set_xlabel(f"local time ({_utc_offset(review.zone)})")
    figure.suptitle(_title(review), fontsize=12, fontweight="bold")
    handles += _shade_handles(review)
    handles += _note_handles(review)
    handles += _practice_handles(review, effects_shown=_effects_fit(review))
    figure.legend(
        handles=handles,
        loc="outside lower center",
        ncol=4,
        fontsize=7.5,
        frameon=False,
        handlelength=1.6,
        columnspacing=1.2,
    )
    return figure


def _clock_axis(axes: Axes, review: ShiftReview, first_s: float, last_s: float) -> None:
    """x in hours from the shift's start, ticked at round times of the person's local clock: whole hours
    (every 2 h past 14 h), or every 10-30 min for a short session, so there are always a few ticks."""
    from matplotlib.ticker import FixedLocator, FuncFormatter

    start = review.local(first_s)
    whole = start.replace(minute=0, second=0, microsecond=0)
    span_h = (last_s - first_s) / 3600.0
    step_min = (
        10 if span_h <= 1.5 else 15 if span_h <= 3 else 30 if span_h <= 5 else 60 if span_h <= 14 else 120
    )
    ticks = []
    moment = whole
    while moment <= review.local(last_s):
        if moment >= start:
            ticks.append((moment.timestamp() - review.session.started_utc) / 3600.0)
        moment += dt.timedelta(minutes=step_min)
    axes.xaxis.set_major_locator(FixedLocator(ticks))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda hours, _: f"{review.local(hours * 3600.0):%H:%M}"))


def _lane(axes: Axes, review: ShiftReview) -> None:
    """Three rows: the sessions (pre-shift, on-shift, post-shift), the state, and moving."""
    from matplotlib.patches import Rectangle

    axes.set_ylim(0.0, 3.0)
    axes.set_yticks([2.5, 1.5, 0.5], ["session", "state", "moving"], fontsize=8)
    axes.tick_params(axis="y", length=0)
    for spine in ("top", "right", "left"):
        axes.spines[spine].set_visible(False)
    span = max(p.end_s for p in review.periods) - min(p.start_s for p in review.periods)
    for period in review.periods:
        shift = period.context == SHIFT
        axes.add_patch(
            Rectangle(
                (_h(period.start_s), 2.12),
                _h(period.end_s) - _h(period.start_s),
                0.76,
                facecolor="#e6e6e6" if shift else "#cccccc",
                edgecolor=GREY,
                linewidth=0.6,
            )
        )
        label = PERIOD_LABEL.get(period.context, period.context)
        wide = (period.end_s - period.start_s) / span > 0.1
        if wide:
            axes.text(
                _h((period.start_s + period.end_s) / 2), 2.5, label, ha="center", va="center", fontsize=8
            )
        elif period.start_s < 0:
            axes.text(_h(period.end_s + 0.004 * span), 2.5, label, ha="left", va="center", fontsize=8)
        else:
            axes.text(_h(period.start_s - 0.004 * span), 2.5, label, ha="right", va="center", fontsize=8)
    series = review.series
    state = np.asarray(series.state)
    styles: tuple[tuple[State, dict[str, Any]], ...] = (
        (State.STRAINED, {"facecolor": LOW, "edgecolor": LOW}),
        (State.RECOVERING, {"facecolor": "white", "edgecolor": GOOD, "hatch": "////"}),
    )
    for value, style in styles:
        for start, end in series.where(state == str(value)):
            axes.add_patch(Rectangle((_h(start), 1.15), _h(end) - _h(start), 0.7, linewidth=0.5, **style))
    gate = np.asarray(series.gate)
    moving = np.isin(gate, [str(Gate.EFFORT), str(Gate.AFTER_EFFORT)])
    for start, end in series.where(moving):
        axes.add_patch(Rectangle((_h(start), 0.3), _h(end) - _h(start), 0.4, facecolor=GREY, linewidth=0))


def _rmssd(axes: Axes, review: ShiftReview, x: NDArray[np.float64]) -> list[Any]:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator, ScalarFormatter

    series = review.series
    axes.set_yscale("log")
    source = review.summary.reference
    learning = source == str(ReferenceSource.POPULATION)
    band_label = "published norms (still learning you)" if learning else "your usual range (median ± 1 SD)"
    axes.fill_between(
        x,
        series.band_low_ms,
        series.band_high_ms,
        color=NORMAL_BAND,
        alpha=0.35,
        linewidth=0,
        gid="rmssd-band",
        label=band_label,
    )
    (line,) = axes.plot(x, series.rmssd_ms, color=HRV, linewidth=0.9, gid="rmssd", label="60-s RMSSD")
    handles: list[Any] = [line, Patch(facecolor=NORMAL_BAND, alpha=0.35, label=band_label)]
    values = np.concatenate([series.rmssd_ms, series.band_low_ms, series.band_high_ms, _after_values(review)])
    values = values[np.isfinite(values) & (values > 0)]
    low, high = (float(values.min()), float(values.max())) if values.size else (10.0, 100.0)
    low, high = low / 1.15, high * 1.1
    room = _TOP_ROOM / (1.0 - _TOP_ROOM) * math.log(high / low)
    axes.set_ylim(low, high * math.exp(room))
    ticks = [t for t in (2, 3, 5, 10, 20, 30, 50, 100, 200, 300, 500) if low <= t <= high]
    axes.yaxis.set_major_locator(FixedLocator(ticks))
    axes.yaxis.set_major_formatter(ScalarFormatter())
    axes.yaxis.set_minor_locator(NullLocator())
    axes.yaxis.set_minor_formatter(NullFormatter())
    axes.set_ylabel("60-s RMSSD (ms, log scale)")
    axes.grid(axis="y", color="#dddddd", linewidth=0.5)
    lowest = review.summary.lowest
    if lowest is not None:
        axes.plot(
            [_h(lowest.start_s), _h(lowest.end_s)],
            [lowest.rmssd_ms, lowest.rmssd_ms],
            color=BLACK,
            linewidth=3.0,
            solid_capstyle="butt",
            gid="lowest",
        )
    handles += _after_marks(axes, review)
    handles += _prompt_marks(axes, review)
    _practice_marks(axes, review)
    _note_marks(axes, review)
    if lowest is not None:
        label = f"lowest 5 min at rest: {lowest.rmssd_ms:.0f} ms at {review.local(lowest.start_s):%H:%M}"
        handles.append(Line2D([], [], color=BLACK, linewidth=3.0, label=label))
    return handles


def _after_values(review: ShiftReview) -> NDArray[np.float64]:
    recovery = review.summary.recovery
    if recovery is None:
        return np.empty(0)
    out = [recovery.value.rmssd_ms]
    if recovery.reference is not None:
        out.append(recovery.reference.rmssd_ms)
    return np.asarray(out, dtype=np.float64)


def _after_marks(axes: Axes, review: ShiftReview) -> list[Any]:
    """The post-shift value (a diamond) and what it is compared with (a dashed level) over the period."""
    from matplotlib.lines import Line2D

    recovery = review.summary.recovery
    post = [p for p in review.periods if p.context == POST_SHIFT]
    if recovery is None or not post:
        return []
    period = post[0]
    middle = _h((period.start_s + period.end_s) / 2)
    handles: list[Any] = []
    if recovery.reference is not None and recovery.against is not None:
        label = (
            "your usual after a shift"
            if recovery.against is Against.USUAL_AFTER
            else "today's pre-shift check-in"
        )
        axes.plot(
            [_h(period.start_s - 120.0), _h(period.end_s + 120.0)],
            [recovery.reference.rmssd_ms] * 2,
            color=BLACK,
            linestyle="--",
            linewidth=1.2,
            gid="after-reference",
        )
        handles.append(Line2D([], [], color=BLACK, linestyle="--", label=label))
    axes.plot(
        [middle],
        [recovery.value.rmssd_ms],
        marker="D",
        markersize=7,
        color=HRV,
        markeredgecolor=BLACK,
        linestyle="none",
        gid="after-value",
    )
    handles.append(
        Line2D(
            [], [], marker="D", color=HRV, markeredgecolor=BLACK, linestyle="none", label="after the shift"
        )
    )
    return handles


def _prompt_marks(axes: Axes, review: ShiftReview) -> list[Any]:
    from matplotlib.lines import Line2D

    transform = axes.get_xaxis_transform()
    handles = []
    by_answer: dict[str, list[float]] = {}
    for prompt in review.prompts:
        by_answer.setdefault(prompt.response, []).append(_h(prompt.t_s))
    for answer, xs in by_answer.items():
        marker, filled, label = PROMPT_STYLE.get(answer, ("o", False, f"prompt {answer}"))
        style: dict[str, Any] = {
            "marker": marker,
            "markersize": 8,
            "markerfacecolor": BLACK if filled else "white",
            "markeredgecolor": BLACK,
            "linestyle": "none",
        }
        axes.plot(xs, [0.95] * len(xs), transform=transform, gid=f"prompts-{answer}", clip_on=False, **style)
        handles.append(Line2D([], [], label=label, **style))
    return handles


def _practice_labels(review: ShiftReview) -> list[tuple[str, int, bool]]:
    """Each practice's label, row (0 or 1) above the data and whether it is right-aligned at the span's
    end (near the right edge): number and effect when these fit in two rows without touching, else the
    number alone (the legend then gives the effect)."""
    first = min(p.start_s for p in review.periods)
    last = max(p.end_s for p in review.periods)
    width_in = WIDTH_IN * 0.86  # the axes are about 86 % of the figure's width
    per_s = width_in / max(last - first, 1.0)

    def place(labels: list[str]) -> list[tuple[str, int, bool]] | None:
        ends = [-math.inf, -math.inf]
        placed = []
        for practice, label in zip(review.practices, labels, strict=True):
            width = len(label) * _CHAR_IN
            left = (practice.start_s - first) * per_s
            right = left + width > width_in
            if right:
                left = (practice.end_s - first) * per_s - width
            row = next((r for r in (0, 1) if ends[r] + 0.1 < left), None)
            if row is None:
                return None
            ends[row] = left + width
            placed.append((label, row, right))
        return placed

    numbers = [str(i) for i in range(1, len(review.practices) + 1)]
    effects = [f"{n}: {_effect_short(p)}" for n, p in zip(numbers, review.practices, strict=True)]
    return place(effects) or place(numbers) or [(n, i % 2, False) for i, n in enumerate(numbers)]


def _effects_fit(review: ShiftReview) -> bool:
    """Whether the effects are written beside the practices on the figure."""
    return all(":" in label for label, _, _ in _practice_labels(review))


def _practice_marks(axes: Axes, review: ShiftReview) -> None:
    transform = axes.get_xaxis_transform()
    labels = _practice_labels(review)
    for practice, (label, row, right) in zip(review.practices, labels, strict=True):
        end = max(practice.end_s, practice.start_s + 60.0)
        axes.axvspan(_h(practice.start_s), _h(end), color=GOOD, alpha=0.35, linewidth=0, gid="practice")
        axes.text(
            _h(end if right else practice.start_s),
            0.86 - 0.075 * row,
            label,
            transform=transform,
            fontsize=7.5,
            color=BLACK,
            ha="right" if right else "left",
            va="center",
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": GOOD, "linewidth": 0.6},
            gid="practice-label",
        )


def _note_marks(axes: Axes, review: ShiftReview) -> None:
    transform = axes.get_xaxis_transform()
    xs = [_h(note.t_s) for note in review.notes]
    axes.plot(
        xs,
        [0.04] * len(xs),
        transform=transform,
        marker="P",
        markersize=8,
        color=NOTE,
        linestyle="none",
        gid="notes",
    )
    for number, x_at in enumerate(xs):
        axes.annotate(
            _note_letter(number),
            (x_at, 0.04),
            xycoords=transform,
            xytext=(6, 0),
            textcoords="offset points",
            fontsize=8,
            fontweight="bold",
            color=NOTE,
            va="center",
        )


def _hr(axes: Axes, review: ShiftReview, x: NDArray[np.float64]) -> list[Any]:
    from matplotlib.patches import Patch

    series = review.series
    axes.fill_between(
        x,
        series.hr_band_low_bpm,
        series.hr_band_high_bpm,
        color=NORMAL_BAND,
        alpha=0.2,
        linewidth=0,
        gid="hr-band",
    )
    (line,) = axes.plot(x, series.hr_bpm, color=HR, linewidth=0.9, gid="hr", label="60-s HR")
    axes.set_ylabel("HR (bpm)")
    axes.grid(axis="y", color="#dddddd", linewidth=0.5)
    values = np.concatenate([series.hr_bpm, series.hr_band_low_bpm, series.hr_band_high_bpm])
    values = values[np.isfinite(values)]
    if values.size:
        axes.set_ylim(float(values.min()) - 3.0, float(values.max()) + 3.0)
    return [line, Patch(facecolor=NORMAL_BAND, alpha=0.2, label="your usual HR on shift (at rest)")]


def _shade(axes: Axes, review: ShiftReview) -> None:
    """Strained stretches (light, in the strain colour) and the spans without usable data (hatched)."""
    series = review.series
    state = np.asarray(series.state)
    for start, end in series.where(state == str(State.STRAINED)):
        axes.axvspan(_h(start), _h(end), color=LOW, alpha=0.18, linewidth=0, gid="strained")
    for span in review.spans:
        axes.axvspan(
            _h(span.start_s),
            _h(span.end_s),
            facecolor="none",
            edgecolor=NO_DATA,
            hatch=HATCH[span.kind],
            linewidth=0,
            gid=f"span-{span.kind.name.lower()}",
        )


def _shade_handles(review: ShiftReview) -> list[Any]:
    from matplotlib.patches import Patch

    handles: list[Any] = [
        Patch(facecolor=LOW, alpha=0.5, label="strained"),
        Patch(facecolor="white", edgecolor=GOOD, hatch="////", label="recovering"),
        Patch(facecolor=GREY, label="moving (HR ≥ rest + 10 bpm)"),
        Patch(facecolor=GOOD, alpha=0.35, label="practice"),
    ]
    kinds = {span.kind for span in review.spans}
    for kind in (SpanKind.NO_DATA, SpanKind.LOW_QUALITY):
        if kind in kinds:
            handles.append(Patch(facecolor="white", edgecolor=NO_DATA, hatch=HATCH[kind], label=str(kind)))
    return handles


def _note_handles(review: ShiftReview) -> list[Any]:
    from matplotlib.lines import Line2D

    return [
        Line2D(
            [],
            [],
            marker="P",
            color=NOTE,
            linestyle="none",
            label=f"{_note_letter(number)} {review.local(note.t_s):%H:%M} {_clip(note.text, 48)}",
        )
        for number, note in enumerate(review.notes)
    ]


def _practice_handles(review: ShiftReview, *, effects_shown: bool) -> list[Any]:
    """One legend entry per practice: number, time and name (and its effect when the figure has no room
    for it beside the span)."""
    from matplotlib.patches import Patch

    handles = []
    for number, practice in enumerate(review.practices, 1):
        label = f"{number} {review.local(practice.start_s):%H:%M} {practice.name.lower()}"
        if not effects_shown:
            label += f": {_effect_short(practice)}"
        handles.append(Patch(facecolor=GOOD, alpha=0.35, label=label))
    return handles


# -- the text --------------------------------------------------------------------------------------------


def review_text(review: ShiftReview) -> list[str]:
    """The shift in a few plain lines with units: time strained, the lowest stretch, the practices and
    what they did, recovery after the shift against the usual, notes and the data's gaps."""
    summary = review.summary
    lines = [_title(review) + f", {_duration(review.end_s)} recorded."]
    analysed = summary.analysed_s
    lines.append(
        f"Strained {_duration(summary.strained_s)}, recovering {_duration(summary.recovering_s)}, "
        f"settled {_duration(summary.settled_s)} (of {_duration(analysed)} assessed)."
    )
    lines.append(_reference_line(review))
    lowest = summary.lowest
    if lowest is not None:
        usual = (
            f"; your usual then {lowest.band_low_ms:.0f}-{lowest.band_high_ms:.0f} ms"
            if math.isfinite(lowest.band_low_ms)
            else ""
        )
        lines.append(
            f"Lowest 5 min at rest: 60-s RMSSD {lowest.rmssd_ms:.0f} ms on average, "
            f"{review.local(lowest.start_s):%H:%M}-{review.local(lowest.end_s):%H:%M} "
            f"(HR {lowest.hr_bpm:.0f} bpm{usual})."
        )
    lines.append(_prompts_line(review))
    for number, practice in enumerate(review.practices, 1):
        lines.append(f"  {number}. {_practice_line(review, practice)}")
    lines.append(_recovery_line(review))
    if review.notes:
        notes = "; ".join(f"{review.local(n.t_s):%H:%M} {n.text}" for n in review.notes)
        lines.append(f"Notes: {notes}.")
    data = _data_line(review)
    if data:
        lines.append(data)
    return lines


def _reference_line(review: ShiftReview) -> str:
    """Where the usual range came from, and from when if it changed during the shift."""
    series = review.series
    runs: list[tuple[float, str]] = []
    for t_s, source in zip(series.t_s.tolist(), series.source, strict=True):
        if source and (not runs or runs[-1][1] != source):
            runs.append((t_s, source))
    if not runs:
        return "No usual range: the shift had no 60-s window to assess."
    if len(runs) == 1:
        text = f"Your usual range: {runs[0][1]}."
    else:
        shown = runs[:4]
        text = "Your usual range: " + ", then ".join(
            f"{source} from {review.local(t_s):%H:%M}" if index else source
            for index, (t_s, source) in enumerate(shown)
        )
        text += " (and more changes)." if len(runs) > len(shown) else "."
    if any(source == str(ReferenceSource.POPULATION) for _, source in runs):
        text += " While restbeat is still learning you, no strain is read against published norms."
    return text


def _title(review: ShiftReview) -> str:
    start, end = review.local(0.0), review.local(review.end_s)
    kind = "night" if review.night else "day"
    return f"{start:%a %d %b %Y}: {kind} shift {start:%H:%M}-{end:%H:%M} ({_utc_offset(review.zone)})"


def _utc_offset(zone: dt.timezone) -> str:
    offset = zone.utcoffset(None)
    minutes = round(offset.total_seconds() / 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _note_letter(index: int) -> str:
    """Notes are lettered (a, b, ... z, aa, ...) so they are not taken for the numbered practices."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return letters[index % 26] * (index // 26 + 1)


def _clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def _effect_short(practice: PracticeDone) -> str:
    effect = practice.effect
    if effect.rmssd_before_ms is None or effect.rmssd_after_ms is None:
        return "not measured"
    return f"RMSSD {effect.rmssd_before_ms:.0f}→{effect.rmssd_after_ms:.0f} ms"


def _prompts_line(review: ShiftReview) -> str:
    if not review.prompts:
        return "No prompts."
    counts = Counter(p.response for p in review.prompts)
    answers = ", ".join(f"{counts[a]} {a}" for a in PROMPT_STYLE if counts[a])
    done = len(review.practices)
    practices = f"; {done} practice{'s' if done != 1 else ''} measured" if done else "; no practice measured"
    return (
        f"Prompts: {len(review.prompts)} ({answers}){practices}:"
        if done
        else f"Prompts: {len(review.prompts)} ({answers}){practices}."
    )


def _practice_line(review: ShiftReview, practice: PracticeDone) -> str:
    effect = practice.effect
    how = "prompted" if practice.prompted else "on your own"
    head = (
        f"{review.local(practice.start_s):%H:%M} {practice.name} ({how}, "
        f"{_duration(practice.end_s - practice.start_s)})"
    )
    if effect.rmssd_before_ms is None or effect.rmssd_after_ms is None or effect.delta_ln_rmssd is None:
        return f"{head}: not enough clean beats before and after to compare."
    delta = effect.delta_ln_rmssd
    change = "no clear change" if abs(delta) < NO_CLEAR_CHANGE_LN else ("up" if delta > 0 else "down")
    during = "" if effect.rmssd_during_ms is None else f", {effect.rmssd_during_ms:.0f} ms during"
    text = (
        f"{head}: RMSSD {effect.rmssd_before_ms:.0f} ms before{during}, {effect.rmssd_after_ms:.0f} ms after "
        f"({change}, {delta:+.2f} ln)"
    )
    if effect.rsa_bpm is not None:
        text += f"; HR swing {effect.rsa_bpm:.1f} bpm per breath"
        if effect.observed_rate_per_min is not None and effect.rate_per_min is not None:
            followed = "followed the pacer" if effect.rate_matched else "did not follow the pacer"
            text += (
                f", breathing {effect.observed_rate_per_min:.1f}/min "
                f"(pacer {effect.rate_per_min:g}/min: {followed})"
            )
    return text + "."


def _recovery_line(review: ShiftReview) -> str:
    summary = review.summary
    recovery = summary.recovery
    if recovery is None:
        return f"After the shift: {summary.recovery_note}."
    value = recovery.value
    head = f"After the shift: RMSSD {value.rmssd_ms:.0f} ms, HR {value.hr_bpm:.0f} bpm at rest"
    reference = recovery.reference
    if reference is None or recovery.delta_ln is None:
        return f"{head}; {summary.recovery_note}."
    percent = 100.0 * math.expm1(recovery.delta_ln)
    if recovery.against is Against.USUAL_AFTER:
        where = f"your usual after a shift {reference.rmssd_ms:.0f} ms, HR {reference.hr_bpm:.0f} bpm"
        where += f" (median of {recovery.count} earlier)"
    else:
        where = f"today's pre-shift check-in {reference.rmssd_ms:.0f} ms, HR {reference.hr_bpm:.0f} bpm"
        where += " (no earlier post-shift session to compare with)"
    return f"{head}; {where}: {recovery.verdict} ({percent:+.0f} %)."


def _data_line(review: ShiftReview) -> str:
    """Gaps and low-quality stretches beyond the first minute of each recording."""
    parts = []
    for kind in (SpanKind.NO_DATA, SpanKind.LOW_QUALITY):
        spans = [s for s in review.spans if s.kind is kind and s.why != "first minute of a recording"]
        if not spans:
            continue
        total = sum(s.end_s - s.start_s for s in spans)
        whys = _whys(review, spans)
        label = "no usable beats" if kind is SpanKind.NO_DATA else "low quality"
        parts.append(f"{label} for {_duration(total)} ({whys})")
    return f"Data: {'; '.join(parts)}." if parts else ""


def _whys(review: ShiftReview, spans: Sequence[Any]) -> str:
    return ", ".join(f"{s.why} at {review.local(s.start_s):%H:%M}" for s in spans[:4]) + (
        f", and {len(spans) - 4} more" if len(spans) > 4 else ""
    )
