"""Learning which practice works: clipped selection probabilities, the reward, the rebound, and Thompson
sampling that is reproducible from its seed and finds the practice that helps."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from numpy.typing import NDArray

from restbeat.recovery.learning import (
    PracticeLearner,
    Rebound,
    clip_probabilities,
    context_vector,
    reward,
)
from restbeat.recovery.practices import Trigger

X_LOW = context_vector(Trigger.SUSTAINED_LOW, False, -1.3, 0)
ARMS = [f"arm-{k}" for k in range(5)]


def _within_bounds(p: NDArray[np.float64], low: float = 0.1, high: float = 0.8) -> None:
    assert float(p.sum()) == pytest.approx(1.0, abs=1e-12)
    assert float(p.min()) >= low - 1e-12
    assert float(p.max()) <= high + 1e-12


# -- clip_probabilities --------------------------------------------------------------------------------------


@pytest.mark.parametrize("k", range(2, 11))
def test_clipped_probabilities_sum_to_one_within_the_bounds_on_random_inputs(k: int) -> None:
    rng = np.random.default_rng(k)
    for _ in range(50):
        _within_bounds(clip_probabilities(rng.dirichlet(np.full(k, 0.3))))
        _within_bounds(clip_probabilities(rng.uniform(0.0, 1.0, size=k)))  # not even normalised


@pytest.mark.parametrize("k", range(2, 11))
def test_clipped_probabilities_of_a_one_hot_vector_stay_within_the_bounds(k: int) -> None:
    for hot in (0, k - 1):
        one_hot = np.zeros(k)
        one_hot[hot] = 1.0
        clipped = clip_probabilities(one_hot)
        _within_bounds(clipped)
        assert int(np.argmax(clipped)) == hot
        rest = np.delete(clipped, hot)
        assert rest == pytest.approx(np.full(k - 1, 0.1 if k > 2 else 0.2))  # the others at the floor


def test_clipped_probabilities_are_the_nearest_point_inside_the_bounds() -> None:
    assert clip_probabilities(np.array([1.0, 0.0])) == pytest.approx([0.8, 0.2])
    assert clip_probabilities(np.array([1.0, 0.0, 0.0, 0.0, 0.0])) == pytest.approx([0.6, 0.1, 0.1, 0.1, 0.1])
    assert clip_probabilities(np.array([0.85, 0.15])) == pytest.approx([0.8, 0.2])
    assert clip_probabilities(np.array([0.5, 0.45, 0.05])) == pytest.approx([0.475, 0.425, 0.1])


def test_one_arm_gets_probability_one_and_more_than_ten_arms_are_uniform() -> None:
    assert clip_probabilities(np.array([1.0])).tolist() == [1.0]
    assert clip_probabilities(np.array([0.3])).tolist() == [1.0]
    one_hot = np.zeros(12)
    one_hot[3] = 1.0
    assert clip_probabilities(one_hot) == pytest.approx(np.full(12, 1 / 12), abs=1e-12)
    assert clip_probabilities(np.random.default_rng(1).dirichlet(np.ones(12))) == pytest.approx(
        np.full(12, 1 / 12), abs=1e-12
    )


@pytest.mark.parametrize(
    "inside",
    [[0.5, 0.5], [0.8, 0.2], [0.3, 0.2, 0.5], [0.1, 0.8, 0.1], [0.25, 0.25, 0.25, 0.25], [0.1] * 10],
)
def test_clipping_leaves_probabilities_already_inside_the_bounds_alone(inside: list[float]) -> None:
    assert clip_probabilities(np.array(inside)) == pytest.approx(inside, abs=1e-12)


def test_clipping_is_idempotent() -> None:
    rng = np.random.default_rng(5)
    for k in range(2, 11):
        once = clip_probabilities(rng.dirichlet(np.full(k, 0.2)))
        assert clip_probabilities(once) == pytest.approx(once, abs=1e-12)


# -- reward and rebound --------------------------------------------------------------------------------------


def test_reward_is_the_hrv_change_beyond_the_rebound_in_noise_units_plus_relief_minus_dismissal() -> None:
    assert reward(0.4, 0.1, 1, False) == pytest.approx(0.3 / 0.15 + 1.0)
    assert reward(0.4, 0.1, None, False) == pytest.approx(2.0)  # no rating counts 0
    assert reward(0.1, 0.1, 0, False) == pytest.approx(0.0)
    assert reward(-0.05, 0.1, -1, True) == pytest.approx(-0.15 / 0.15 - 1.0 - 0.5)
    assert reward(0.25, 0.1, 1, True) == pytest.approx(1.0 + 1.0 - 0.5)


def test_a_missing_after_window_counts_zero_for_hrv() -> None:
    assert reward(None, 0.1, None, False) == 0.0
    assert reward(None, 0.3, 1, False) == pytest.approx(1.0)
    assert reward(None, 0.1, None, True) == pytest.approx(-0.5)


def test_rebound_starts_at_its_prior_and_is_a_running_mean() -> None:
    rebound = Rebound()
    assert rebound.mean == pytest.approx(0.1)
    rebound.add(0.5)
    assert rebound.mean == pytest.approx((0.3 + 0.5) / 4)
    rebound.add(-0.2)
    assert rebound.mean == pytest.approx((0.3 + 0.5 - 0.2) / 5)
    for _ in range(1000):
        rebound.add(0.0)
    assert rebound.mean == pytest.approx(0.6 / 1005)  # the prior is worth three episodes, no more


# -- context -------------------------------------------------------------------------------------------------


def test_context_vector_features() -> None:
    assert X_LOW.tolist() == pytest.approx([1.0, 0.0, 0.0, 0.3, 0.0])
    slow = context_vector(Trigger.SLOW_RECOVERY, True, -5.0, 7)
    assert slow.tolist() == [1.0, 1.0, 1.0, 2.0, 2.0]  # depth and dismissals capped at 2
    assert context_vector(Trigger.SUSTAINED_LOW, False, 0.5, 1).tolist() == [1.0, 0.0, 0.0, 0.0, 1.0]


# -- PracticeLearner -----------------------------------------------------------------------------------------


def _decisions(seed: int, n: int) -> list[tuple[str, dict[str, float]]]:
    learner = PracticeLearner(seed=seed)
    rewards = np.random.default_rng(99)
    out = []
    for _ in range(n):
        choice = learner.choose(ARMS, X_LOW)
        out.append((choice.practice, choice.probabilities))
        learner.learn(choice.practice, X_LOW, float(rewards.standard_normal()))
    return out


def test_the_same_seed_gives_the_same_choices_and_probabilities() -> None:
    assert _decisions(7, 30) == _decisions(7, 30)


def test_different_seeds_differ_somewhere_over_thirty_decisions() -> None:
    assert _decisions(7, 30) != _decisions(8, 30)
    assert [practice for practice, _ in _decisions(7, 30)] != [practice for practice, _ in _decisions(8, 30)]


def test_every_choice_logs_clipped_probabilities_of_every_eligible_practice() -> None:
    learner = PracticeLearner(seed=3)
    for _ in range(10):
        choice = learner.choose(ARMS, X_LOW)
        assert list(choice.probabilities) == ARMS and choice.practice in ARMS
        _within_bounds(np.array(list(choice.probabilities.values())))
        learner.learn(choice.practice, X_LOW, 1.0 if choice.practice == "arm-0" else 0.0)
    assert sum(learner.episodes(arm) for arm in ARMS) == 10
    with pytest.raises(ValueError, match="no practice"):
        learner.choose([], X_LOW)


def test_thompson_sampling_learns_which_practice_helps() -> None:
    """20 simulated people, 5 practices of which one has a true mean reward of +1 (the rest 0), noise N(0, 1):
    after 40 episodes the best practice is chosen in clearly more than the 20 % of a uniform choice (the
    clipping ceiling with 5 arms is 60 %)."""
    best = "arm-3"
    shares = []
    for person in range(20):
        learner = PracticeLearner(seed=person)
        noise = np.random.default_rng(1000 + person)
        picked_best = 0
        for episode in range(40):
            choice = learner.choose(ARMS, X_LOW)
            if episode >= 30:
                picked_best += choice.practice == best
                assert choice.probabilities[best] <= 0.6 + 1e-9
            true_mean = 1.0 if choice.practice == best else 0.0
            learner.learn(choice.practice, X_LOW, true_mean + float(noise.standard_normal()))
        shares.append(picked_best / 10)
    assert float(np.mean(shares)) > 0.45


def test_the_posterior_mean_moves_towards_the_observed_rewards() -> None:
    learner = PracticeLearner(seed=0)
    assert learner.expected("arm-0", X_LOW) == pytest.approx(0.0)
    assert learner.expected("paced-breathing", X_LOW) == pytest.approx(0.3)  # the literature prior
    before = learner.expected("paced-breathing", X_LOW)
    path = []
    for _ in range(50):
        learner.learn("arm-0", X_LOW, 2.0)
        learner.learn("paced-breathing", X_LOW, -1.0)
        path.append(learner.expected("arm-0", X_LOW))
    assert all(later > earlier for earlier, later in itertools.pairwise(path))
    assert 0.0 < path[0] < 2.0 and path[-1] == pytest.approx(2.0, abs=0.05)
    assert -1.0 < learner.expected("paced-breathing", X_LOW) < before
    assert learner.expected("paced-breathing", X_LOW) == pytest.approx(-1.0, abs=0.05)
    assert learner.episodes("arm-0") == 50 and learner.expected("arm-1", X_LOW) == pytest.approx(0.0)
