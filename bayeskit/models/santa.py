"""Santa's Uncertain Bags (Kaggle, 2016): the nine gift-weight distributions, bag weights and scores.

A bag's score is its weight ``W`` if ``W <= 50`` lb, and 0 if it is overweight; the expected score
is ``E[W 1(W <= 50)]``. Weights are computed two independent ways: by Monte Carlo
(:func:`bag_score_mc`) and by numerical convolution of the gift distributions (:func:`bag_score_exact`),
which gives rigorous lower and upper bounds. Gift weights can be inferred from weighed bags
(:func:`bag_model`), with an exact reference by quadrature (:func:`bag_reference`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
from scipy import stats

from bayeskit import data
from bayeskit._checks import as_rng

__all__ = ["BAG_CAPACITY", "GiftType", "gift_types", "bag_weights", "bag_score_mc", "bag_score_exact",
           "bag_weight_distribution", "pymc_prior", "bag_model", "bag_reference"]

BAG_CAPACITY = 50.0


@dataclass(frozen=True)
class GiftType:
    """One gift type: its weight distribution (family and parameters), count and exact moments."""

    name: str
    family: str
    params: Mapping[str, float]
    count: int
    exact_mean: float
    exact_var: float

    def sample(self, rng, size) -> np.ndarray:
        """Weights drawn with the competition's recipe (``numpy`` generators)."""
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
        """Cumulative distribution function (right-continuous; includes any point mass at 0)."""
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
    """The nine gift types of the competition, from ``data/santa_gifts.json``."""
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
    """Monte Carlo weights of ``n_bags`` independent bags of the given composition, e.g. ``{"horse": 3, "book": 2}``."""
    types = gift_types()
    composition = _check_composition(composition, types)
    rng = as_rng(seed)
    total = np.zeros(n_bags)
    for name, n in composition.items():
        total += types[name].sample(rng, (n_bags, n)).sum(axis=1)
    return total


def bag_score_mc(composition: Mapping[str, int], n_bags: int = 100_000, seed=None) -> dict[str, float]:
    """Monte Carlo expected score and overweight probability of one bag, with standard errors."""
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
    """
    grid, pmf, above = _distribution_up_to(composition, h, BAG_CAPACITY)
    n_gifts = sum(composition.values())
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
    """Exact distribution of the discretised bag weight ``W_h`` (each gift rounded down to a multiple of
    ``h``): values ``grid`` and probabilities ``pmf``. ``pmf / h`` approximates the density of ``W``."""
    grid, pmf, _ = _distribution_up_to(composition, h, np.inf)
    return grid, pmf


def _distribution_up_to(composition: Mapping[str, int], h: float, cut: float) -> tuple[np.ndarray, np.ndarray, float]:
    """The distribution of ``W_h`` on the grid points up to ``cut`` (plus one), and the mass above them.

    Gift weights are non-negative, so a partial sum above ``cut`` stays above it: cutting each partial
    sum there loses nothing below ``cut``."""
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
    return h * np.arange(len(pmf)), pmf, above


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


def bag_model(gifts: list[str], bags: list[list[int]], bag_weights, noise_sd: float = 0.1):
    """PyMC model: gift ``j`` (of type ``gifts[j]``) has that type's prior; bag ``b`` weighs the sum of its
    gifts plus Normal(0, noise_sd). Free variables are named ``g0_horse``, ``g1_doll``, ...; the bag
    weights are the ``pm.Data`` container ``"bag_weights"`` (change them with ``pm.set_data``)."""
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
    priors limit, where the priors' support edges cut the posterior (quadrature error there is of
    the order of the spacing: compare two resolutions). See :func:`bayeskit.exact.affine_grid_reference`.
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
