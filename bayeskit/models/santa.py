"""Santa's Uncertain Bags (Kaggle, 2016): the nine gift-weight distributions, bag weights and scores.

A bag's score is its weight ``W`` if ``W <= 50`` lb, and 0 if it is overweight; the expected score
is ``E[W 1(W <= 50)]``. Weights are computed two independent ways: by Monte Carlo
(:func:`bag_score_mc`) and by numerical convolution of the gift distributions (:func:`bag_score_exact`),
which gives rigorous lower and upper bounds. Gift weights can be inferred from weighed bags
(:func:`bag_model`), with exact references by quadrature: on a grid along the posterior's axes, for any
bags (:func:`bag_reference`), and one gift at a time, for bags that form a chain (:func:`bag_chain_reference`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
from scipy import stats

from bayeskit import data
from bayeskit._checks import as_rng
from bayeskit.exact import Reference

__all__ = ["BAG_CAPACITY", "GiftType", "gift_types", "bag_weights", "bag_score_mc", "bag_score_exact",
           "single_type_scores", "bag_weight_distribution", "pymc_prior", "model_prior", "bag_model", "bag_reference",
           "bag_chain_reference"]

BAG_CAPACITY = 50.0


@dataclass(frozen=True)
class GiftType:
    """One gift type: its weight distribution (family and parameters), count and exact moments.

    Parameters
    ----------
    name : str
        The type's name (``"horse"``, ``"ball"``, ...).
    family : str
        ``"clipped_normal"``, ``"scaled_beta"``, ``"chi_square"``, ``"gamma"``, ``"triangular"`` or
        ``"gloves_mixture"``.
    params : mapping of str to float
        The family's parameters, as in the data file.
    count : int
        How many gifts of this type the competition has.
    exact_mean, exact_var : float
        Exact mean and variance of the weight (lb, lb^2).
    """

    name: str
    family: str
    params: Mapping[str, float]
    count: int
    exact_mean: float
    exact_var: float

    def sample(self, rng, size) -> np.ndarray:
        """Weights drawn with the competition's recipe (``numpy`` generators).

        Parameters
        ----------
        rng : None, int, numpy.random.SeedSequence or numpy.random.Generator
            Randomness.
        size : int or tuple of int
            Shape of the output.

        Returns
        -------
        numpy.ndarray
            Weights in lb.

        Raises
        ------
        ValueError
            Unknown family.
        """
        rng = as_rng(rng)
        p = self.params
        if self.family == "clipped_normal":
            return np.maximum(0.0, rng.normal(p["mean"], p["sd"], size))
        if self.family == "scaled_beta":
            return p["scale"] * rng.beta(p["a"], p["b"], size)
        if self.family == "chi_square":
            return rng.chisquare(p["df"], size)
        if self.family == "gamma":
            return rng.gamma(p["shape"], p["scale"], size)
        if self.family == "triangular":
            return rng.triangular(p["left"], p["mode"], p["right"], size)
        if self.family == "gloves_mixture":
            heavy = rng.uniform(size=size) < p["p_heavy"]
            return np.where(heavy, p["heavy_offset"], 0.0) + p["width"] * rng.uniform(size=size)
        raise ValueError(f"unknown family {self.family!r}")

    def cdf(self, x) -> np.ndarray:
        """Cumulative distribution function (right-continuous; includes any point mass at 0).

        Parameters
        ----------
        x : array_like
            Weights in lb.

        Returns
        -------
        numpy.ndarray
            ``P(X <= x)``.

        Raises
        ------
        ValueError
            Unknown family.
        """
        x = np.asarray(x, float)
        p = self.params
        if self.family == "clipped_normal":
            return np.where(x < 0, 0.0, stats.norm.cdf(x, p["mean"], p["sd"]))
        if self.family == "scaled_beta":
            return stats.beta.cdf(x / p["scale"], p["a"], p["b"])
        if self.family == "chi_square":
            return stats.chi2.cdf(x, p["df"])
        if self.family == "gamma":
            return stats.gamma.cdf(x, p["shape"], scale=p["scale"])
        if self.family == "triangular":
            c = (p["mode"] - p["left"]) / (p["right"] - p["left"])
            return stats.triang.cdf(x, c, loc=p["left"], scale=p["right"] - p["left"])
        if self.family == "gloves_mixture":
            u = stats.uniform(0, p["width"])
            return (1 - p["p_heavy"]) * u.cdf(x) + p["p_heavy"] * u.cdf(x - p["heavy_offset"])
        raise ValueError(f"unknown family {self.family!r}")

    def upper(self) -> float:
        """A weight above which the probability is negligible (< 1e-12), or the exact maximum."""
        p = self.params
        bounded = {"scaled_beta": p.get("scale"), "triangular": p.get("right"),
                   "gloves_mixture": p.get("heavy_offset", 0) + p.get("width", 0)}
        if self.family in bounded:
            return float(bounded[self.family])
        hi = self.exact_mean + 10 * np.sqrt(self.exact_var)
        while 1 - self.cdf(hi) > 1e-12:
            hi *= 1.5
        return float(hi)


def gift_types() -> dict[str, GiftType]:
    """The nine gift types of the competition, from ``bayeskit/data/santa_gifts.json``.

    Returns
    -------
    dict of str to GiftType
        By name.

    Raises
    ------
    bayeskit.data.DataError
        The data file is missing or altered.
    """
    raw = data.load("santa_gifts")["gifts"]
    return {name: GiftType(name, g["family"], g["params"], g["count"], g["exact_mean"], g["exact_var"])
            for name, g in raw.items()}


def _check_composition(composition: Mapping[str, int], types: Mapping[str, GiftType]) -> dict[str, int]:
    out = {}
    for name, n in composition.items():
        if name not in types:
            raise ValueError(f"unknown gift type {name!r}; expected one of {sorted(types)}")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"count of {name!r} must be a non-negative integer, got {n!r}")
        if n:
            out[name] = int(n)
    if not out:
        raise ValueError("the bag is empty: give at least one gift")
    return out


def bag_weights(composition: Mapping[str, int], n_bags: int, seed=None) -> np.ndarray:
    """Monte Carlo weights of ``n_bags`` independent bags of the given composition.

    Parameters
    ----------
    composition : mapping of str to int
        Gift counts by type name, e.g. ``{"horse": 3, "book": 2}``.
    n_bags : int
        Number of bags.
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator, optional
        Randomness; the same seed gives the same weights.

    Returns
    -------
    numpy.ndarray, shape (n_bags,)
        Bag weights in lb.

    Raises
    ------
    ValueError
        An unknown gift type, a count that is not a non-negative integer, or an empty bag.
    """
    types = gift_types()
    composition = _check_composition(composition, types)
    rng = as_rng(seed)
    total = np.zeros(n_bags)
    for name, n in composition.items():
        total += types[name].sample(rng, (n_bags, n)).sum(axis=1)
    return total


def bag_score_mc(composition: Mapping[str, int], n_bags: int = 100_000, seed=None) -> dict[str, float]:
    """Monte Carlo expected score and overweight probability of one bag, with standard errors.

    Parameters
    ----------
    composition : mapping of str to int
        Gift counts by type name, e.g. ``{"horse": 3, "book": 2}``.
    n_bags : int, default 100000
        Simulated bags.
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator, optional
        Randomness.

    Returns
    -------
    dict of str to float
        ``expected_score``, ``expected_score_se``, ``p_overweight``, ``p_overweight_se``, ``mean_weight``.

    Raises
    ------
    ValueError
        An unknown gift type, a count that is not a non-negative integer, or an empty bag.
    """
    w = bag_weights(composition, n_bags, seed)
    score = np.where(w <= BAG_CAPACITY, w, 0.0)
    over = (w > BAG_CAPACITY).astype(float)
    root_n = np.sqrt(n_bags)
    return {"expected_score": score.mean(), "expected_score_se": score.std(ddof=1) / root_n,
            "p_overweight": over.mean(), "p_overweight_se": over.std(ddof=1) / root_n,
            "mean_weight": w.mean()}


def bag_score_exact(composition: Mapping[str, int], h: float = 0.002) -> dict[str, float]:
    """Overweight probability and expected score by numerical convolution, as rigorous bounds.

    Each gift's weight ``X`` is replaced by ``h * floor(X / h)``, whose distribution is exact (bin
    masses are differences of the CDF, so point masses and infinite densities are handled). The
    discretised bag weight ``W_h`` satisfies ``W_h <= W < W_h + n h`` for a bag of ``n`` gifts, hence
    ``P(W_h > 50) <= P(W > 50) <= P(W_h > 50 - n h)``, and likewise for the expected score.
    The distribution of ``W_h`` is the convolution of the gifts' (FFT, exact up to rounding). Only
    weights up to the capacity matter for the score, and weights are never negative, so every partial
    sum is kept only up to the capacity: the mass cut off is counted as overweight (``mass_check`` adds
    it back, and is 1 up to rounding).

    Parameters
    ----------
    composition : mapping of str to int
        Gift counts by type name, e.g. ``{"horse": 3, "book": 2}``.
    h : float, default 0.002
        Bin width in lb; the bounds' gap shrinks in proportion to it.

    Returns
    -------
    dict of str to float
        ``p_overweight_lower``, ``p_overweight_upper``, ``expected_score_lower``, ``expected_score_upper``,
        ``mass_check``.

    Raises
    ------
    ValueError
        ``h`` not positive, or a bad composition (unknown type, negative count, empty bag).
    """
    grid, pmf, above = _distribution_up_to(composition, h, BAG_CAPACITY)
    return _score_bounds(grid, pmf, above, sum(composition.values()), h)


def single_type_scores(name: str, counts, h: float = 0.002) -> dict[int, dict[str, float]]:
    """:func:`bag_score_exact` of the bags ``{name: n}`` for every ``n`` in ``counts``, from one pass.

    The distribution of ``n + 1`` gifts is that of ``n`` gifts convolved with one more, so the bags are built
    one gift at a time and scored on the way: the same numbers as separate calls (the same convolutions, in the
    same order), for the cost of the largest bag alone.

    Parameters
    ----------
    name : str
        The gift type.
    counts : iterable of int
        Bag sizes, positive.
    h : float, default 0.002
        Bin width in lb.

    Returns
    -------
    dict of int to dict
        :func:`bag_score_exact`'s result for each count.

    Raises
    ------
    ValueError
        ``counts`` empty or not positive, an unknown ``name``, or ``h`` not positive.
    """
    wanted = sorted({int(n) for n in counts})
    if not wanted or wanted[0] < 1:
        raise ValueError(f"counts must be positive integers, got {counts!r}")
    out = {}
    for n, (grid, pmf, above) in enumerate(_partial_distributions({name: wanted[-1]}, h, BAG_CAPACITY), start=1):
        if n in wanted:
            out[n] = _score_bounds(grid, pmf, above, n, h)
    return out


def _score_bounds(grid: np.ndarray, pmf: np.ndarray, above: float, n_gifts: int, h: float) -> dict[str, float]:
    """The bounds of :func:`bag_score_exact` from the distribution of ``W_h`` up to the capacity."""
    slack = n_gifts * h

    def score(upper_limit, shift):
        inside = grid + shift <= upper_limit
        return float(np.sum(pmf[inside] * (grid[inside] + shift)))

    p_lower = above + float(pmf[grid > BAG_CAPACITY].sum())
    p_upper = above + float(pmf[grid > BAG_CAPACITY - slack].sum())
    # W in [W_h, W_h + slack): score W 1(W <= 50) lies between these bracketing sums
    score_lower = float(np.sum(pmf[grid + slack <= BAG_CAPACITY] * grid[grid + slack <= BAG_CAPACITY]))
    score_upper = score(BAG_CAPACITY, slack) + float(np.sum(pmf[(grid <= BAG_CAPACITY) & (grid + slack > BAG_CAPACITY)]) * BAG_CAPACITY)
    return {"p_overweight_lower": p_lower, "p_overweight_upper": p_upper,
            "expected_score_lower": score_lower, "expected_score_upper": score_upper,
            "mass_check": float(pmf.sum()) + above}


def bag_weight_distribution(composition: Mapping[str, int], h: float = 0.002) -> tuple[np.ndarray, np.ndarray]:
    """Exact distribution of the discretised bag weight ``W_h`` (each gift rounded down to a multiple of ``h``).

    Parameters
    ----------
    composition : mapping of str to int
        Gift counts by type name, e.g. ``{"horse": 3, "book": 2}``.
    h : float, default 0.002
        Bin width in lb.

    Returns
    -------
    grid : numpy.ndarray
        Values of ``W_h``.
    pmf : numpy.ndarray
        Their probabilities; ``pmf / h`` approximates the density of ``W``.

    Raises
    ------
    ValueError
        ``h`` not positive, or a bad composition.
    """
    grid, pmf, _ = _distribution_up_to(composition, h, np.inf)
    return grid, pmf


def _distribution_up_to(composition: Mapping[str, int], h: float, cut: float) -> tuple[np.ndarray, np.ndarray, float]:
    """The distribution of ``W_h`` on the grid points up to ``cut`` (plus one), and the mass above them.

    Gift weights are non-negative, so a partial sum above ``cut`` stays above it: cutting each partial
    sum there loses nothing below ``cut``."""
    state = (np.zeros(1), np.array([1.0]), 0.0)
    for state in _partial_distributions(composition, h, cut):
        pass
    return state


def _partial_distributions(composition: Mapping[str, int], h: float, cut: float):
    """Yield :func:`_distribution_up_to`'s ``(grid, pmf, above)`` after each gift is added, in the order of
    ``composition``."""
    if not (np.isfinite(h) and h > 0):
        raise ValueError(f"h must be a positive bin width, got {h}")
    types = gift_types()
    composition = _check_composition(composition, types)
    keep = np.inf if np.isinf(cut) else int(np.floor(cut / h)) + 2  # grid points 0 .. cut, and one beyond
    pmf, above = np.array([1.0]), 0.0
    for name, n in composition.items():
        gift = types[name]
        truncated = gift.upper() > cut + 2 * h
        edges = np.arange(0.0, (cut + 2 * h if truncated else gift.upper()) + 2 * h, h)
        masses = np.diff(gift.cdf(edges))
        masses[0] += gift.cdf(edges[0])  # the point mass at exactly 0 (clipped normals)
        # a gift cut at the capacity: its weights beyond the last edge put the bag above the cut too
        beyond = float(1.0 - gift.cdf(edges[-1])) if truncated else 0.0
        for _ in range(n):
            above += float(pmf.sum()) * beyond
            pmf = _convolve(pmf, masses)
            if len(pmf) > keep:
                above += float(pmf[keep:].sum())
                pmf = pmf[:keep]
            yield h * np.arange(len(pmf)), pmf, above


def _convolve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    size = len(a) + len(b) - 1
    n = 1 << (size - 1).bit_length()
    out = np.fft.irfft(np.fft.rfft(a, n) * np.fft.rfft(b, n), n)[:size]
    return np.clip(out, 0.0, None)


def pymc_prior(gift: GiftType, name: str, shape=None):
    """Add a PyMC prior for the weight of gift(s) of this type to the current model context.

    Clipped normals become normals truncated at 0: the same density on (0, inf) without the small point
    mass at exactly 0 (at most 2.3%, for bikes and trains), which a continuous sampler cannot represent.
    The gloves mixture (two disjoint uniforms) and coal (an unbounded density at both ends) are not
    offered: their posteriors are multimodal or spiky, a topic for later notebooks.

    Parameters
    ----------
    gift : GiftType
        One of :func:`gift_types`.
    name : str
        Name of the PyMC variable.
    shape : int or tuple of int, optional
        For several gifts of the type.

    Returns
    -------
    pytensor.tensor.TensorVariable
        The new random variable.

    Raises
    ------
    ValueError
        The gloves mixture or coal (no prior is offered: their posteriors are multimodal or spiky).
    """
    import pymc as pm

    p = gift.params
    if gift.family == "clipped_normal":
        return pm.TruncatedNormal(name, mu=p["mean"], sigma=p["sd"], lower=0.0, shape=shape)
    if gift.family == "chi_square":
        return pm.ChiSquared(name, nu=p["df"], shape=shape)
    if gift.family == "gamma":
        return pm.Gamma(name, alpha=p["shape"], beta=1 / p["scale"], shape=shape)
    if gift.family == "triangular":
        return pm.Triangular(name, lower=p["left"], c=p["mode"], upper=p["right"], shape=shape)
    raise ValueError(f"no PyMC prior is offered for {gift.name!r} ({gift.family}); "
                     "use horse, ball, bike, train, book, doll or blocks")


def model_prior(gift: GiftType):
    """The prior :func:`pymc_prior` gives this gift type, as a frozen ``scipy.stats`` distribution.

    For the clipped normals this is the normal *truncated* at 0 (its mean and sd differ slightly from the
    clipped normal's ``exact_mean`` and ``exact_var``: 5.035 and 1.955 lb against 5.004 and 1.989 for horses);
    for the other families it is the gift's own distribution.

    Parameters
    ----------
    gift : GiftType
        One of :func:`gift_types`.

    Returns
    -------
    scipy.stats.rv_frozen

    Raises
    ------
    ValueError
        The gloves mixture or coal (no prior is offered: their posteriors are multimodal or spiky).
    """
    p = gift.params
    if gift.family == "clipped_normal":
        return stats.truncnorm(-p["mean"] / p["sd"], np.inf, loc=p["mean"], scale=p["sd"])
    if gift.family == "chi_square":
        return stats.chi2(p["df"])
    if gift.family == "gamma":
        return stats.gamma(p["shape"], scale=p["scale"])
    if gift.family == "triangular":
        c = (p["mode"] - p["left"]) / (p["right"] - p["left"])
        return stats.triang(c, loc=p["left"], scale=p["right"] - p["left"])
    raise ValueError(f"no model prior is offered for {gift.name!r} ({gift.family}); "
                     "use horse, ball, bike, train, book, doll or blocks")


def bag_model(gifts: list[str], bags: list[list[int]], bag_weights, noise_sd: float = 0.1):
    """PyMC model of gift weights from weighed bags.

    Gift ``j`` (of type ``gifts[j]``) has that type's prior; bag ``b`` weighs the sum of its gifts plus
    Normal(0, noise_sd). Free variables are named ``g0_horse``, ``g1_doll``, ...; the bag weights are the
    ``pm.Data`` container ``"bag_weights"`` (change them with ``pm.set_data``).

    Parameters
    ----------
    gifts : list of str
        The type of each gift.
    bags : list of list of int
        The gifts (indices into ``gifts``) in each bag.
    bag_weights : array_like, shape (len(bags),)
        Observed bag weights in lb.
    noise_sd : float, default 0.1
        Sd of the scale's error in lb.

    Returns
    -------
    pymc.Model

    Raises
    ------
    ValueError
        Bag weights not finite or not one per bag; an unknown gift type or one with no prior offered.
    """
    import pymc as pm

    from bayeskit.models.gifts import design_matrix

    types = gift_types()
    A = design_matrix(bags, len(gifts))
    y = np.asarray(bag_weights, float)
    if y.shape != (len(bags),) or not np.all(np.isfinite(y)):
        raise ValueError(f"bag_weights must be {len(bags)} finite numbers, got {bag_weights!r}")
    with pm.Model() as model:
        weights = []
        for j, kind in enumerate(gifts):
            if kind not in types:
                raise ValueError(f"unknown gift type {kind!r}; expected one of {sorted(types)}")
            weights.append(pymc_prior(types[kind], f"g{j}_{kind}"))
        w = pm.math.stack(weights)
        observed = pm.Data("bag_weights", y)
        pm.Normal("bags", mu=pm.math.dot(A, w), sigma=noise_sd, observed=observed)
    return model


def bag_reference(problem, gifts: list[str], bags: list[list[int]], noise_sd: float = 0.1,
                  n_wide: int = 601, n_thin: int = 25, half_width: float = 7.0, max_points: float = 5e7):
    """Exact posterior means, sds and log-evidence of a :func:`bag_model` by grid quadrature.

    ``problem`` is ``Problem.from_pymc(bag_model(gifts, bags, ..., noise_sd))``; its current
    ``"bag_weights"`` are used. The grid lies along the eigen-axes of a Gaussian approximation (each
    prior replaced by a normal with the same mean and variance): ``n_thin`` points across the
    directions the bags pin down (sd below ``3 * noise_sd``), ``n_wide`` along the ones only the
    priors limit, where the priors' support edges cut the posterior (quadrature error there falls only in
    proportion to the spacing, and irregularly as the edges move between grid points, so the change between two
    resolutions can understate it; for bags that form a chain, :func:`bag_chain_reference` measures it).
    See :func:`bayeskit.exact.affine_grid_reference`.

    Parameters
    ----------
    problem : bayeskit.Problem
        Built from the :func:`bag_model`.
    gifts, bags, noise_sd
        As given to :func:`bag_model`.
    n_wide, n_thin : int, default 601 and 25
        Grid points along the wide and the pinned-down directions.
    half_width : float, default 7.0
        Half-width of the grid in sds of the Gaussian approximation.
    max_points : float, default 5e7
        Refuse grids with more points.

    Returns
    -------
    bayeskit.exact.Reference

    Raises
    ------
    ValueError
        ``problem`` not from a bag model, or its parameters do not match ``gifts``; the grid would exceed
        ``max_points``; the density at the grid's faces is not negligible.
    """
    from bayeskit.exact import LinearGaussian, affine_grid_reference
    from bayeskit.models.gifts import design_matrix

    if problem.pymc_model is None or "bag_weights" not in problem.pymc_model.named_vars:
        raise ValueError("problem must come from Problem.from_pymc(bag_model(...))")
    if problem.layout.names != tuple(f"g{j}_{kind}" for j, kind in enumerate(gifts)):
        raise ValueError(f"problem's parameters {problem.layout.names} do not match gifts {gifts}")
    types = gift_types()
    y = np.asarray(problem.pymc_model["bag_weights"].get_value(), float)
    approx = LinearGaussian.from_arrays(
        design_matrix(bags, len(gifts)), y, noise_sd,
        [types[g].exact_mean for g in gifts], np.sqrt([types[g].exact_var for g in gifts]),
    )
    lam, vec = np.linalg.eigh(approx.cov)
    order = np.argsort(lam)[::-1]  # widest first: the grid is evaluated one slice of axis 0 at a time
    sd = np.sqrt(lam[order])
    n = np.where(sd > 3 * noise_sd, n_wide, n_thin)
    if np.prod(n.astype(float)) > max_points:
        raise ValueError(f"{int((sd > 3 * noise_sd).sum())} directions are not pinned down by the bags: a grid of "
                         f"{np.prod(n.astype(float)):.3g} points exceeds max_points={max_points:g}; weigh more bags")
    return affine_grid_reference(problem.log_posterior, approx.mean, vec[:, order] * sd, problem.layout.labels,
                                 n=n, half_width=half_width)


def bag_chain_reference(gifts: list[str], bag_weights, noise_sd: float = 0.1, h: float = 0.002,
                        priors=None) -> Reference:
    """Exact posterior marginals, means, sds and log-evidence of a :func:`bag_model` whose bags form a chain.

    Bag ``j`` holds gifts ``j`` and ``j + 1`` (``bags = [[0, 1], [1, 2], ...]``). Then the posterior
    factorises along the chain: the marginal of gift ``j`` is its prior times a message from the gifts on
    its left and one from those on its right, each an integral over one neighbour's weight,

        left_{j+1}(x) = int prior_j(u) left_j(u) N(y_j; u + x, noise_sd) du   (and likewise from the right),

    computed by the midpoint rule on the cells ``[k h, (k + 1) h]`` from 0 to the heaviest bag plus 12 noise sds
    (every prior here lives on ``[0, inf)`` and a gift weighs at most its bag plus noise). The priors'
    support edges at 0 fall on cell boundaries, so the rule's error is ``O(h^2)``: halve ``h`` to see it.
    No Gaussian approximation and no tilted grid are involved, so this is an independent check of
    :func:`bag_reference`.

    Parameters
    ----------
    gifts : list of str
        The type of each gift, in chain order.
    bag_weights : array_like, shape (len(gifts) - 1,)
        Observed weights of the bags.
    noise_sd : float, default 0.1
        Sd of the scale's error.
    h : float, default 0.002
        Cell width in lb.
    priors : list of scipy.stats frozen distributions, optional
        Replace the gift types' :func:`model_prior` (each supported on ``[0, inf)``; tests use normal
        priors, whose posterior is known exactly).

    Returns
    -------
    bayeskit.exact.Reference
        ``marginal_pdf`` interpolates each marginal density linearly between the cell midpoints (0 below 0).

    Raises
    ------
    ValueError
        Fewer than 2 gifts or not one finite weight per bag; ``h`` or ``noise_sd`` not positive; an unknown
        gift type; priors not one per gift on ``[0, inf)``; no posterior mass on the grid.

    References
    ----------
    Pearl, J. (1988). Probabilistic Reasoning in Intelligent Systems (belief propagation on a chain).
    """
    from scipy import signal

    y = np.asarray(bag_weights, float)
    m = len(gifts)
    if m < 2 or y.shape != (m - 1,) or not np.all(np.isfinite(y)):
        raise ValueError(f"a chain of {m} gifts needs {m - 1} finite bag weights, got {bag_weights!r}")
    if not (np.isfinite(h) and h > 0 and noise_sd > 0):
        raise ValueError(f"h and noise_sd must be positive, got h={h}, noise_sd={noise_sd}")
    if priors is None:
        types = gift_types()
        unknown = [g for g in gifts if g not in types]
        if unknown:
            raise ValueError(f"unknown gift types {unknown}; expected names among {sorted(types)}")
        priors = [model_prior(types[g]) for g in gifts]
    if len(priors) != m or any(dist.support()[0] < 0 for dist in priors):
        raise ValueError("need one prior per gift, each supported on [0, inf)")
    n = int(np.ceil((max(y.max(), 0.0) + 12 * noise_sd) / h))
    x = (np.arange(n) + 0.5) * h  # cell midpoints
    prior = np.array([dist.pdf(x) for dist in priors])
    sums = (np.arange(2 * n - 1) + 1) * h  # x_k + x_k' = (k + k' + 1) h

    def message(w, weight):
        # int w(u) N(weight; u + x, noise_sd) du at every x: a correlation of w with the Gaussian
        kernel = stats.norm.pdf(weight - sums, 0.0, noise_sd)
        return np.clip(h * signal.fftconvolve(w[::-1], kernel)[n - 1:2 * n - 1], 0.0, None)

    left = [np.ones(n)]
    for j in range(m - 1):
        left.append(message(prior[j] * left[j], y[j]))
    right = [np.ones(n)]
    for j in range(m - 2, -1, -1):
        right.insert(0, message(prior[j + 1] * right[0], y[j]))
    density = prior * np.array(left) * np.array(right)
    evidence = density.sum(axis=1) * h  # the same number for every j (up to rounding)
    if not np.all(evidence > 0):
        raise ValueError("the posterior has no mass on the grid: check the bag weights")
    density /= evidence[:, None]
    mean = (density * x).sum(axis=1) * h
    sd = np.sqrt((density * (x - mean[:, None]) ** 2).sum(axis=1) * h)
    names = [f"g{j}_{kind}" for j, kind in enumerate(gifts)]

    def pdf(row):
        return lambda v: np.where(np.asarray(v) < 0, 0.0, np.interp(v, x, row, left=row[0], right=0.0))

    return Reference(mean=dict(zip(names, mean.tolist())), sd=dict(zip(names, sd.tolist())),
                     log_evidence=float(np.log(evidence.mean())),
                     marginal_pdf={name: pdf(row) for name, row in zip(names, density)})
