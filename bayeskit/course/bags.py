"""Notebook 03 (gift weights): searching for one good bag in Kaggle's *Santa's Uncertain Bags*.

A bag's score is its weight ``W`` if ``W <= 50`` lb and 0 if it is overweight; Kaggle also rules that a
bag must hold **at least three gifts** (:data:`MIN_GIFTS`), so bags of one or two gifts are not
allowed at all. :func:`search_bags` climbs from random starting bags to a bag whose expected score no
single change improves (add a gift, remove one, swap one gift for another type and, optionally, exchange
one gift for the number of lighter gifts of about the same expected weight), and returns every climb's
path, so that a notebook can show how the score rises from a bad start and where it stops.

The expected score of each candidate is a Monte Carlo average over the same ``n_mc`` simulated sets of
gift weights (common random numbers), so two candidates are compared on the same scenarios and the
search is deterministic for a given seed. The maximum found is a maximum of that Monte Carlo
objective, which tends to flatter the winner (a bag chosen for its high estimate is more likely to be one
whose scenarios happened to be favourable): re-score the result on fresh draws or exactly
(:func:`bayeskit.models.santa.bag_score_exact`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from bayeskit._checks import SeedLike, as_rng, check_positive_int
from bayeskit.models.santa import BAG_CAPACITY, gift_types

__all__ = ["MIN_GIFTS", "BagScorer", "Climb", "hill_climb", "random_bag", "random_starts", "search_bags"]

#: Kaggle's rule: every bag holds at least three gifts.
MIN_GIFTS = 3


class BagScorer:
    """Expected score of a bag composition on fixed Monte Carlo scenarios (common random numbers).

    Parameters
    ----------
    types
        The gift types a bag may hold (names from :func:`bayeskit.models.santa.gift_types`).
    n_mc
        Number of simulated scenarios (sets of gift weights).
    max_per_type
        The most gifts of one type a bag may hold.
    seed
        Seed of the scenarios.
    """

    def __init__(self, types: Sequence[str] | None = None, n_mc: int = 10_000, max_per_type: int = 30,
                 seed: SeedLike = None) -> None:
        gifts = gift_types()
        names = sorted(gifts) if types is None else list(types)
        unknown = [n for n in names if n not in gifts]
        if unknown or not names or len(set(names)) != len(names):
            raise ValueError(f"types must be distinct names among {sorted(gifts)}, got {list(types or [])}")
        self.types = tuple(names)
        self.n_mc = check_positive_int("n_mc", n_mc)
        self.max_per_type = check_positive_int("max_per_type", max_per_type)
        rng = as_rng(seed)
        # cumulative[t][:, k]: total weight of the first k gifts of type t in each scenario
        self._cumulative = {
            t: np.concatenate([np.zeros((n_mc, 1)), np.cumsum(gifts[t].sample(rng, (n_mc, max_per_type)), axis=1)], axis=1)
            for t in self.types
        }

    def counts(self, composition: Mapping[str, int]) -> dict[str, int]:
        """``composition`` as counts over :attr:`types` (zeros filled in), checked.

        Parameters
        ----------
        composition : mapping of str to int
            Gift counts by type.

        Returns
        -------
        dict of str to int

        Raises
        ------
        ValueError
            A type not among :attr:`types`, or a count outside ``0..max_per_type``.
        """
        unknown = [t for t in composition if t not in self.types]
        if unknown:
            raise ValueError(f"gift types {unknown} are not among this search's types {list(self.types)}")
        out = dict.fromkeys(self.types, 0)
        for t, n in composition.items():
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 0 <= n <= self.max_per_type:
                raise ValueError(f"count of {t!r} must be an integer in 0..{self.max_per_type}, got {n!r}")
            out[t] = int(n)
        return out

    def weights(self, counts: Mapping[str, int]) -> np.ndarray:
        """The bag's weight in each scenario.

        Parameters
        ----------
        counts : mapping of str to int
            Counts over :attr:`types`, as :meth:`counts` gives them.

        Returns
        -------
        numpy.ndarray, shape (n_mc,)
        """
        return sum(self._cumulative[t][:, k] for t, k in counts.items() if k) + np.zeros(self.n_mc)

    @staticmethod
    def score_weights(w: np.ndarray) -> float:
        """Mean score over scenarios: the weight where it is at most the capacity, else 0.

        Parameters
        ----------
        w : numpy.ndarray
            Bag weights, one per scenario.

        Returns
        -------
        float
        """
        return float(np.mean(np.where(w <= BAG_CAPACITY, w, 0.0)))

    def describe(self, counts: Mapping[str, int]) -> dict:
        """Summary of a bag on the scenarios.

        Parameters
        ----------
        counts : mapping of str to int
            Counts over :attr:`types`, as :meth:`counts` gives them.

        Returns
        -------
        dict
            ``composition`` (non-zero counts), ``n_gifts``, ``expected_score``, ``expected_score_se`` (sd of the
            score over the scenarios over root ``n_mc``), ``p_overweight``, ``mean_weight``.
        """
        w = self.weights(counts)
        score = np.where(w <= BAG_CAPACITY, w, 0.0)
        return {"composition": {t: k for t, k in counts.items() if k}, "n_gifts": int(sum(counts.values())),
                "expected_score": self.score_weights(w),
                "expected_score_se": float(score.std(ddof=1) / np.sqrt(self.n_mc)),
                "p_overweight": float(np.mean(w > BAG_CAPACITY)), "mean_weight": float(w.mean())}


@dataclass
class Climb:
    """One hill climb: the accepted bags in order (``path[0]`` is the start) and the move that led to each.

    Parameters
    ----------
    path : list of dict
        :meth:`BagScorer.describe` of each accepted bag.
    moves : list of str
        The move that led to each (``"start"`` first).
    """

    path: list[dict] = field(default_factory=list)
    moves: list[str] = field(default_factory=list)

    @property
    def scores(self) -> np.ndarray:
        return np.array([step["expected_score"] for step in self.path])

    @property
    def best(self) -> dict:
        return self.path[-1]


def _moves(types: Sequence[str], exchanges: bool) -> list[tuple[str, dict[str, int]]]:
    """The changes the climb may make: add one gift, remove one, swap one for another type and, with
    ``exchanges``, replace one gift by the whole number of lighter gifts nearest its expected weight (one
    horse for three balls, one set of blocks for six) or the reverse."""
    gifts = gift_types()
    moves = [(f"add {a}", {a: 1}) for a in types] + [(f"remove {a}", {a: -1}) for a in types]
    moves += [(f"swap {a} -> {b}", {a: -1, b: 1}) for a in types for b in types if a != b]
    if exchanges:
        for a in types:
            for b in types:
                n = int(round(gifts[a].exact_mean / gifts[b].exact_mean))
                if a != b and n >= 2:
                    moves += [(f"exchange {a} -> {n} {b}", {a: -1, b: n}), (f"exchange {n} {b} -> {a}", {a: 1, b: -n})]
    return moves


def hill_climb(scorer: BagScorer, start: Mapping[str, int], exchanges: bool = True, max_iterations: int = 500) -> Climb:
    """Steepest ascent from ``start``: make the best change while it raises the expected score.

    Never below :data:`MIN_GIFTS` gifts. Where every candidate scores the same (a bag overweight in every
    scenario scores 0, and so do its neighbours), the one with the smallest expected excess over the
    capacity wins, so the climb can leave that plateau.

    Parameters
    ----------
    scorer : BagScorer
        Scores bags on its fixed scenarios.
    start : mapping of str to int
        The starting bag.
    exchanges : bool, default True
        Also allow replacing one gift by the whole number of lighter gifts nearest its expected weight, and
        the reverse.
    max_iterations : int, default 500
        At most this many moves.

    Returns
    -------
    Climb
        Ends at a local optimum of the moves.

    Raises
    ------
    ValueError
        If ``start`` holds fewer than :data:`MIN_GIFTS` gifts (Kaggle does not allow such a bag) or bad counts.
    RuntimeError
        No local optimum within ``max_iterations`` moves.
    """
    counts = scorer.counts(start)
    if sum(counts.values()) < MIN_GIFTS:
        raise ValueError(f"a bag must hold at least {MIN_GIFTS} gifts (Kaggle's rule); the start {dict(start)} "
                         f"holds {sum(counts.values())}")
    moves = _moves(scorer.types, exchanges)
    cum = scorer._cumulative

    def key(w):  # expected score first; expected excess weight only breaks exact ties
        return (scorer.score_weights(w), -float(np.mean(np.maximum(w - BAG_CAPACITY, 0.0))))

    climb = Climb([scorer.describe(counts)], ["start"])
    w = scorer.weights(counts)
    current = key(w)
    for _ in range(max_iterations):
        best, best_move = current, None
        n = sum(counts.values())
        for label, change in moves:
            if n + sum(change.values()) < MIN_GIFTS:
                continue
            if any(not 0 <= counts[t] + d <= scorer.max_per_type for t, d in change.items()):
                continue
            candidate = w.copy()
            for t, d in change.items():
                candidate += cum[t][:, counts[t] + d] - cum[t][:, counts[t]]
            k = key(candidate)
            if k > best:
                best, best_move = k, (label, change)
        if best_move is None:
            return climb
        label, change = best_move
        for t, d in change.items():
            counts[t] += d
        w = scorer.weights(counts)  # recomputed from scratch: no drift from repeated updates
        current = key(w)
        climb.path.append(scorer.describe(counts))
        climb.moves.append(label)
    raise RuntimeError(f"no local optimum within {max_iterations} moves")


def random_bag(rng: np.random.Generator, types: Sequence[str], n_gifts: int) -> dict[str, int]:
    """A bag of ``n_gifts`` gifts, each of a type drawn uniformly from ``types``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Randomness.
    types : sequence of str
        Gift types to draw from.
    n_gifts : int
        At least :data:`MIN_GIFTS`.

    Returns
    -------
    dict of str to int
        Non-zero counts.

    Raises
    ------
    ValueError
        ``n_gifts`` below :data:`MIN_GIFTS`.
    """
    if n_gifts < MIN_GIFTS:
        raise ValueError(f"a bag must hold at least {MIN_GIFTS} gifts, got n_gifts={n_gifts}")
    drawn = rng.choice(len(types), size=n_gifts)
    return {t: int(np.sum(drawn == i)) for i, t in enumerate(types) if np.any(drawn == i)}


def random_starts(n_starts: int, types: Sequence[str], n_gifts_range: tuple[int, int] = (3, 15),
                  max_per_type: int = 30, seed: SeedLike = None) -> list[dict[str, int]]:
    """``n_starts`` random bags (:func:`random_bag`) for :func:`search_bags`.

    Each has ``n_gifts`` uniform in ``n_gifts_range`` and at most ``max_per_type`` gifts of a type. Pass them
    to :func:`search_bags` (``starts=``) to run searches that differ in something else (e.g. ``n_mc``) from
    the same starts.

    Parameters
    ----------
    n_starts : int
        Number of bags.
    types : sequence of str
        Gift types to draw from.
    n_gifts_range : tuple of int, default (3, 15)
        Inclusive range of bag sizes.
    max_per_type : int, default 30
        Most gifts of one type.
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator, optional

    Returns
    -------
    list of dict of str to int

    Raises
    ------
    ValueError
        ``n_gifts_range`` below :data:`MIN_GIFTS`, reversed, or larger than the types allow.
    """
    n_starts = check_positive_int("n_starts", n_starts)
    lo, hi = n_gifts_range
    if not MIN_GIFTS <= lo <= hi:
        raise ValueError(f"n_gifts_range must satisfy {MIN_GIFTS} <= low <= high (Kaggle: at least {MIN_GIFTS} gifts "
                         f"a bag), got {n_gifts_range}")
    if hi > len(types) * max_per_type:
        raise ValueError(f"n_gifts_range {n_gifts_range} exceeds what {len(types)} types x {max_per_type} allow")
    rng = as_rng(seed)
    starts = []
    for _ in range(n_starts):
        while True:  # a start must respect max_per_type too
            start = random_bag(rng, types, int(rng.integers(lo, hi + 1)))
            if max(start.values()) <= max_per_type:
                break
        starts.append(start)
    return starts


def search_bags(n_starts: int = 8, types: Sequence[str] | None = None, n_gifts_range: tuple[int, int] = (3, 15),
                exchanges: bool = True, n_mc: int = 10_000, max_per_type: int = 30,
                seed: SeedLike = None, starts: Sequence[Mapping[str, int]] | None = None) -> list[Climb]:
    """Hill climbs (:func:`hill_climb`) from random bags, all scored on the same scenarios.

    The starts have ``n_gifts`` uniform in ``n_gifts_range``, each gift of a uniformly drawn type. The best bag
    found is ``max(climbs, key=lambda c: c.best["expected_score"]).best``. Each climb ends at a local optimum
    of its moves; different starts may end at different ones.

    The same seed gives the same starts, scenarios and paths. The scenarios are drawn first (they are those of
    ``BagScorer(types, n_mc, max_per_type, seed=seed)``, to re-score other bags on them), so a different
    ``n_mc`` also changes the random starts: to compare searches from the same starts, draw them once
    (:func:`random_starts`) and pass them as ``starts`` (then ``n_starts`` and ``n_gifts_range`` are not used,
    and ``seed`` only draws the scenarios).

    Parameters
    ----------
    n_starts : int, default 8
        Number of random starts.
    types : sequence of str, optional
        Gift types; default all nine.
    n_gifts_range : tuple of int, default (3, 15)
        Inclusive range of start sizes.
    exchanges : bool, default True
        Allow exchange moves (see :func:`hill_climb`).
    n_mc : int, default 10000
        Monte Carlo scenarios.
    max_per_type : int, default 30
        Most gifts of one type.
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator, optional
    starts : sequence of mapping, optional
        Given starting bags.

    Returns
    -------
    list of Climb
        In the order of their starts.
    """
    rng = as_rng(seed)
    scorer = BagScorer(types, n_mc=n_mc, max_per_type=max_per_type, seed=rng)
    if starts is None:
        starts = random_starts(n_starts, scorer.types, n_gifts_range, max_per_type, seed=rng)
    return [hill_climb(scorer, start, exchanges=exchanges) for start in starts]
