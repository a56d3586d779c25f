"""The live screen of `restbeat monitor` (and of the demo): drawn from a :class:`LiveView` alone."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from restbeat.app.live import LiveView, OpenPrompt, PracticeRun, clock_text, effect_text
from restbeat.recovery.assess import State
from restbeat.recovery.wording import practice_card
from restbeat.ui.pacer import pacer_frame, render_pacer

_BLOCKS = "▁▂▃▄▅▆▇█"
STATE_STYLE = {State.SETTLED: "green", State.RECOVERING: "yellow", State.STRAINED: "bold red"}
KEYS = "b breathe now · a annotate · s snooze prompts · q stop"
PROMPT_KEYS = "y start · s snooze · n dismiss"


def sparkline(values: tuple[float | None, ...], low: float | None = None, high: float | None = None) -> str:
    """One character per value, scaled between the smallest and largest of the values and the band
    ``low``-``high``; a gap (None) is a space."""
    known = [v for v in values if v is not None]
    if not known:
        return ""
    bottom = min([*known, *([low] if low is not None else [])])
    top = max([*known, *([high] if high is not None else [])])
    span = top - bottom or 1.0
    return "".join(
        " " if v is None else _BLOCKS[min(int((v - bottom) / span * len(_BLOCKS)), len(_BLOCKS) - 1)]
        for v in values
    )


def _value(value: float | None, unit: str) -> str:
    return "—" if value is None else f"{value:.0f} {unit}"


def _link_line(view: LiveView) -> Text:
    link = view.link
    style = {"streaming": "green", "reconnecting": "bold yellow", "stopped": "red"}.get(link.state, "yellow")
    text = Text()
    text.append(f"strap {link.state}", style=style)
    if link.state != "streaming" and link.reason:
        text.append(f" ({link.reason})", style=style)
    battery = "—" if link.battery is None else f"{link.battery} %"
    contact = {True: "ok", False: "LOST", None: "—"}[link.contact]
    text.append(f" · battery {battery} · contact {contact} · drops {link.drops}")
    if link.strap:
        text.append(f" · {link.strap}", style="dim")
    return text


def _metrics(view: LiveView) -> Table:
    table = Table.grid(padding=(0, 3))
    for _ in range(4):
        table.add_column()
    usual = "learning you" if view.usual_ms is None else f"{view.usual_ms[0]:.0f}-{view.usual_ms[1]:.0f} ms"
    table.add_row(
        Text("HR", style="dim"),
        Text("RMSSD 60 s", style="dim"),
        Text("RMSSD 5 min", style="dim"),
        Text("your usual", style="dim"),
    )
    table.add_row(
        Text(_value(view.hr_bpm, "bpm"), style="bold"),
        Text(
            _value(view.rmssd_60_ms, "ms") if view.rmssd_60_ms is not None else view.quality_60, style="bold"
        ),
        Text(_value(view.rmssd_300_ms, "ms"), style="bold"),
        Text(usual),
    )
    return table


def _state_line(view: LiveView) -> Text:
    text = Text()
    text.append(view.state.value.upper(), style=STATE_STYLE[view.state])
    text.append(f"  {view.state_why}")
    if view.gate and view.gate not in ("readable", view.state_why):
        text.append(f"  ({view.gate})", style="dim")
    return text


def prompt_panel(open_prompt: OpenPrompt) -> Panel:
    """The prompt card: the practice, why now, its steps, duration, safety lines and the footer."""
    prompt = open_prompt.prompt
    card = practice_card(prompt.practice, prompt.reason.text())
    body = Text()
    body.append(f"Why now: {card.why}\n", style="bold")
    for number, step in enumerate(card.steps, start=1):
        body.append(f"  {number}. {step}\n")
    for line in card.safety:
        body.append(f"{line}\n", style="yellow")
    body.append(f"{card.footer}\n", style="dim")
    body.append(PROMPT_KEYS, style="bold cyan")
    minutes = f"{card.duration_s / 60:g} min"
    return Panel(body, title=f"{card.title} · {minutes}", border_style="cyan")


def practice_panel(run: PracticeRun, elapsed_s: float, hr_bpm: float | None) -> Panel:
    """A running practice (the pacer for breathing, the steps and a countdown otherwise), or its effect
    being measured."""
    if run.ended_s is not None:
        return Panel(Text(effect_text(run)), title=f"{run.practice.name} · done", border_style="green")
    into = elapsed_s - run.started_s
    if run.pacer is not None:
        frame = pacer_frame(into, run.pacer, run.duration_s)
        body: RenderableType = Group(
            render_pacer(frame, run.pacer, hr_bpm=hr_bpm), Text("b stops", style="dim")
        )
    else:
        left = max(run.duration_s - into, 0.0)
        steps = Text("\n".join(f"  {n}. {s}" for n, s in enumerate(run.practice.steps, start=1)))
        body = Group(steps, Text(f"{int(left) // 60}:{int(left) % 60:02d} left · b stops", style="dim"))
    return Panel(body, title=run.practice.name, border_style="cyan")


def render_monitor(view: LiveView, now_s: float, title: str = "restbeat monitor") -> Panel:
    """The whole screen."""
    low, high = view.usual_ms if view.usual_ms is not None else (None, None)
    spark = sparkline(view.spark_ms, low, high)
    parts: list[RenderableType] = [_link_line(view)]
    if view.saving is not None:  # at the top: a person must see at once that rows are not on disk yet
        parts.append(Text(view.saving, style="bold red"))
    parts += [
        Text(""),
        _metrics(view),
        Text(""),
        _state_line(view),
        Text.assemble(("last 30 min  ", "dim"), (spark or "(filling)", "cyan")),
    ]
    if view.reference:
        parts.append(Text(f"compared with {view.reference}", style="dim"))
    if view.prompt is not None:
        parts += [Text(""), prompt_panel(view.prompt)]
    if view.practice is not None:
        parts += [Text(""), practice_panel(view.practice, now_s, view.hr_bpm)]
    if view.notes:
        parts += [Text(""), Text("\n".join(view.notes), style="dim")]
    return Panel(
        Group(*parts),
        title=f"{title} · {clock_text(view.elapsed_s)}",
        subtitle=KEYS,
        border_style="blue",
    )
