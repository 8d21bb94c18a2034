"""Helpers of notebook 04 (switchpoints): a series whose change is not at the prior's midpoint, a Gibbs
step that draws a discrete switchpoint from its exact conditional, and PyMC's log messages as data.

* :func:`simulate_one_change` - a normal series with one change at a chosen time (seeded).
* :class:`EnumerationGibbs` - a PyMC step method for a scalar discrete variable with a bounded support:
  the model's log density at *every* value of the support, in one vectorised call, and a draw from the
  normalised result (a Gibbs update). PyMC's default for an integer, a random-walk Metropolis step
  with a rounded normal jump, moves a switchpoint whose posterior sits 99% on one value only rarely;
  this step lands on each value with its conditional probability at every draw.
* :func:`excursions` - how often the chains of a discrete variable leave a value, and for how long.
* :func:`rhat_tolerance` - the largest split R-hat that chains sampling the same distribution reach by
  chance, given their number and effective sample size (R-hat's noise floor is higher for few draws).
* :func:`poisson_predictive_pmf` and :func:`count_band` - the exact posterior predictive distribution of
  each count of a one-switchpoint Poisson model (a mixture of negative binomials over the switchpoint),
  and its central band, without simulation noise.
* :func:`pymc_log_messages` - PyMC's log records (e.g. ``find_MAP``'s switch to Powell) collected as
  strings instead of printed, so that a notebook can show them in a table; :func:`quiet_pymc_progress`
  hides PyMC's progress notes ("Sampling: [y]") while warnings still pass.

References
----------
Geman, S. and Geman, D. (1984). Stochastic relaxation, Gibbs distributions, and the Bayesian restoration
of images. IEEE Transactions on Pattern Analysis and Machine Intelligence 6, 721-741.
Vehtari, A., Gelman, A., Simpson, D., Carpenter, B. and Buerkner, P.-C. (2021). Rank-normalization, folding,
and localization: an improved R-hat for assessing convergence of MCMC. Bayesian Analysis 16, 667-718.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import field

import numpy as np

__all__ = ["simulate_one_change", "EnumerationGibbs", "excursions", "rhat_tolerance", "poisson_predictive_pmf",
           "count_band", "pymc_log_messages", "quiet_pymc_progress"]


def simulate_one_change(n: int = 100, change: int = 60, before=(-1.0, 1.0), after=(5.0, 2.0),
                        seed=None) -> tuple[np.ndarray, np.ndarray]:
    """Times ``t = 1..n`` and values: ``y_t ~ Normal(*before)`` while ``t <= change``, ``Normal(*after)``
    after it (``before`` and ``after`` are (mean, sd) pairs).

    Parameters
    ----------
    n : int, default 100
        Number of times.
    change : int, default 60
        Last time of the first segment, in ``1..n-1``.
    before, after : pair of float
        (mean, sd) of each segment.
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator, optional
        Randomness.

    Returns
    -------
    t : numpy.ndarray of int
    y : numpy.ndarray

    Raises
    ------
    ValueError
        If ``change`` is not in ``1..n-1`` or an sd is not positive.
    """
    n, change = int(n), int(change)
    if not 1 <= change < n:
        raise ValueError(f"change must be in 1..n-1 = 1..{n - 1}, got {change}")
    if not (before[1] > 0 and after[1] > 0):
        raise ValueError(f"the sds must be positive, got {before[1]} and {after[1]}")
    rng = np.random.default_rng(seed)
    y = np.concatenate([rng.normal(before[0], before[1], change), rng.normal(after[0], after[1], n - change)])
    return np.arange(1, n + 1), y


def excursions(draws, value) -> dict[str, int]:
    """For integer draws ``(chain, draw)``: ``draws_off`` (draws not equal to ``value``), ``excursions``
    (times a chain left ``value``, a chain starting elsewhere counting once) and ``chains_never_off``.

    Parameters
    ----------
    draws : array_like of int, shape (chain, draw)
        Draws of a discrete parameter (1-D: one chain).
    value : int
        The value the chains are expected to stay at.

    Returns
    -------
    dict of str to int
    """
    draws = np.atleast_2d(np.asarray(draws))
    off = draws != value
    entries = (off[:, 1:] & ~off[:, :-1]).sum() + off[:, 0].sum()
    return {"draws_off": int(off.sum()), "excursions": int(entries), "chains_never_off": int((~off.any(axis=1)).sum())}


def rhat_tolerance(n_chains: int, ess: float, alpha: float = 1e-4) -> float:
    """The split R-hat that ``n_chains`` chains sampling the *same* distribution exceed with probability
    about ``alpha``, given the effective sample size ``ess`` of all their draws together.

    Split R-hat (Vehtari et al. 2021) cuts each chain in two, ``m = 2 * n_chains`` pieces of ``n`` draws, and
    is ``sqrt((n - 1) / n + B / W)`` with ``B`` the sample variance of the pieces' means and ``W`` the mean
    within-piece variance. If each piece holds ``ess / m`` effective draws, its mean has variance
    ``W m / ess``, and ``B`` is that times ``chi2(m - 1) / (m - 1)`` (means roughly normal and independent).
    So ``R-hat^2 < 1 + (m / ess) q``, with ``q`` the ``1 - alpha / 2`` quantile of ``chi2(m - 1) / (m - 1)``
    (ArviZ reports the larger of a bulk and a tail R-hat: ``alpha / 2`` each); dropping ``-1 / n`` makes the
    bound slightly larger. With 4 chains and an ESS of 4000 it is about 1.004; with an ESS of 700, about 1.025.
    A chain stuck in another mode moves R-hat far above it.

    Parameters
    ----------
    n_chains : int
        Number of chains, at least 2.
    ess : float
        Effective sample size of all their draws together.
    alpha : float, default 1e-4
        Probability of exceeding the tolerance.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If there are fewer than 2 chains, ``ess`` is not positive or ``alpha`` is not in (0, 1).
    """
    from scipy import stats

    if int(n_chains) < 2:
        raise ValueError(f"R-hat needs at least 2 chains, got {n_chains}")
    if not ess > 0:
        raise ValueError(f"ess must be positive, got {ess}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    m = 2 * int(n_chains)
    q = stats.chi2.ppf(1 - alpha / 2, m - 1) / (m - 1)
    return float(np.sqrt(1 + m / float(ess) * q))


def poisson_predictive_pmf(t, counts, shape: float = 1.0, rate: float = 1.0,
                           max_count: int | None = None) -> np.ndarray:
    """Exact posterior predictive probabilities of a new count at each time of a one-switchpoint Poisson model.

    ``s`` uniform over ``t``, both rates ``~ Gamma(shape, rate)``, counts ``~ Poisson(rate of the segment)``.
    Given ``s``, a segment's rate is ``Gamma(shape + sum of its counts, rate + its length)`` a posteriori, and
    a new count from it is negative binomial; the predictive at time ``t_i`` mixes those over ``p(s | data)``,
    using the first segment's when ``t_i <= s``.

    Parameters
    ----------
    t : array_like of int
        Times, strictly increasing integers.
    counts : array_like of int
        Non-negative counts at ``t``.
    shape, rate : float, default 1.0
        The Gamma prior of both rates.
    max_count : int, optional
        Largest count tabulated; default four times the largest count plus 10 (the mass above it is then
        negligible for data like the coal counts; the rows' sums show it).

    Returns
    -------
    numpy.ndarray, shape (len(t), max_count + 1)
        Entry ``[i, d]`` is ``P(new count at t_i = d | data)``.

    Raises
    ------
    ValueError
        Bad series (see :func:`bayeskit.segments.one_switchpoint`).
    """
    from scipy import stats

    from bayeskit import segments

    prior = segments.PoissonSegmentPrior(shape=shape, rate=rate)
    posterior = segments.one_switchpoint(t, counts, prior)
    counts = np.asarray(counts, float)
    T = len(counts)
    max_count = int(4 * counts.max() + 10) if max_count is None else int(max_count)
    cum = np.concatenate([[0.0], np.cumsum(counts)])
    k = np.arange(1, T + 1)                                    # s = t[k - 1]: the first segment holds counts[:k]
    d = np.arange(max_count + 1)[None, :]
    a1, b1 = shape + cum[k], rate + k
    a2, b2 = shape + cum[T] - cum[k], rate + (T - k)
    first = stats.nbinom.pmf(d, a1[:, None], (b1 / (b1 + 1))[:, None])     # (switchpoint, count)
    second = stats.nbinom.pmf(d, a2[:, None], (b2 / (b2 + 1))[:, None])
    in_first = np.arange(T)[:, None] < k[None, :]               # (time, switchpoint): t_i <= s
    w = posterior.pmf[None, :]
    return (in_first * w) @ first + (~in_first * w) @ second


def count_band(pmf, prob: float = 0.9) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Central band of integer counts from probabilities ``pmf`` ``(n, K)`` over ``0..K-1``: the lower end is
    the ``(1 - prob) / 2`` quantile (smallest count whose CDF reaches it), the upper end the ``(1 + prob) / 2``
    quantile. Returns ``(lower, upper, p_outside)``: ``p_outside`` is the probability that a count falls
    below the lower end or above the upper one, at most ``1 - prob`` and less with integer counts.

    Parameters
    ----------
    pmf : array_like, shape (n, K)
        Probabilities of the counts ``0..K-1``, one row per time.
    prob : float, default 0.9
        Probability of the central band, in (0, 1).

    Returns
    -------
    lower, upper : numpy.ndarray of int, shape (n,)
    p_outside : numpy.ndarray, shape (n,)

    Raises
    ------
    ValueError
        ``prob`` not in (0, 1).
    """
    pmf = np.atleast_2d(np.asarray(pmf, float))
    if not 0 < prob < 1:
        raise ValueError(f"prob must be in (0, 1), got {prob}")
    cdf = np.cumsum(pmf, axis=1)
    lower = np.array([np.searchsorted(row, (1 - prob) / 2) for row in cdf])
    upper = np.array([np.searchsorted(row, (1 + prob) / 2) for row in cdf])
    idx = np.arange(len(cdf))
    below = np.where(lower > 0, cdf[idx, np.maximum(lower - 1, 0)], 0.0)
    above = cdf[:, -1] - cdf[idx, np.minimum(upper, cdf.shape[1] - 1)]
    return lower, upper, below + above


@contextmanager
def pymc_log_messages(level: int = logging.WARNING):
    """Collect the messages PyMC logs at ``level`` or above inside the block into a list (yielded), instead
    of printing them; the logger's handlers and level are restored afterwards.

    Parameters
    ----------
    level : int, default logging.WARNING
        Lowest level collected.

    Yields
    ------
    list of str
        The messages, filled as they are logged.
    """
    logger = logging.getLogger("pymc")
    messages: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record):
            messages.append(record.getMessage())

    handler = _Collect(level)
    saved_handlers, saved_propagate = logger.handlers[:], logger.propagate
    logger.handlers = [handler]
    logger.propagate = False
    try:
        yield messages
    finally:
        logger.handlers = saved_handlers
        logger.propagate = saved_propagate


@contextmanager
def quiet_pymc_progress():
    """PyMC reports progress ("Sampling: [y]") on its logger at info level: hide those inside the block
    by raising the logger's level to WARNING; warnings and errors still pass."""
    logger = logging.getLogger("pymc")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


def _enumeration_gibbs_class():
    """Build the step class on first use (PyMC is imported only when it is needed)."""
    import pymc as pm
    import pytensor
    import pytensor.tensor as pt
    from pymc.blocking import RaveledVars
    from pymc.pytensorf import join_nonshared_inputs
    from pymc.step_methods.arraystep import ArrayStepShared
    from pymc.step_methods.compound import Competence, StepMethodState
    from pymc.step_methods.state import dataclass_state
    from pymc.util import get_value_vars_from_user_vars
    from pytensor.graph.replace import vectorize_graph

    @dataclass_state
    class EnumerationGibbsState(StepMethodState):
        values: np.ndarray = field(metadata={"frozen": True})

    class _EnumerationGibbs(ArrayStepShared):
        name = "enumeration_gibbs"
        default_blocked = False  # several variables: one step each, updated in turn
        stats_dtypes_shapes = {"moved": (bool, []), "p_current": (np.float64, [])}
        _state_class = EnumerationGibbsState

        def __init__(self, vars, values, *, model=None, rng=None, initial_point=None, compile_kwargs=None,
                     blocked: bool = False):
            model = pm.modelcontext(model)
            if initial_point is None:
                initial_point = model.initial_point()
            (value_var,) = get_value_vars_from_user_vars(vars, model)
            if value_var.dtype not in pm.discrete_types or initial_point[value_var.name].shape != ():
                raise ValueError(f"EnumerationGibbs needs a scalar discrete variable, got {value_var.name} "
                                 f"({value_var.dtype}, shape {initial_point[value_var.name].shape})")
            values = np.unique(np.asarray(values)).astype(value_var.dtype)
            if values.ndim != 1 or len(values) < 2:
                raise ValueError(f"values must list at least two values of the support, got {values!r}")
            self.values = values
            shared = pm.make_shared_replacements(initial_point, [value_var], model)
            [logp], raveled = join_nonshared_inputs(point=initial_point, outputs=[model.logp()], inputs=[value_var],
                                                    shared_inputs=shared)
            # the model's log density at every candidate value in one call: replace the (raveled, length-1)
            # input by a (K, 1) batch and let PyTensor vectorise the graph
            batch = pt.matrix("candidates", dtype=raveled.dtype)
            self._logp_all = pytensor.function([batch], vectorize_graph(logp, replace={raveled: batch}),
                                               **(compile_kwargs or {}))
            self._candidates = values.astype(raveled.dtype)[:, None]
            super().__init__([value_var], shared, blocked=blocked, rng=rng)

        def reset_tuning(self):
            return  # nothing is tuned

        def astep(self, q0):
            logp = np.asarray(self._logp_all(self._candidates), float)
            top = logp.max()
            if not np.isfinite(top):
                raise ValueError(f"{self.vars[0].name}: every candidate value has zero probability")
            p = np.exp(logp - top)
            p /= p.sum()
            k = self.rng.choice(len(p), p=p)
            current = np.searchsorted(self.values, q0.data[0])
            p_current = float(p[current]) if current < len(p) and self.values[current] == q0.data[0] else 0.0
            new = np.array([self.values[k]], dtype=q0.data.dtype)
            return RaveledVars(new, q0.point_map_info), [
                {"moved": bool(new[0] != q0.data[0]), "p_current": p_current}]

        @staticmethod
        def competence(var):
            return Competence.INCOMPATIBLE  # used only when asked for

    _EnumerationGibbs.__name__ = _EnumerationGibbs.__qualname__ = "EnumerationGibbs"
    return _EnumerationGibbs


_CLASS = None


def EnumerationGibbs(vars, values, **kwargs):  # noqa: N802 (a class to its users)
    """A PyMC step method: Gibbs updates of scalar discrete variables by enumerating their support.

    At every draw the variable is set to a value drawn from its full conditional, computed exactly as the
    model's log density at each of ``values`` (the others held fixed) and normalised; values outside
    the conditional support (e.g. ``switch_2 < switch_1``) get log density ``-inf`` and probability 0.
    With several variables, each gets its own step, updated in turn. Costs one vectorised evaluation of
    ``len(values)`` log densities per update.

    Parameters
    ----------
    vars
        The discrete variable(s), each a scalar.
    values
        Every value the variable can take (e.g. the times ``t`` of a switchpoint); a superset is fine.
    **kwargs
        ``model``, ``rng``, ``initial_point``, ``compile_kwargs`` as for PyMC's own step methods.

    Returns
    -------
    A PyMC step (a ``CompoundStep`` of one step per variable when several are given), for
    ``pm.sample(step=...)`` or ``bayeskit.sample(..., step_factory=lambda: EnumerationGibbs(...))``;
    its sample stats are ``moved`` (the value changed) and ``p_current`` (the conditional probability
    of the value it had).

    Raises
    ------
    ValueError
        If a variable is not a scalar discrete one, or ``values`` has fewer than two entries.
    """
    global _CLASS
    if _CLASS is None:
        _CLASS = _enumeration_gibbs_class()
    return _CLASS(vars, values, **kwargs)
