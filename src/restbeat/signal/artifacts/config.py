"""The artifact classes as integer codes, and the parameters of detection and correction (ms, beats)."""

from __future__ import annotations

from dataclasses import dataclass

from restbeat.beats import BeatClass

#: Integer codes of the classes, in :class:`BeatClass` order, for vectorised work.
CLASSES: tuple[BeatClass, ...] = tuple(BeatClass)
CODE = {cls: i for i, cls in enumerate(CLASSES)}
NORMAL = CODE[BeatClass.NORMAL]
ECTOPIC = CODE[BeatClass.ECTOPIC]
MISSED = CODE[BeatClass.MISSED]
EXTRA = CODE[BeatClass.EXTRA]
LONG = CODE[BeatClass.LONG]
SHORT = CODE[BeatClass.SHORT]
OUT_OF_RANGE = CODE[BeatClass.OUT_OF_RANGE]


@dataclass(frozen=True, slots=True)
class ArtifactConfig:
    """Parameters of plausibility, detection and correction (ms, beats, shares of the rhythm).

    Plausibility: ``junk_below_ms``: no interval this short is a beat or a fragment a strap could time;
    ``gap_above_ms``: a longer interval means beats were lost, not missed by one or two: a gap;
    ``bogus_ratio``: a strap-appended interval shorter than this fraction of the one before it in the same
    notification is transmission junk (Garmin HRM-Dual sends ``1069, 53``); ``min_rr_ms``/``max_rr_ms``: the
    physiological range a corrected interval must fall in.

    Detection (Lipponen & Tarvainen 2019, with the departures in docs/artifacts.md): ``alpha``,
    ``threshold_window``, ``median_window``, ``c1``, ``c2``, the gates ``ectopic_min_d`` and
    ``long_short_min_d``, ``beat_tolerance`` (missed/extra tests accept a deviation up to max(Th2, this share
    of the median)) and ``threshold_cap`` (Th1 and Th2 at most this share of the median).

    Correction of a window of flagged intervals (:func:`restbeat.signal.artifacts.runs.explain`):
    ``artifact_cost`` is the cost of one spurious or missing beat, in units of the negative log-likelihood of
    the natural beat-to-beat spread, and ``moved_weight`` times that the cost of a moved beat;
    ``step_tail`` the degrees of freedom of the heavy-tailed (Student t) cost of a step from one beat to the
    next; ``level_spread`` how far (relative) a re-timed beat may stray from the rhythm of the reference
    intervals; ``min_spread`` the floor of the relative natural spread (1.5 %: Holter quantisation and the
    calmest rhythms); ``max_group`` the most intervals re-timed as one group; ``missing_min``, ``extra_max``
    and ``moved_min`` the shapes a group must have to be read as missing, spurious or moved beats.
    """

    alpha: float = 5.2
    threshold_window: int = 91
    median_window: int = 11
    c1: float = 0.13
    c2: float = 0.17
    min_rr_ms: float = 300.0
    max_rr_ms: float = 2000.0
    junk_below_ms: float = 20.0
    gap_above_ms: float = 3000.0
    bogus_ratio: float = 0.25
    beat_tolerance: float = 0.1
    ectopic_min_d: float = 1.6
    long_short_min_d: float = 1.6
    passes: int = 2
    threshold_cap: float = 0.3
    artifact_cost: float = 3.0
    step_tail: float = 1.0
    moved_weight: float = 1.5
    level_spread: float = 0.25
    missing_min: float = 1.5
    extra_max: float = 0.6
    moved_min: float = 0.08
    min_spread: float = 0.015
    max_group: int = 6


DEFAULT_CONFIG = ArtifactConfig()
