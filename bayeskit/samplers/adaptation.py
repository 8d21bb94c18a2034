"""Warm-up schedules shared by the gradient-based kernels: step size by dual averaging, and a mass matrix
learned in windows, both as Stan does them.

Everything here is independent of the kernel. It sees only what every kernel reports after a transition:
the new positions and an acceptance statistic in ``[0, 1]`` (HMC: the Metropolis probability of its one
proposal; NUTS: the mean of ``min(1, exp(-dH))`` over the trajectory's points). All functions are pure and
vectorised over chains: each chain adapts its own step size and its own mass matrix, as in Stan and PyMC,
so chains stay independent and R-hat keeps its meaning.

Step size (Hoffman & Gelman 2014, section 3.2). Dual averaging treats ``log(step size)`` as the variable of
a stochastic optimisation whose noisy gradient is ``target - acceptance``; the iterate ``x_t`` explores
(it is what the next transition uses), the weighted average ``x_bar_t`` settles, and the step size kept
after warm-up is ``exp(x_bar)``. The constants are Stan's defaults (:data:`DUAL_AVERAGING_GAMMA`,
:data:`DUAL_AVERAGING_T0`, :data:`DUAL_AVERAGING_KAPPA`), and the iterate is shrunk towards
``mu = log(10 * step size)``, a step size ten times the starting one (large steps are cheap to try and are
corrected quickly; small ones cost long trajectories).

Mass matrix (Stan's windowed adaptation). The inverse mass matrix is the posterior covariance estimated
from warm-up draws: diagonal (``"diag"``, the variances) or dense (``"dense"``, the full covariance, which
also removes correlations). The warm-up is split into an initial fast interval
(:data:`INIT_BUFFER` = 75 transitions: only the step size adapts while the chain travels to the typical
set), slow windows that double in length (:data:`BASE_WINDOW` = 25, then 50, 100, ...; the last one
stretched to the terminal buffer), at the end of each of which the covariance is estimated from that
window's draws alone (earlier windows saw a chain still on its way), and a final fast interval
(:data:`TERM_BUFFER` = 50) in which the step size adapts to the last mass matrix. After each window the
estimate is shrunk towards ``1e-3 I`` by a weight ``5 / (n + 5)`` (:data:`REGULARISATION_WEIGHT`,
:data:`REGULARISATION_SCALE`), which keeps it positive definite when ``n`` is small; the kernel then re-finds
a reasonable step size and restarts dual averaging. Warm-ups shorter than 150 transitions get windows in
Stan's proportions (15% / 75% / 10%); below 20 transitions only the step size adapts.

References
----------
Nesterov, Y. (2009). Primal-dual subgradient methods for convex problems. Math. Program. 120, 221-259.
Hoffman, M. D., Gelman, A. (2014). The No-U-Turn sampler: adaptively setting path lengths in Hamiltonian
Monte Carlo. JMLR 15, 1593-1623.
Stan Development Team. Stan Reference Manual, "HMC algorithm parameters" (adaptation windows), and
``stan/mcmc/stepsize_adaptation.hpp``, ``windowed_adaptation.hpp``, ``var_adaptation.hpp``,
``covar_adaptation.hpp``.
Welford, B. P. (1962). Note on a method for calculating corrected sums of squares and products.
Technometrics 4, 419-420.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

__all__ = [
    "BASE_WINDOW",
    "DEFAULT_TARGET_ACCEPT",
    "DUAL_AVERAGING_GAMMA",
    "DUAL_AVERAGING_KAPPA",
    "DUAL_AVERAGING_T0",
    "INIT_BUFFER",
    "MASS_MATRIX_KINDS",
    "MIN_ADAPTIVE_WARMUP",
    "REGULARISATION_SCALE",
    "REGULARISATION_WEIGHT",
    "STEP_SIZE_MU_FACTOR",
    "TERM_BUFFER",
    "DualAveraging",
    "Warmup",
    "WelfordCovariance",
    "dual_averaging_final",
    "dual_averaging_init",
    "dual_averaging_update",
    "regularise",
    "warmup_final",
    "warmup_init",
    "warmup_restart_step_size",
    "warmup_update",
    "welford_covariance",
    "welford_init",
    "welford_update",
    "window_ends",
]

#: Stan's default ``adapt_delta``: the mean acceptance statistic warm-up steers the step size towards.
#: Higher values give smaller steps, fewer divergences and longer trajectories.
DEFAULT_TARGET_ACCEPT = 0.8
#: Dual averaging's regularisation scale ``gamma`` (Stan's default): how strongly the iterate is pulled
#: towards ``mu``; larger values move the step size less boldly.
DUAL_AVERAGING_GAMMA = 0.05
#: Dual averaging's ``t0`` (Stan's default): damps the first iterations, whose gradients are the noisiest.
DUAL_AVERAGING_T0 = 10.0
#: Dual averaging's ``kappa`` (Stan's default): the averaging weight of iteration ``t`` is ``t^-kappa``, so
#: late iterates count more than early ones (``kappa`` in (0.5, 1] for convergence).
DUAL_AVERAGING_KAPPA = 0.75
#: ``mu = log(STEP_SIZE_MU_FACTOR * initial step size)``: the point dual averaging shrinks towards, larger
#: than the starting step because too-large steps are detected and corrected within a few transitions.
STEP_SIZE_MU_FACTOR = 10.0
#: Stan's ``adapt_init_buffer``: transitions at the start of warm-up with no mass-matrix learning, while the
#: chain travels from its starting point to the typical set (draws from that journey would inflate the
#: covariance).
INIT_BUFFER = 75
#: Stan's ``adapt_term_buffer``: transitions at the end of warm-up in which only the step size adapts, to the
#: final mass matrix.
TERM_BUFFER = 50
#: Stan's ``adapt_base_window``: length of the first slow window; each later window is twice the previous
#: one, so the estimate is refreshed often early (when it is poor) and rests on many draws late.
BASE_WINDOW = 25
#: Below this many warm-up transitions the mass matrix is not adapted at all (as Stan): too few draws to
#: estimate a variance.
MIN_ADAPTIVE_WARMUP = 20
#: The estimate from ``n`` draws is shrunk as ``n / (n + w) * cov + w / (n + w) * s * I`` with this ``w``
#: (Stan's): a handful of pseudo-draws of a small isotropic covariance, negligible once ``n`` is in the
#: hundreds and protecting against a singular estimate when it is small.
REGULARISATION_WEIGHT = 5.0
#: ``s`` above (Stan's ``1e-3``): the variance of the pseudo-draws.
REGULARISATION_SCALE = 1e-3
#: The two mass matrices: ``"diag"`` (one variance per coordinate) and ``"dense"`` (the full covariance).
MASS_MATRIX_KINDS = ("diag", "dense")


# ---------------------------------------------------------------------------------------------- dual averaging
@dataclass(frozen=True)
class DualAveraging:
    """State of dual averaging, one entry per chain (arrays of shape ``(chains,)``).

    Parameters
    ----------
    log_step : numpy.ndarray
        ``x_t``: log of the step size the next transition uses.
    log_step_avg : numpy.ndarray
        ``x_bar_t``: the weighted average of the iterates; ``exp`` of it is the step size kept after warm-up.
    error_avg : numpy.ndarray
        ``H_bar_t``: the running average of ``target - acceptance``.
    mu : numpy.ndarray
        The log step size the iterates are shrunk towards.
    count : int
        ``t``: transitions seen since the last restart (shared by all chains).

    References
    ----------
    Hoffman, M. D., Gelman, A. (2014). The No-U-Turn sampler. JMLR 15, 1593-1623 (section 3.2).
    Nesterov, Y. (2009). Primal-dual subgradient methods for convex problems. Math. Programming 120, 221-259.
    """

    log_step: np.ndarray
    log_step_avg: np.ndarray
    error_avg: np.ndarray
    mu: np.ndarray
    count: int


def dual_averaging_init(step_size) -> DualAveraging:
    """Start (or restart) dual averaging at ``step_size`` (one per chain), with ``mu = log(10 step_size)``.

    Parameters
    ----------
    step_size : float or array_like, shape (chains,)
        Positive, finite step sizes.

    Returns
    -------
    DualAveraging

    Raises
    ------
    ValueError
        A step size is not positive and finite.
    """
    step = np.atleast_1d(np.asarray(step_size, dtype=float))
    if np.any(~np.isfinite(step) | (step <= 0)):
        raise ValueError(f"step_size must be positive and finite, got {step.tolist()}")
    zeros = np.zeros_like(step)
    return DualAveraging(np.log(step), zeros.copy(), zeros.copy(), np.log(STEP_SIZE_MU_FACTOR * step), 0)


def dual_averaging_update(state: DualAveraging, acceptance, target_accept: float = DEFAULT_TARGET_ACCEPT) -> DualAveraging:
    """One dual-averaging update from each chain's acceptance statistic (Hoffman & Gelman 2014, eq. 6).

    ``H_bar_t = (1 - 1/(t + t0)) H_bar_{t-1} + (target - a_t) / (t + t0)``;
    ``x_t = mu - sqrt(t) / gamma * H_bar_t``; ``x_bar_t = t^-kappa x_t + (1 - t^-kappa) x_bar_{t-1}``.
    Acceptance below the target makes ``H_bar`` positive and the step smaller, and conversely.

    Parameters
    ----------
    state : DualAveraging
        The current state.
    acceptance : array_like, shape (chains,)
        Each chain's acceptance statistic of the last transition (clipped at 1; NaN counts as 0).
    target_accept : float, default DEFAULT_TARGET_ACCEPT
        The acceptance statistic aimed at.

    Returns
    -------
    DualAveraging
        The updated state.

    References
    ----------
    Hoffman, M. D., Gelman, A. (2014). The No-U-Turn sampler. JMLR 15, 1593-1623 (section 3.2).
    Nesterov, Y. (2009). Primal-dual subgradient methods for convex problems. Math. Programming 120, 221-259.
    """
    accept = np.minimum(np.asarray(acceptance, dtype=float), 1.0)
    accept = np.where(np.isnan(accept), 0.0, accept)  # a transition that went nowhere counts as rejected
    t = state.count + 1
    eta = 1.0 / (t + DUAL_AVERAGING_T0)
    error_avg = (1.0 - eta) * state.error_avg + eta * (target_accept - accept)
    log_step = state.mu - np.sqrt(t) / DUAL_AVERAGING_GAMMA * error_avg
    weight = t ** -DUAL_AVERAGING_KAPPA
    log_step_avg = weight * log_step + (1.0 - weight) * state.log_step_avg
    return DualAveraging(log_step, log_step_avg, error_avg, state.mu, t)


def dual_averaging_final(state: DualAveraging) -> np.ndarray:
    """The step size kept after warm-up: ``exp(x_bar)`` (the current one if no update was made yet).

    Parameters
    ----------
    state : DualAveraging
        The state at the end of warm-up.

    Returns
    -------
    numpy.ndarray, shape (chains,)
    """
    return np.exp(state.log_step_avg if state.count > 0 else state.log_step)


# ---------------------------------------------------------------------------------------------- windows
def window_ends(tune: int) -> list[int]:
    """Transitions (0-based) after which the mass matrix is re-estimated, as Stan's windowed adaptation.

    Windows of :data:`BASE_WINDOW`, doubling, between :data:`INIT_BUFFER` and the last :data:`TERM_BUFFER`
    transitions; a window whose successor would not fit before the terminal buffer is stretched to reach
    it. With ``tune < INIT_BUFFER + BASE_WINDOW + TERM_BUFFER`` (150) the three parts take 15%, 75% and 10%
    of the warm-up; with ``tune < MIN_ADAPTIVE_WARMUP`` there are no windows.

    Parameters
    ----------
    tune : int
        Number of warm-up transitions.

    Returns
    -------
    list of int
        The last transition of each window.

    Examples
    --------
    >>> window_ends(1000)  # windows 75-99, 100-149, 150-249, 250-449, 450-949
    [99, 149, 249, 449, 949]

    References
    ----------
    Stan Development Team. Stan Reference Manual, "HMC algorithm parameters: automatic parameter tuning".
    """
    if tune < MIN_ADAPTIVE_WARMUP:
        return []
    init, term, base = _buffers(tune)
    last = tune - term - 1  # the final window ends here
    size = base
    ends = [init + base - 1]
    while ends[-1] < last:
        size *= 2
        end = ends[-1] + size
        if end + 2 * size > last:  # the window after this one would not fit: stretch this one to the end
            end = last
        ends.append(end)
    return ends


def _buffers(tune: int) -> tuple[int, int, int]:
    """Initial buffer, terminal buffer and first window length for a warm-up of ``tune`` transitions."""
    if INIT_BUFFER + BASE_WINDOW + TERM_BUFFER <= tune:
        return INIT_BUFFER, TERM_BUFFER, BASE_WINDOW
    init, term = int(0.15 * tune), int(0.1 * tune)
    return init, term, tune - init - term


# ---------------------------------------------------------------------------------------------- covariance
@dataclass(frozen=True)
class WelfordCovariance:
    """Running mean and sum of squared deviations of each chain's draws (Welford 1962).

    Parameters
    ----------
    count : int
        Draws added per chain.
    mean : numpy.ndarray, shape (chains, ndim)
        Running mean.
    m2 : numpy.ndarray
        Sum of squared deviations: ``(chains, ndim)`` for a diagonal estimate and ``(chains, ndim, ndim)``
        for a dense one.

    References
    ----------
    Welford, B. P. (1962). Note on a method for calculating corrected sums of squares and products.
    Technometrics 4, 419-420.
    """

    count: int
    mean: np.ndarray
    m2: np.ndarray


def welford_init(chains: int, ndim: int, kind: str) -> WelfordCovariance:
    """An empty estimator for ``chains`` chains of ``ndim`` coordinates.

    Parameters
    ----------
    chains, ndim : int
        Numbers of chains and coordinates.
    kind : {"diag", "dense"}
        Variances only, or full covariances.

    Returns
    -------
    WelfordCovariance

    Raises
    ------
    ValueError
        Unknown ``kind``.
    """
    _check_kind(kind)
    m2 = np.zeros((chains, ndim)) if kind == "diag" else np.zeros((chains, ndim, ndim))
    return WelfordCovariance(0, np.zeros((chains, ndim)), m2)


def welford_update(state: WelfordCovariance, x: np.ndarray) -> WelfordCovariance:
    """Add one draw per chain; numerically stable in one pass.

    Parameters
    ----------
    state : WelfordCovariance
        The estimator.
    x : numpy.ndarray, shape (chains, ndim)
        One draw per chain.

    Returns
    -------
    WelfordCovariance
    """
    count = state.count + 1
    delta = x - state.mean
    mean = state.mean + delta / count
    after = x - mean
    if state.m2.ndim == 2:
        m2 = state.m2 + delta * after
    else:
        m2 = state.m2 + delta[:, :, None] * after[:, None, :]
    return WelfordCovariance(count, mean, m2)


def welford_covariance(state: WelfordCovariance) -> np.ndarray:
    """The sample (co)variance of the draws added, ``m2 / (n - 1)``, regularised by :func:`regularise`.

    Parameters
    ----------
    state : WelfordCovariance
        The estimator, with at least 2 draws.

    Returns
    -------
    numpy.ndarray
        ``(chains, ndim)`` variances or ``(chains, ndim, ndim)`` covariances.

    Raises
    ------
    ValueError
        Fewer than 2 draws.
    """
    if state.count < 2:
        raise ValueError(f"a covariance needs at least 2 draws, got {state.count}")
    return regularise(state.m2 / (state.count - 1), state.count, dense=state.m2.ndim == 3)


def regularise(cov: np.ndarray, n: int, dense: bool) -> np.ndarray:
    """Shrink a (co)variance estimated from ``n`` draws towards ``1e-3 I``, as Stan does.

    ``n / (n + 5) * cov + 1e-3 * 5 / (n + 5) * I``.

    Parameters
    ----------
    cov : numpy.ndarray
        ``(..., ndim)`` variances or, with ``dense``, ``(..., ndim, ndim)`` covariances.
    n : int
        Number of draws it was estimated from.
    dense : bool
        Whether ``cov`` holds full matrices.

    Returns
    -------
    numpy.ndarray
        Same shape as ``cov``.

    References
    ----------
    Stan Development Team. Stan Reference Manual, "HMC algorithm parameters: automatic parameter tuning".
    """
    w = REGULARISATION_WEIGHT
    shrunk = (n / (n + w)) * np.asarray(cov, dtype=float)
    if dense:
        idx = np.arange(shrunk.shape[-1])
        shrunk[..., idx, idx] += REGULARISATION_SCALE * w / (n + w)
        return shrunk
    return shrunk + REGULARISATION_SCALE * w / (n + w)


# ---------------------------------------------------------------------------------------------- the warm-up
@dataclass(frozen=True)
class Warmup:
    """Everything the warm-up carries from one transition to the next.

    Parameters
    ----------
    iteration : int
        Warm-up transitions done.
    tune : int
        Warm-up length.
    target_accept : float
        The acceptance statistic dual averaging aims at.
    kind : {"diag", "dense"}
        Kind of mass matrix.
    ends : tuple of int
        :func:`window_ends` of ``tune``.
    step : DualAveraging
        Dual-averaging state.
    estimator : WelfordCovariance
        Estimator of the current window's draws.
    inverse_metric : numpy.ndarray
        The current inverse mass matrix per chain: ``(chains, ndim)`` or ``(chains, ndim, ndim)``.
    """

    iteration: int
    tune: int
    target_accept: float
    kind: str
    ends: tuple[int, ...]
    step: DualAveraging
    estimator: WelfordCovariance
    inverse_metric: np.ndarray

    @property
    def step_size(self) -> np.ndarray:
        """The step size of the next warm-up transition, per chain."""
        return np.exp(self.step.log_step)


def _check_kind(kind) -> None:
    if kind not in MASS_MATRIX_KINDS:
        raise ValueError(f"mass_matrix must be one of {MASS_MATRIX_KINDS}, got {kind!r}")


def warmup_init(chains: int, ndim: int, tune: int, step_size, kind: str = "diag",
                target_accept: float = DEFAULT_TARGET_ACCEPT, inverse_metric=None) -> Warmup:
    """The warm-up's starting state.

    Dual averaging from ``step_size`` (per chain or shared), an identity inverse mass matrix unless
    ``inverse_metric`` is given, no draws in the estimator.

    Parameters
    ----------
    chains, ndim : int
        Numbers of chains and coordinates.
    tune : int
        Warm-up length.
    step_size : float or array_like, shape (chains,)
        First step size.
    kind : {"diag", "dense"}, default "diag"
        Kind of mass matrix.
    target_accept : float, default DEFAULT_TARGET_ACCEPT
        In (0, 1).
    inverse_metric : array_like, optional
        Starting inverse mass matrix per chain.

    Returns
    -------
    Warmup

    Raises
    ------
    ValueError
        Unknown ``kind``, ``target_accept`` outside (0, 1), or a step size not positive.
    """
    _check_kind(kind)
    if not 0 < target_accept < 1:
        raise ValueError(f"target_accept must lie in (0, 1), got {target_accept}")
    if inverse_metric is None:
        inverse_metric = np.ones((chains, ndim)) if kind == "diag" else np.tile(np.eye(ndim), (chains, 1, 1))
    step = dual_averaging_init(np.broadcast_to(np.asarray(step_size, float), (chains,)))
    return Warmup(0, int(tune), float(target_accept), kind, tuple(window_ends(int(tune))), step,
                  welford_init(chains, ndim, kind), np.asarray(inverse_metric, dtype=float))


def warmup_update(state: Warmup, position: np.ndarray, acceptance) -> tuple[Warmup, bool]:
    """Learn from one warm-up transition: its acceptance statistic (step size) and new positions (mass matrix).

    When the mass matrix changed, the caller re-finds a reasonable step size for the new metric and calls
    :func:`warmup_restart_step_size` (as Stan does).

    Parameters
    ----------
    state : Warmup
        The warm-up's state.
    position : numpy.ndarray, shape (chains, ndim)
        The chains' positions after the transition.
    acceptance : array_like, shape (chains,)
        The transition's acceptance statistics.

    Returns
    -------
    state : Warmup
        The new state.
    changed : bool
        Whether the mass matrix was re-estimated.
    """
    i = state.iteration
    step = dual_averaging_update(state.step, acceptance, state.target_accept)
    estimator, inverse, changed = state.estimator, state.inverse_metric, False
    if state.ends and _buffers(state.tune)[0] <= i <= state.ends[-1]:
        estimator = welford_update(estimator, position)
        if i in state.ends:
            inverse = welford_covariance(estimator)
            estimator = welford_init(position.shape[0], position.shape[1], state.kind)
            changed = True
    return replace(state, iteration=i + 1, step=step, estimator=estimator, inverse_metric=inverse), changed


def warmup_restart_step_size(state: Warmup, step_size) -> Warmup:
    """Restart dual averaging from ``step_size`` (per chain), with ``mu = log(10 step_size)``.

    Parameters
    ----------
    state : Warmup
        The warm-up's state.
    step_size : float or array_like, shape (chains,)
        The new starting step size.

    Returns
    -------
    Warmup
    """
    return replace(state, step=dual_averaging_init(np.broadcast_to(np.asarray(step_size, float),
                                                                  state.step.log_step.shape)))


def warmup_final(state: Warmup) -> tuple[np.ndarray, np.ndarray]:
    """The step size (per chain, ``exp(x_bar)``) and inverse mass matrix used after warm-up.

    Parameters
    ----------
    state : Warmup
        The warm-up's state.

    Returns
    -------
    step_size : numpy.ndarray, shape (chains,)
    inverse_metric : numpy.ndarray
    """
    return dual_averaging_final(state.step), state.inverse_metric
