"""Random-walk Metropolis, vectorised over chains, with adaptive warm-up.

The sampler is a pure :func:`init` and :func:`step` (state in, new state and step info out, all
chains at once) plus the driver :func:`metropolis`, which adapts the proposal during warm-up,
records draws, shows a progress bar and returns ``arviz.InferenceData``.

Why it works without the normalising constant: a proposal ``x' = x + delta`` with a symmetric
``delta`` is accepted with probability ``min(1, p(x') / p(x))``, and the ratio does not depend on
the constant that normalises ``p``. This satisfies detailed balance, so ``p`` is stationary.

References
----------
Metropolis, N., Rosenbluth, A. W., Rosenbluth, M. N., Teller, A. H., Teller, E. (1953).
Equation of state calculations by fast computing machines. J. Chem. Phys. 21, 1087-1092.
Roberts, G. O., Gelman, A., Gilks, W. R. (1997). Weak convergence and optimal scaling of random
walk Metropolis algorithms. Ann. Appl. Probab. 7, 110-120. (the 0.234 acceptance rule)
Gelman, A., Roberts, G. O., Gilks, W. R. (1996). Efficient Metropolis jumping rules. In Bayesian Statistics 5,
599-607. (0.44 in one dimension)
Haario, H., Saksman, E., Tamminen, J. (2001). An adaptive Metropolis algorithm. Bernoulli 7, 223-242.
Andrieu, C., Thoms, J. (2008). A tutorial on adaptive MCMC. Stat. Comput. 18, 343-373.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

if TYPE_CHECKING:  # imported where used, so that importing bayeskit stays light
    import arviz as az

from bayeskit._checks import as_rng, check_sampler_arguments, evaluate_batch, seed_for_attrs
from bayeskit.layout import Layout, to_inference_data

__all__ = ["MetropolisState", "init", "step", "metropolis"]

LogDensity = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class MetropolisState:
    """Where every chain is, and the proposal all chains share.

    The proposal is ``delta = scale * chol @ z`` with ``z ~ N(0, I)``; coordinates marked
    integer are rounded to the nearest integer, which keeps the proposal symmetric.

    Parameters
    ----------
    position : numpy.ndarray, shape (chains, ndim)
        Current points.
    log_density : numpy.ndarray, shape (chains,)
        Log-density at the points.
    scale : float
        Proposal scale.
    chol : numpy.ndarray, shape (ndim, ndim)
        Lower-triangular factor of the proposal's covariance shape.
    integer : numpy.ndarray, shape (ndim,), bool
        Which coordinates are integer-valued.
    """

    position: np.ndarray  # (chains, ndim)
    log_density: np.ndarray  # (chains,)
    scale: float
    chol: np.ndarray  # (ndim, ndim), lower triangular
    integer: np.ndarray  # (ndim,) bool


def init(
    log_density: LogDensity,
    initial: np.ndarray,
    scale: float | None = None,
    chol: np.ndarray | None = None,
    integer: np.ndarray | None = None,
) -> MetropolisState:
    """Initial state: evaluate ``log_density`` at ``initial`` (shape ``(chains, ndim)``).

    Parameters
    ----------
    log_density : callable
        Vectorised ``(n, ndim) -> (n,)``, ``-inf`` outside the support.
    initial : array_like, shape (chains, ndim)
        Starting points, integer-valued where ``integer`` says so.
    scale : float, optional
        Proposal scale; default ``2.38 / sqrt(ndim)`` (Roberts, Gelman & Gilks 1997).
    chol : numpy.ndarray, shape (ndim, ndim), optional
        Proposal covariance factor; default the identity.
    integer : array_like of bool, shape (ndim,), optional
        Integer-valued coordinates; default none.

    Returns
    -------
    MetropolisState

    Raises
    ------
    ValueError
        ``initial`` not 2-D or not finite; an integer coordinate starts at a non-integer value;
        ``log_density`` answers with the wrong shape; a chain starts where the log-density is not finite.

    References
    ----------
    Roberts, G. O., Gelman, A., Gilks, W. R. (1997). Weak convergence and optimal scaling of random walk
    Metropolis algorithms. Annals of Applied Probability 7, 110-120.
    """
    position = np.array(initial, dtype=float)
    if position.ndim != 2:
        raise ValueError(f"initial must have shape (chains, ndim), got {position.shape}")
    ndim = position.shape[1]
    integer = np.zeros(ndim, bool) if integer is None else np.asarray(integer, bool)
    bad = np.argwhere(~np.isfinite(position))
    if bad.size:
        raise ValueError(f"initial contains a non-finite value at (chain, coordinate) {tuple(int(i) for i in bad[0])}")
    off = np.argwhere((position[:, integer] != np.rint(position[:, integer])))
    if off.size:
        c, k = (int(i) for i in off[0])
        raise ValueError(
            f"initial: coordinate {np.flatnonzero(integer)[k]} is integer-valued but chain {c} starts at "
            f"{position[c, np.flatnonzero(integer)[k]]}"
        )
    lp = evaluate_batch(log_density, position, "log_density")
    bad_chain = np.flatnonzero(~np.isfinite(lp))
    if bad_chain.size:
        c = int(bad_chain[0])
        raise ValueError(
            f"initial point of chain {c} has log-density {lp[c]} (point {position[c].tolist()}); "
            "start every chain where the density is positive"
        )
    scale = 2.38 / np.sqrt(ndim) if scale is None else float(scale)
    chol = np.eye(ndim) if chol is None else np.asarray(chol, float)
    return MetropolisState(position, lp, scale, chol, integer)


def step(
    state: MetropolisState, log_density: LogDensity, rng: np.random.Generator
) -> tuple[MetropolisState, dict[str, np.ndarray]]:
    """One Metropolis step of every chain at once.

    1. propose ``x' = x + delta`` (symmetric ``delta``; integer coordinates take integer steps);
    2. compute ``log r = log p(x') - log p(x)`` (the normalising constant cancels);
    3. accept ``x'`` with probability ``min(1, r)``, otherwise stay (and count ``x`` again);
    4. return the new positions, to be recorded by the caller.

    Parameters
    ----------
    state : MetropolisState
        Where the chains are.
    log_density : callable
        Vectorised ``(n, ndim) -> (n,)``.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    state : MetropolisState
        The chains after the step.
    info : dict of str to numpy.ndarray
        Per chain: ``accepted`` (bool) and ``accept_prob`` (``min(1, r)``).

    References
    ----------
    Metropolis, N., Rosenbluth, A. W., Rosenbluth, M. N., Teller, A. H., Teller, E. (1953). Equation of
    state calculations by fast computing machines. J. Chem. Phys. 21, 1087-1092.
    """
    position, lp, accepted, accept_prob = _advance(
        state.position, state.log_density, state.scale, state.chol.T, _integer_index(state.integer), log_density, rng)
    return replace(state, position=position, log_density=lp), {"accepted": accepted, "accept_prob": accept_prob}


def _integer_index(integer: np.ndarray) -> np.ndarray | None:
    """Indices of the integer coordinates, or None when there are none (the common case skips rounding)."""
    idx = np.flatnonzero(integer)
    return idx if idx.size else None


def _advance(position: np.ndarray, lp: np.ndarray, scale: float, chol_t: np.ndarray, integer: np.ndarray | None,
             log_density: LogDensity, rng: np.random.Generator):
    """The arithmetic of :func:`step` on bare arrays (the driver's loop calls this directly, so that a step
    costs little more than its log-density): returns new position and log-density, acceptances, and
    acceptance probabilities. ``position`` and ``lp`` are not modified."""
    delta = scale * rng.standard_normal(position.shape) @ chol_t
    if integer is not None:
        delta[:, integer] = np.rint(delta[:, integer])
    proposal = position + delta
    proposal_lp = evaluate_batch(log_density, proposal, "log_density")
    accept_prob = np.exp(np.minimum(proposal_lp - lp, 0.0))  # exp(-inf) = 0: outside the support
    accepted = rng.uniform(size=len(lp)) < accept_prob
    rejected = ~accepted
    np.copyto(proposal, position, where=rejected[:, None])  # rejected chains stay where they were
    np.copyto(proposal_lp, lp, where=rejected)
    return proposal, proposal_lp, accepted, accept_prob


def _learn_covariance(window: np.ndarray, integer: np.ndarray) -> np.ndarray:
    """Cholesky factor of the within-chain covariance of warm-up draws ``(chains, n, ndim)``.

    Each chain is centred on its own mean, so chains that have not met yet do not inflate it.
    A small ridge relative to each variance keeps it positive definite; integer coordinates
    keep a variance of at least 1/4 so that they can still move.
    """
    chains, n, ndim = window.shape
    centred = (window - window.mean(axis=1, keepdims=True)).reshape(-1, ndim)
    cov = centred.T @ centred / max(chains * (n - 1), 1)
    variances = np.diag(cov).copy()
    floor = np.where(integer, 0.25, 1e-12 * max(variances.max(), 1e-300))
    cov[np.diag_indices(ndim)] = np.maximum(variances, floor) * (1 + 1e-6)
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:  # degenerate directions: fall back to the variances alone
        return np.diag(np.sqrt(np.diag(cov)))


def _windows(tune: int) -> list[int]:
    """Warm-up steps after which the proposal covariance is re-learned (doubling windows)."""
    if tune < 100:
        return []
    ends, end, size = [], tune // 10, max(tune // 20, 25)
    while end + size < tune * 0.9:
        end += size
        ends.append(end)
        size *= 2
    return ends


def _parse_integer(integer, ndim: int) -> np.ndarray:
    if integer is None:
        return np.zeros(ndim, bool)
    arr = np.asarray(integer)
    if arr.dtype == bool:
        if arr.shape != (ndim,):
            raise ValueError(f"integer as a mask must have shape ({ndim},), got {arr.shape}")
        return arr
    idx = arr.astype(int).ravel()
    if np.any((idx < 0) | (idx >= ndim)):
        raise ValueError(f"integer indices must lie in [0, {ndim}), got {idx.tolist()}")
    mask = np.zeros(ndim, bool)
    mask[idx] = True
    return mask


def metropolis(
    log_density: LogDensity,
    initial,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed=None,
    *,
    integer: Sequence[bool] | Sequence[int] | None = None,
    target_accept: float | None = None,
    proposal_sd=None,
    adapt_covariance: bool = True,
    var_names: Sequence[str] | None = None,
    layout: Layout | None = None,
    progressbar: bool = True,
) -> az.InferenceData:
    """Sample with random-walk Metropolis, all chains stepping in one array operation.

    Parameters
    ----------
    log_density
        Vectorised unnormalised log-density: ``(n, ndim) -> (n,)``, ``-inf`` outside the support.
        It is called on all chains at once, ``n = chains``.
    initial
        Starting points, shape ``(chains, ndim)``, or ``(ndim,)`` for one point shared by all chains
        (distinct, over-dispersed starts make R-hat meaningful).
    draws, tune
        Recorded draws per chain, and warm-up steps per chain (discarded).
    chains
        Number of chains.
    seed
        None, int or ``np.random.Generator``; the same seed gives the same draws.
    integer
        Which coordinates are integer-valued (a boolean mask or a list of indices). They take
        symmetric integer steps (the continuous step rounded), so a discrete parameter such as a
        switchpoint can be sampled.
    target_accept
        Acceptance rate the warm-up steers the proposal scale towards. Default 0.234 (optimal for
        many dimensions, Roberts, Gelman & Gilks 1997), 0.44 in one dimension (Gelman, Roberts & Gilks 1996).
    proposal_sd
        Initial proposal standard deviation, scalar or per coordinate. Default ``2.38 / sqrt(ndim)``.
    adapt_covariance
        Learn the proposal covariance from warm-up draws (adaptive Metropolis, Haario et al. 2001), in
        doubling windows after the first 10% of warm-up; needs ``tune >= 100`` (shorter warm-ups only
        adapt the scale).
    var_names, layout
        Names for the coordinates (one scalar variable each), or a full :class:`~bayeskit.layout.Layout`.
        Default: one vector variable ``x``.
    progressbar
        Show a tqdm progress bar on stderr.

    Returns
    -------
    arviz.InferenceData
        ``posterior`` with dims ``(chain, draw, ...)``; ``sample_stats`` with ``accepted`` and ``lp``
        (the log-density); ``attrs`` with engine, seed, wall_time_s, n_evaluations,
        acceptance_rate, proposal_scale.
    """
    draws, tune, chains, start_points = check_sampler_arguments(log_density, "log_density", initial, draws, tune, chains)
    ndim = start_points.shape[1]
    mask = _parse_integer(integer, ndim)
    if layout is None:
        if var_names is not None:
            if len(var_names) != ndim:
                raise ValueError(f"var_names has {len(var_names)} names for {ndim} coordinates")
            layout = Layout.scalars(var_names, mask)
        else:
            layout = Layout.vector(ndim, "x", mask)
    elif layout.ndim != ndim:
        raise ValueError(f"layout has {layout.ndim} coordinates but initial has {ndim}")
    if target_accept is None:
        target_accept = 0.44 if ndim == 1 else 0.234
    if not 0 < target_accept < 1:
        raise ValueError(f"target_accept must lie in (0, 1), got {target_accept}")
    chol = None
    if proposal_sd is not None:
        sd = np.broadcast_to(np.asarray(proposal_sd, float), (ndim,))
        if np.any(~np.isfinite(sd) | (sd <= 0)):
            raise ValueError(f"proposal_sd must be positive and finite, got {proposal_sd}")
        chol = np.diag(sd)

    rng = as_rng(seed)
    n_evals = 0

    def counted(x):
        nonlocal n_evals
        n_evals += x.shape[0]
        return log_density(x)

    started = time.perf_counter()
    state = init(counted, start_points, scale=1.0 if chol is not None else None, chol=chol, integer=mask)
    windows = set(_windows(tune)) if adapt_covariance else set()
    window_start, since_update = 0, 0
    warmup = np.empty((chains, tune, ndim)) if windows else None

    # The loop works on bare arrays (state.position, ...) rather than rebuilding a MetropolisState each step:
    # at a few microseconds per rebuild, that bookkeeping would rival a cheap log-density.
    position, log_dens, scale, chol_t = state.position, state.log_density, state.scale, state.chol.T
    integer_index = _integer_index(mask)
    samples_by_draw = np.empty((draws, chains, ndim))  # filled one contiguous row per draw
    accepted = np.empty((draws, chains), bool)
    lp = np.empty((draws, chains))
    from tqdm import tqdm

    with tqdm(total=tune + draws, disable=not progressbar, desc="metropolis", leave=False, mininterval=0.5) as bar:
        for i in range(tune + draws):
            position, log_dens, step_accepted, accept_prob = _advance(
                position, log_dens, scale, chol_t, integer_index, counted, rng)
            if i < tune:
                # Robbins-Monro: nudge log(scale) towards the target acceptance, with decaying gain.
                since_update += 1
                gain = since_update ** -0.6
                scale = float(scale * np.exp(gain * (accept_prob.mean() - target_accept)))
                if warmup is not None:
                    warmup[:, i] = position
                if i + 1 in windows:
                    chol_t = _learn_covariance(warmup[:, window_start : i + 1], mask).T
                    scale = 2.38 / np.sqrt(ndim)
                    window_start, since_update = i + 1, 0
            else:
                j = i - tune
                samples_by_draw[j] = position
                accepted[j] = step_accepted
                lp[j] = log_dens
            if i % 64 == 63:
                bar.update(64)
        bar.update((tune + draws) % 64)
    samples = samples_by_draw.transpose(1, 0, 2)
    accepted, lp = accepted.T, lp.T
    wall = time.perf_counter() - started
    return to_inference_data(
        samples,
        layout,
        sample_stats={"accepted": accepted, "lp": lp},
        attrs={
            "engine": "metropolis",
            "seed": seed_for_attrs(seed),
            "wall_time_s": wall,
            "n_evaluations": n_evals,
            "acceptance_rate": float(accepted.mean()),
            "proposal_scale": float(scale),
            "tune": tune,
        },
    )
