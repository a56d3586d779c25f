"""Learning which practice works for this person: contextual Thompson sampling with clipped, logged
selection probabilities (Liao et al. 2020, Personalized HeartSteps; the brief, section 5.2).

Each practice (arm) has a Bayesian linear model of its reward, ``r = x . theta_a + noise``, with a
Normal-Inverse-Gamma prior.  A decision draws theta from every eligible arm's posterior and would pick the
best; the probability of each arm being picked is estimated from ``DRAWS`` such draws, clipped to
[0.1, 0.8] (so every arm keeps being tried and the propensity is known for later evaluation) and the arm is
then drawn from the clipped probabilities.  Everything random comes from one generator seeded at
construction, so a run is reproducible.

Reward (observed after the practice): ``(delta_ln_rmssd - rebound) / 0.15 + relief - 0.5 x dismissed``, where
``rebound`` is the natural rise after a low episode without a practice (:class:`Rebound`), 0.15 ln is the
noise of a 2-min lnRMSSD difference, and relief is the person's own rating (-1 worse, 0 same, +1 calmer).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from restbeat.recovery.practices import Trigger

DRAWS = 400
CLIP_LOW = 0.1
CLIP_HIGH = 0.8
DELTA_NOISE_LN = 0.15
RELIEF_WEIGHT = 1.0
DISMISS_PENALTY = 0.5
PRIOR_PRECISION = 1.0
PRIOR_SHAPE = 2.0  # with scale 1: the prior mean of the reward variance is 1 (a standardised reward)
PRIOR_SCALE = 1.0
FEATURES = ("intercept", "slow recovery", "night shift", "depth below threshold (SD)", "recent dismissals")

#: Literature ordering for the HRV outcome (Laborde et al. 2022 for slow breathing; the others modest).
PRIOR_MEANS: Mapping[str, float] = {"paced-breathing": 0.3}


def context_vector(trigger: Trigger, night: bool, z: float, recent_dismissals: int) -> NDArray[np.float64]:
    """The decision's context: the features above, z in SD units, dismissals in a row (capped at 2)."""
    depth = min(max(-z - 1.0, 0.0), 2.0)
    return np.array(
        [1.0, float(trigger is Trigger.SLOW_RECOVERY), float(night), depth, float(min(recent_dismissals, 2))]
    )


def reward(delta_ln: float | None, rebound_ln: float, relief: int | None, dismissed: bool) -> float:
    """The reward of one decision (see the module docstring); a missing after-window counts 0 for HRV."""
    hrv = 0.0 if delta_ln is None else (delta_ln - rebound_ln) / DELTA_NOISE_LN
    return hrv + RELIEF_WEIGHT * float(relief or 0) - DISMISS_PENALTY * float(dismissed)


@dataclass(slots=True)
class Rebound:
    """The mean natural change of lnRMSSD (ln ms) after a low episode with no practice: a running mean that
    starts from a prior of 0.1 ln worth three episodes."""

    total: float = 0.3
    count: float = 3.0

    def add(self, delta_ln: float) -> None:
        """Observe an untreated episode's change (after minus before, ln ms)."""
        self.total += delta_ln
        self.count += 1.0

    @property
    def mean(self) -> float:
        """The expected rebound (ln ms)."""
        return self.total / self.count


def clip_probabilities(probabilities: NDArray[np.float64]) -> NDArray[np.float64]:
    """The nearest probabilities (Euclidean) within [0.1, 0.8] that sum to 1: ``clip(p + tau)`` with tau found
    by bisection.  With more than 10 arms the floor becomes 1/K."""
    p = np.asarray(probabilities, dtype=np.float64)
    k = p.size
    low, high = min(CLIP_LOW, 1.0 / k), max(CLIP_HIGH, 1.0 / k)
    below, above = low - float(p.max()), high - float(p.min())
    for _ in range(80):
        tau = 0.5 * (below + above)
        if float(np.clip(p + tau, low, high).sum()) < 1.0:
            below = tau
        else:
            above = tau
    clipped: NDArray[np.float64] = np.clip(p + 0.5 * (below + above), low, high)
    normalised: NDArray[np.float64] = clipped / clipped.sum()
    return normalised


@dataclass(slots=True)
class _Arm:
    prior_mean: NDArray[np.float64]
    xtx: NDArray[np.float64]
    xty: NDArray[np.float64]
    yty: float = 0.0
    n: int = 0

    def posterior(self) -> tuple[NDArray[np.float64], NDArray[np.float64], float, float]:
        d = self.prior_mean.size
        prior_precision = PRIOR_PRECISION * np.eye(d)
        precision = prior_precision + self.xtx
        covariance = np.asarray(np.linalg.inv(precision), dtype=np.float64)
        mean = covariance @ (prior_precision @ self.prior_mean + self.xty)
        shape = PRIOR_SHAPE + self.n / 2.0
        scale = PRIOR_SCALE + 0.5 * float(
            self.yty + self.prior_mean @ prior_precision @ self.prior_mean - mean @ precision @ mean
        )
        return mean, covariance, shape, max(scale, 1e-9)


@dataclass(frozen=True, slots=True)
class Choice:
    """A decision: the practice chosen and the clipped selection probability of every eligible practice."""

    practice: str
    probabilities: dict[str, float]


@dataclass(slots=True)
class PracticeLearner:
    """Per-practice Bayesian linear models of the reward; :meth:`choose` and :meth:`learn`."""

    seed: int = 0
    prior_means: Mapping[str, float] = field(default_factory=lambda: dict(PRIOR_MEANS))
    _arms: dict[str, _Arm] = field(default_factory=dict)
    _rng: np.random.Generator = field(init=False)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)

    def _arm(self, practice: str) -> _Arm:
        if practice not in self._arms:
            d = len(FEATURES)
            prior = np.zeros(d)
            prior[0] = self.prior_means.get(practice, 0.0)
            self._arms[practice] = _Arm(prior, np.zeros((d, d)), np.zeros(d))
        return self._arms[practice]

    def episodes(self, practice: str) -> int:
        """How many rewards the practice has been given."""
        return self._arm(practice).n

    def expected(self, practice: str, x: NDArray[np.float64]) -> float:
        """The posterior mean reward of ``practice`` in context ``x``."""
        mean, _, _, _ = self._arm(practice).posterior()
        return float(x @ mean)

    def choose(self, practices: Sequence[str], x: NDArray[np.float64]) -> Choice:
        """Thompson sampling over ``practices`` in context ``x``, with clipped, logged probabilities."""
        if not practices:
            raise ValueError("no practice to choose from")
        scores = np.empty((DRAWS, len(practices)))
        for column, practice in enumerate(practices):
            mean, covariance, shape, scale = self._arm(practice).posterior()
            variance = scale / self._rng.gamma(shape, 1.0, size=DRAWS)  # sigma^2 ~ InvGamma(shape, scale)
            unit = self._rng.multivariate_normal(
                np.zeros_like(mean), covariance, size=DRAWS, method="cholesky"
            )
            theta = mean + unit * np.sqrt(variance)[:, None]  # theta | sigma^2 ~ N(mean, sigma^2 covariance)
            scores[:, column] = theta @ x
        wins = np.bincount(np.argmax(scores, axis=1), minlength=len(practices)) / DRAWS
        probabilities = clip_probabilities(wins)
        picked = int(self._rng.choice(len(practices), p=probabilities))
        return Choice(
            practices[picked], {name: float(p) for name, p in zip(practices, probabilities, strict=True)}
        )

    def learn(self, practice: str, x: NDArray[np.float64], value: float) -> None:
        """Add one observed reward of ``practice`` in context ``x``."""
        arm = self._arm(practice)
        arm.xtx += np.outer(x, x)
        arm.xty += value * x
        arm.yty += value * value
        arm.n += 1
