"""What every restbeat figure shares: matplotlib loaded lazily on a file-only backend, one colour-blind-safe
palette (Okabe & Ito 2008) used the same way everywhere, and times shown in the person's local time.

Colour is never the only cue: bands are labelled, markers differ in shape, lines in style.  Only the
review, trends and report commands import this module (matplotlib takes about 0.3 s to load).
"""

from __future__ import annotations

import datetime as dt
import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Okabe-Ito: distinguishable with every common colour-vision deficiency, and in grey print.
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILION = "#D55E00"
PURPLE = "#CC79A7"
GREY = "#999999"

#: What each colour means, the same in every figure.
HR = VERMILION
HRV = BLUE
NORMAL_BAND = SKY_BLUE  # the person's normal range (drawn light, with a label)
LOW = ORANGE  # low recovery, strain
GOOD = GREEN  # a practice, a recovery
NOTE = PURPLE
NO_DATA = GREY

DPI = 110


def pyplot_free_figure(width_in: float, height_in: float) -> Figure:
    """A new figure on the Agg canvas, without pyplot (no global state, nothing left open)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def png_bytes(figure: Figure, dpi: int = DPI) -> bytes:
    """The figure as PNG."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def local_zone(tz_offset_s: int) -> dt.timezone:
    """The fixed-offset zone a session was recorded in (the person's local time then)."""
    return dt.timezone(dt.timedelta(seconds=tz_offset_s))
