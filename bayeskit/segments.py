"""Exact posteriors of switchpoint models, from each segment's marginal likelihood.

Given the switchpoint(s), the segments of a series are independent, and each segment's parameters
can be integrated out: in closed form for Poisson counts with a Gamma prior on the rate, and for
normal data with a normal prior on the mean (analytically) and a half-normal prior on the sd (by
quadrature in one dimension). Summing over every switchpoint gives the exact posterior over it and
the exact evidence; mixing the per-segment posteriors gives the parameters' posterior moments.

Conventions (those of :mod:`bayeskit.models.switchpoint`): times ``t`` are sorted integers; a
switchpoint ``s`` takes the values of ``t`` with a uniform prior, and a point belongs to the *first*
segment while ``t <= s`` (so ``s = t[-1]`` means no change). With two switchpoints and reversion,
``s1`` is uniform over ``t`` and ``s2`` uniform over the times ``>= s1``; points with
``s1 < t <= s2`` form the *episode*, all others the *baseline* (one shared mean and sd).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from bayeskit.exact import Reference

__all__ = ["SegmentStats", "NormalSegmentPrior", "PoissonSegmentPrior", "SwitchpointPosterior",
           "one_switchpoint", "two_switchpoints_reversion", "no_switchpoint", "tv_distance", "tv_tolerance"]


@dataclass(frozen=True)
class SegmentStats:
    """Sufficient statistics of segments, vectorised over segments.

    Parameters
    ----------
    n : numpy.ndarray
        Number of points of each segment.
    total : numpy.ndarray
        Sum of the values.
    squares : numpy.ndarray
        Sum of the squared values.
    log_factorials : numpy.ndarray
        Sum of ``log c!`` (for counts ``c``; used by the Poisson likelihood).

    Notes
    -----
    ``a - b`` subtracts statistics elementwise: the statistics of ``y[i:k]`` are those of the prefix
    ``y[:k]`` minus those of ``y[:i]``.
    """

    n: np.ndarray
    total: np.ndarray
    squares: np.ndarray
    log_factorials: np.ndarray

    @classmethod
    def cumulative(cls, y: np.ndarray) -> "SegmentStats":
        """Statistics of the prefixes ``y[:k]``, ``k = 0..len(y)``.

        Parameters
        ----------
        y : array_like, 1-D
            The series.

        Returns
        -------
        SegmentStats
            Arrays of length ``len(y) + 1``.
        """
        y = np.asarray(y, float)
        zero = np.zeros(1)
        return cls(np.arange(len(y) + 1, dtype=float), np.concatenate([zero, np.cumsum(y)]),
                   np.concatenate([zero, np.cumsum(y**2)]),
                   np.concatenate([zero, np.cumsum(special.gammaln(np.abs(y) + 1))]))

    def take(self, k) -> "SegmentStats":
        """The statistics at index (or indices) ``k``.

        Parameters
        ----------
        k : int or array of int
            Indices into the arrays.

        Returns
        -------
        SegmentStats
        """
        return SegmentStats(self.n[k], self.total[k], self.squares[k], self.log_factorials[k])

    def __sub__(self, other: "SegmentStats") -> "SegmentStats":
        return SegmentStats(self.n - other.n, self.total - other.total, self.squares - other.squares,
                            self.log_factorials - other.log_factorials)


@dataclass(frozen=True)
class NormalSegmentPrior:
    """``mu ~ Normal(mu_mean, mu_sd)``, ``sigma ~ HalfNormal(sigma_sd)``, ``y_i ~ Normal(mu, sigma)``.

    The mean is integrated analytically given ``sigma``; ``sigma`` by the trapezoid rule on ``n_grid``
    points of ``log sigma`` from ``sigma_sd * exp(-30)`` to ``sigma_sd * exp(3)`` (the integrand is
    smooth and vanishes at both ends, so the rule converges exponentially; tested against 2-D quadrature).

    Parameters
    ----------
    mu_mean : float, default 0.0
        Prior mean of each segment's mean.
    mu_sd : float, default 10.0
        Prior sd of each segment's mean, positive.
    sigma_sd : float, default 5.0
        Scale of the half-normal prior of each segment's sd, positive.
    n_grid : int, default 1201
        Quadrature points in ``log sigma``.

    Raises
    ------
    ValueError
        ``mu_sd`` or ``sigma_sd`` not positive, or ``mu_mean`` not finite.
    """

    mu_mean: float = 0.0
    mu_sd: float = 10.0
    sigma_sd: float = 5.0
    n_grid: int = 1201

    def __post_init__(self):
        if not (self.mu_sd > 0 and self.sigma_sd > 0 and np.isfinite(self.mu_mean)):
            raise ValueError(f"need mu_sd > 0, sigma_sd > 0 and a finite mu_mean, got {self}")

    def integrate(self, seg: SegmentStats) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Log marginal likelihood of each segment and posterior moments of its parameters.

        Parameters
        ----------
        seg : SegmentStats
            Statistics of the segments.

        Returns
        -------
        log_ml : numpy.ndarray
            Log marginal likelihood per segment (0 for an empty segment).
        moments : dict of str to numpy.ndarray
            Posterior ``E[mu]``, ``E[mu^2]``, ``E[sigma]``, ``E[sigma^2]`` per segment, under keys ``"mu"``,
            ``"mu2"``, ``"sigma"``, ``"sigma2"`` (an empty segment gives the prior's).
        """
        n, tot, sq = (np.asarray(a, float)[:, None] for a in (seg.n, seg.total, seg.squares))
        u = np.linspace(np.log(self.sigma_sd) - 30, np.log(self.sigma_sd) + 3, self.n_grid)
        sigma = np.exp(u)[None, :]
        var = sigma**2
        # log p(y | sigma) with mu integrated out, in a form without cancellation at small sigma:
        # (2 pi sigma^2)^(-(n-1)/2) n^(-1/2) exp(-S / (2 sigma^2)) N(ybar | mu_mean, sigma^2 / n + mu_sd^2),
        # S = sum (y - ybar)^2 (exactly 0 for one point); and 1 for an empty segment
        some = n > 0
        safe_n = np.where(some, n, 1.0)
        ybar = tot / safe_n
        within = np.where(n > 1, np.maximum(sq - tot * ybar, 0.0), 0.0)
        spread = var / safe_n + self.mu_sd**2
        log_lik = np.where(some, -0.5 * (n - 1) * np.log(2 * np.pi * var) - 0.5 * np.log(safe_n) - 0.5 * within / var
                           - 0.5 * np.log(2 * np.pi * spread) - 0.5 * (ybar - self.mu_mean) ** 2 / spread, 0.0)
        prec = n / var + 1 / self.mu_sd**2
        post_mean = (tot / var + self.mu_mean / self.mu_sd**2) / prec
        log_prior = np.log(2) - 0.5 * np.log(2 * np.pi * self.sigma_sd**2) - 0.5 * var / self.sigma_sd**2
        log_f = log_lik + log_prior + u[None, :]  # d sigma = sigma du
        top = log_f.max(axis=1, keepdims=True)
        w = np.exp(log_f - top)
        h = u[1] - u[0]
        z = np.trapezoid(w, dx=h, axis=1)
        expect = lambda g: np.trapezoid(w * g, dx=h, axis=1) / z  # noqa: E731
        moments = {"mu": expect(post_mean + 0 * sigma), "mu2": expect(post_mean**2 + 1 / prec),
                   "sigma": expect(sigma + 0 * n), "sigma2": expect(var + 0 * n)}
        return top[:, 0] + np.log(z), moments


@dataclass(frozen=True)
class PoissonSegmentPrior:
    """``rate ~ Gamma(shape, rate=rate)`` (``Exponential(lam)`` is ``shape=1, rate=lam``), counts ``~ Poisson(rate)``.

    Parameters
    ----------
    shape : float, default 1.0
        Gamma shape, positive.
    rate : float, default 1.0
        Gamma rate (inverse scale), positive.

    Raises
    ------
    ValueError
        ``shape`` or ``rate`` not positive.
    """

    shape: float = 1.0
    rate: float = 1.0

    def __post_init__(self):
        if not (self.shape > 0 and self.rate > 0):
            raise ValueError(f"need shape > 0 and rate > 0, got {self}")

    def integrate(self, seg: SegmentStats) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Log marginal likelihood of each segment (Gamma-Poisson, closed form) and the rate's posterior moments.

        Parameters
        ----------
        seg : SegmentStats
            Statistics of the segments.

        Returns
        -------
        log_ml : numpy.ndarray
            Log marginal likelihood per segment (negative binomial in closed form).
        moments : dict of str to numpy.ndarray
            Posterior ``E[rate]`` and ``E[rate^2]`` under keys ``"rate"`` and ``"rate2"``.
        """
        a, b = self.shape + np.asarray(seg.total, float), self.rate + np.asarray(seg.n, float)
        log_ml = (self.shape * np.log(self.rate) - special.gammaln(self.shape) + special.gammaln(a)
                  - a * np.log(b) - seg.log_factorials)
        return log_ml, {"rate": a / b, "rate2": a * (a + 1) / b**2}


@dataclass(frozen=True)
class SwitchpointPosterior:
    """Exact posterior over the switchpoint(s) and the parameters' posterior means and sds.

    Parameters
    ----------
    switchpoints : numpy.ndarray
        The values of ``s``, shape ``(m,)``, or of the pairs ``(s1, s2)``, shape ``(m, 2)``.
    pmf : numpy.ndarray, shape (m,)
        Their posterior probabilities.
    log_evidence : float
        Exact log marginal likelihood of the model.
    mean : dict of str to float
        Posterior means of the parameters (``mu_before``, ``rate_after``, the switchpoints ...).
    sd : dict of str to float
        Their posterior sds.
    """

    switchpoints: np.ndarray  # (m,) values of s, or (m, 2) pairs (s1, s2)
    pmf: np.ndarray  # (m,)
    log_evidence: float
    mean: dict[str, float]
    sd: dict[str, float]

    def marginal(self, k: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Values and probabilities of switchpoint ``k`` (0 or 1) alone.

        Parameters
        ----------
        k : int, default 0
            Which switchpoint (1 only for two switchpoints).

        Returns
        -------
        values : numpy.ndarray
            The switchpoint's distinct values, sorted.
        probabilities : numpy.ndarray
            Their marginal posterior probabilities.
        """
        s = self.switchpoints if self.switchpoints.ndim == 1 else self.switchpoints[:, k]
        values = np.unique(s)
        return values, np.bincount(np.searchsorted(values, s), weights=self.pmf, minlength=len(values))

    def mode(self, k: int = 0) -> int:
        """Most probable value of switchpoint ``k``.

        Parameters
        ----------
        k : int, default 0
            Which switchpoint.

        Returns
        -------
        int
            The marginal posterior mode.
        """
        values, p = self.marginal(k)
        return int(values[np.argmax(p)])

    def interval(self, prob: float = 0.94, k: int = 0) -> tuple[int, int]:
        """Equal-tailed interval of switchpoint ``k``.

        Parameters
        ----------
        prob : float, default 0.94
            Probability inside the interval.
        k : int, default 0
            Which switchpoint.

        Returns
        -------
        tuple of int
            The smallest value with CDF >= (1 - prob)/2 and the smallest value with CDF >= (1 + prob)/2.
        """
        values, p = self.marginal(k)
        cdf = np.cumsum(p)
        return int(values[np.searchsorted(cdf, (1 - prob) / 2)]), int(values[np.searchsorted(cdf, (1 + prob) / 2)])

    def reference(self) -> Reference:
        """The posterior means, sds and log-evidence as a :class:`~bayeskit.exact.Reference`.

        Returns
        -------
        bayeskit.exact.Reference
        """
        return Reference(dict(self.mean), dict(self.sd), self.log_evidence)


def _check_series(t, y, counts: bool) -> tuple[np.ndarray, np.ndarray]:
    t, y = np.asarray(t), np.asarray(y, float)
    if t.ndim != 1 or y.shape != t.shape or len(t) < 2:
        raise ValueError(f"t and y must be 1-D of the same length >= 2, got shapes {t.shape} and {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or inf")
    if not (np.issubdtype(t.dtype, np.integer) and np.all(np.diff(t) > 0)):
        raise ValueError("t must be strictly increasing integers")
    if counts and np.any((y < 0) | (y != np.round(y))):
        raise ValueError("Poisson counts must be non-negative integers")
    return t, y


def _prior_kind(prior) -> bool:
    if isinstance(prior, PoissonSegmentPrior):
        return True
    if isinstance(prior, NormalSegmentPrior):
        return False
    raise TypeError(f"prior must be a NormalSegmentPrior or PoissonSegmentPrior, got {type(prior).__name__}")


def _moments(name: str, m: dict, weights: np.ndarray) -> tuple[float, float]:
    mean = float(weights @ m[name])
    return mean, float(np.sqrt(max(weights @ m[name + "2"] - mean**2, 0.0)))


def _mix(out_mean, out_sd, prefix_names, moments_by_segment, weights):
    for label, moments in zip(prefix_names, moments_by_segment):
        for name in moments:
            if name.endswith("2"):
                continue
            out_mean[f"{name}_{label}"], out_sd[f"{name}_{label}"] = _moments(name, moments, weights)


def no_switchpoint(t, y, prior) -> SwitchpointPosterior:
    """One segment for the whole series: its evidence and parameter moments (the no-change model).

    Parameters
    ----------
    t : array_like of int
        Times, strictly increasing integers (at least 2).
    y : array_like
        Observations at ``t``: any finite values for a :class:`NormalSegmentPrior`, non-negative integer
        counts for a :class:`PoissonSegmentPrior`.
    prior : NormalSegmentPrior or PoissonSegmentPrior
        Prior of each segment's parameters.

    Returns
    -------
    SwitchpointPosterior
        With the single "switchpoint" ``t[-1]`` (no change) and parameters named ``mu``, ``sigma`` or
        ``rate``.

    Raises
    ------
    ValueError
        ``t`` and ``y`` not 1-D of the same length >= 2, ``y`` not finite, ``t`` not strictly increasing
        integers, or counts not non-negative integers.
    TypeError
        ``prior`` is neither segment prior.
    """
    t, y = _check_series(t, y, _prior_kind(prior))
    stats = SegmentStats.cumulative(y)
    log_ml, m = prior.integrate(stats.take(np.array([len(y)])))
    mean, sd = {}, {}
    for name in m:
        if not name.endswith("2"):
            mean[name], sd[name] = _moments(name, m, np.ones(1))
    return SwitchpointPosterior(np.array([t[-1]]), np.ones(1), float(log_ml[0]), mean, sd)


def one_switchpoint(t, y, prior, labels=("before", "after"), name: str = "switchpoint") -> SwitchpointPosterior:
    """Exact posterior of the one-switchpoint model: ``s`` uniform over ``t``, first segment ``t <= s``.

    Parameters
    ----------
    t : array_like of int
        Times, strictly increasing integers (at least 2).
    y : array_like
        Observations at ``t``: any finite values for a :class:`NormalSegmentPrior`, non-negative integer
        counts for a :class:`PoissonSegmentPrior`.
    prior : NormalSegmentPrior or PoissonSegmentPrior
        Prior of each segment's parameters.
    labels : tuple of str, default ("before", "after")
        Suffixes of the two segments' parameters: ``mu_before``, ``rate_after``, ...
    name : str, default "switchpoint"
        Name of the switchpoint's own mean and sd.

    Returns
    -------
    SwitchpointPosterior
        The posterior over ``s`` (one value per ``t``), the log-evidence, and the parameters' means and sds.

    Raises
    ------
    ValueError
        ``t`` and ``y`` not 1-D of the same length >= 2, ``y`` not finite, ``t`` not strictly increasing
        integers, or counts not non-negative integers.
    TypeError
        ``prior`` is neither segment prior.

    Examples
    --------
    >>> import numpy as np
    >>> from bayeskit.segments import PoissonSegmentPrior, one_switchpoint
    >>> t = np.arange(1, 21)
    >>> y = np.r_[np.full(10, 5), np.full(10, 0)]
    >>> one_switchpoint(t, y, PoissonSegmentPrior()).mode()
    10
    """
    t, y = _check_series(t, y, _prior_kind(prior))
    T = len(t)
    stats = SegmentStats.cumulative(y)
    k = np.arange(1, T + 1)  # first segment holds y[:k], i.e. s = t[k - 1]
    first = stats.take(k)
    second = stats.take(np.full(T, T)) - first
    ll1, m1 = prior.integrate(first)
    ll2, m2 = prior.integrate(second)
    log_joint = ll1 + ll2 - np.log(T)
    log_z = special.logsumexp(log_joint)
    pmf = np.exp(log_joint - log_z)
    mean, sd = {}, {}
    _mix(mean, sd, labels, [m1, m2], pmf)
    mean[name] = float(pmf @ t)
    sd[name] = float(np.sqrt(pmf @ (t - mean[name]) ** 2))
    return SwitchpointPosterior(t.copy(), pmf, float(log_z), mean, sd)


def two_switchpoints_reversion(t, y, prior, labels=("base", "episode"),
                               names=("switch_1", "switch_2")) -> SwitchpointPosterior:
    """Exact posterior of two switchpoints with reversion.

    ``s1`` is uniform over ``t``, ``s2`` uniform over ``t >= s1``; the episode is ``s1 < t <= s2``, the
    rest shares the baseline parameters. All ``T (T + 1) / 2`` pairs are summed.

    Parameters
    ----------
    t : array_like of int
        Times, strictly increasing integers (at least 2).
    y : array_like
        Observations at ``t``: any finite values for a :class:`NormalSegmentPrior`, non-negative integer
        counts for a :class:`PoissonSegmentPrior`.
    prior : NormalSegmentPrior or PoissonSegmentPrior
        Prior of each segment's parameters.
    labels : tuple of str, default ("base", "episode")
        Suffixes of the baseline's and the episode's parameters.
    names : tuple of str, default ("switch_1", "switch_2")
        Names of the two switchpoints' means and sds.

    Returns
    -------
    SwitchpointPosterior
        The posterior over the pairs ``(s1, s2)``, the log-evidence, and the parameters' means and sds.

    Raises
    ------
    ValueError
        ``t`` and ``y`` not 1-D of the same length >= 2, ``y`` not finite, ``t`` not strictly increasing
        integers, or counts not non-negative integers.
    TypeError
        ``prior`` is neither segment prior.
    """
    t, y = _check_series(t, y, _prior_kind(prior))
    T = len(t)
    stats = SegmentStats.cumulative(y)
    i, j = np.triu_indices(T)  # s1 = t[i], s2 = t[j], j >= i; episode = y[i+1 : j+1]
    episode = stats.take(j + 1) - stats.take(i + 1)
    base = stats.take(np.full(len(i), T)) - episode
    ll_base, m_base = prior.integrate(base)
    ll_episode, m_episode = prior.integrate(episode)
    log_prior = -np.log(T) - np.log(T - i)
    log_joint = ll_base + ll_episode + log_prior
    log_z = special.logsumexp(log_joint)
    pmf = np.exp(log_joint - log_z)
    mean, sd = {}, {}
    _mix(mean, sd, labels, [m_base, m_episode], pmf)
    pairs = np.column_stack([t[i], t[j]])
    for k, name in enumerate(names):
        mean[name] = float(pmf @ pairs[:, k])
        sd[name] = float(np.sqrt(pmf @ (pairs[:, k] - mean[name]) ** 2))
    return SwitchpointPosterior(pairs, pmf, float(log_z), mean, sd)


def tv_distance(draws, values, pmf) -> float:
    """Total variation distance between the empirical distribution of integer ``draws`` and ``pmf`` on ``values``.

    Parameters
    ----------
    draws : array_like of int
        Draws of a switchpoint (any shape; flattened).
    values : array_like, sorted
        The support of ``pmf``.
    pmf : array_like
        Probabilities of ``values``.

    Returns
    -------
    float
        Half the L1 distance; draws outside ``values`` count fully.
    """
    draws = np.asarray(draws).ravel()
    values = np.asarray(values)
    outside = ~np.isin(draws, values)
    counts = np.bincount(np.searchsorted(values, draws[~outside]), minlength=len(values)) / draws.size
    return float(0.5 * (np.abs(counts - pmf).sum() + outside.mean()))


def tv_tolerance(pmf, n_eff: float, alpha: float = 1e-4) -> float:
    """Upper bound for the TV distance of ``n_eff`` independent draws from ``pmf``, exceeded with probability < ``alpha``.

    Its expectation, at most ``sum_k sqrt(p_k (1 - p_k) / n) / 2`` (Jensen), plus McDiarmid's deviation
    ``sqrt(log(1 / alpha) / (2 n))`` (one draw moves the TV by at most ``1 / n``). For correlated MCMC
    draws, ``n_eff`` is their effective sample size.

    Parameters
    ----------
    pmf : array_like
        The exact probabilities.
    n_eff : float
        Number of independent draws (or the ESS), positive.
    alpha : float, default 1e-4
        Probability that the bound is exceeded.

    Returns
    -------
    float
        The bound.

    Raises
    ------
    ValueError
        ``n_eff`` is not positive.

    References
    ----------
    McDiarmid, C. (1989). On the method of bounded differences. Surveys in Combinatorics 141, 148-188.
    """
    pmf = np.asarray(pmf, float)
    if not n_eff > 0:
        raise ValueError(f"n_eff must be positive, got {n_eff}")
    return float(0.5 * np.sqrt(pmf * (1 - pmf) / n_eff).sum() + np.sqrt(np.log(1 / alpha) / (2 * n_eff)))
