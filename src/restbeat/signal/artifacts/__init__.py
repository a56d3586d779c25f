"""RR artifact handling: plausibility, detection (Lipponen & Tarvainen 2019) and joint correction of flagged
windows, for a whole series (batch) and beat by beat (stream), with the same rules.

Modules: :mod:`.config` (classes, parameters), :mod:`.plausibility`, :mod:`.detection`, :mod:`.runs` (which
intervals are corrected together and how), :mod:`.batch` (:func:`correct_rr`), :mod:`.stream`
(:class:`ArtifactStream`).  docs/artifacts.md describes every rule and the measurements behind it.
"""

from restbeat.signal.artifacts.batch import CorrectedSeries, class_counts_text, correct_rr
from restbeat.signal.artifacts.config import (
    CLASSES,
    CODE,
    DEFAULT_CONFIG,
    ECTOPIC,
    EXTRA,
    LONG,
    MISSED,
    NORMAL,
    SHORT,
    ArtifactConfig,
)
from restbeat.signal.artifacts.detection import Features, classify, classify_one, features
from restbeat.signal.artifacts.plausibility import plausibility
from restbeat.signal.artifacts.stream import ArtifactStream, CleanBeat

__all__ = [
    "CLASSES",
    "CODE",
    "DEFAULT_CONFIG",
    "ECTOPIC",
    "EXTRA",
    "LONG",
    "MISSED",
    "NORMAL",
    "SHORT",
    "ArtifactConfig",
    "ArtifactStream",
    "CleanBeat",
    "CorrectedSeries",
    "Features",
    "class_counts_text",
    "classify",
    "classify_one",
    "correct_rr",
    "features",
    "plausibility",
]
