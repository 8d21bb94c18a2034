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

import math
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


#: Steps whose random numbers (the proposals' normals and the acceptances' uniforms) the driver draws in one call
#: each: two NumPy calls per block instead of per step, which is much of the sampler's own cost when the
#: log-density is cheap. A fixed constant, so the same seed gives the same draws on every machine; only when 64
#: steps would need more than ``_BLOCK_VALUES`` normals (large chains x ndim) does the block shrink, by a rule of
#: ``chains`` and ``ndim`` alone, to keep its memory bounded (2 MB).
_BLOCK_STEPS = 64
_BLOCK_VALUES = 1 << 18


def _block_size(chains: int, ndim: int) -> int:
    """Steps per block of random draws for ``chains`` chains in ``ndim`` dimensions (see ``_BLOCK_STEPS``)."""
    return max(1, min(_BLOCK_STEPS, _BLOCK_VALUES // (chains * ndim)))


def _blocks(stop: int, ends: Sequence[int], size: int):
    """Chunks ``(a, b)`` of at most ``size`` steps covering ``[0, stop)``, none crossing an element of ``ends``
    (the warm-up steps after which the proposal changes shape, so that a block is drawn with one proposal)."""
    a = 0
    for end in sorted({e for e in ends if 0 < e < stop} | {stop}):
        while a < end:
            b = min(a + size, end)
            yield a, b
            a = b


def _draw_block(rng: np.random.Generator, n: int, chains: int, chol_t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The random numbers of ``n`` steps: proposal directions ``z @ chol.T`` with ``z ~ N(0, I)``, shape
    ``(n, chains, ndim)`` (to be multiplied by the scale), and ``log u`` with ``u ~ U(0, 1)``, shape ``(n, chains)``.

    A step accepts when ``log u < log r``, which has probability ``min(1, r)``: the rule of :func:`step`."""
    ndim = chol_t.shape[0]
    z = rng.standard_normal((n, chains, ndim))
    if np.count_nonzero(chol_t) == np.count_nonzero(np.diagonal(chol_t)):  # diagonal: scale each coordinate
        directions = z * np.diagonal(chol_t)
    else:
        directions = (z.reshape(n * chains, ndim) @ chol_t).reshape(n, chains, ndim)
    with np.errstate(divide="ignore"):  # u = 0 gives log u = -inf, which accepts any finite ratio, as u < r would
        log_u = np.log(rng.random((n, chains)))
    return directions, log_u


def _check_block(log_dens: np.ndarray, points: np.ndarray) -> None:
    """Raise :func:`~bayeskit._checks.evaluate_batch`'s error for the first step of a block whose
    log-densities ``(n, chains)`` hold NaN or ``+inf``, naming the point ``(n, chains, ndim)`` that gave it.

    The driver checks the values once per block rather than once per step. A NaN or ``+inf`` proposal is
    always accepted (``log u >= NaN`` and ``log u >= inf`` are false), so it is in the block's record."""
    total = float(np.add.reduce(log_dens, axis=None))  # NaN or +inf anywhere makes the sum NaN or +inf
    if total != total or total == np.inf:
        first = int(np.flatnonzero((np.isnan(log_dens) | (log_dens == np.inf)).any(axis=1))[0])
        evaluate_batch(lambda _: log_dens[first], points[first], "log_density")  # raises its message for that step


def _warm_up(log_density: LogDensity, state: MetropolisState, tune: int, windows: Sequence[int],
             target_accept: float, rng: np.random.Generator, bar) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """``tune`` steps from ``state``, adapting the scale after every step (Robbins-Monro, towards
    ``target_accept``) and the proposal covariance after each step in ``windows``; returns the final position,
    log-density, scale and transposed Cholesky factor. The loop works on bare arrays, not a MetropolisState:
    at a few microseconds per rebuild, that bookkeeping would rival a cheap log-density."""
    position, log_dens, scale, chol_t = state.position, state.log_density, state.scale, state.chol.T
    chains, ndim = position.shape
    integer = _integer_index(state.integer)
    store = np.empty((tune, chains, ndim)) if windows else None  # warm-up draws, to learn the covariance from
    window_start, since_update = 0, 0
    for a, b in _blocks(tune, windows, _block_size(chains, ndim)):
        directions, log_u = _draw_block(rng, b - a, chains, chol_t)
        points = store[a:b] if store is not None else np.empty_like(directions)
        log_dens_block = np.empty((b - a, chains))
        for k, (proposal, direction, log_u_k, log_dens_k) in enumerate(zip(points, directions, log_u, log_dens_block)):
            np.multiply(direction, scale, out=proposal)
            if integer is not None:  # integer coordinates take the rounded step: still symmetric
                proposal[:, integer] = np.rint(proposal[:, integer])
            proposal += position
            proposal_lp = evaluate_batch(log_density, proposal, "log_density", check_values=False)
            log_ratio = proposal_lp - log_dens  # -inf outside the support: always rejected
            rejected = log_u_k >= log_ratio
            np.copyto(proposal, position, where=rejected[:, None])  # rejected chains stay where they were
            np.copyto(log_dens_k, proposal_lp)
            np.copyto(log_dens_k, log_dens, where=rejected)
            position, log_dens = proposal, log_dens_k
            # Robbins-Monro: nudge log(scale) towards the target acceptance, with decaying gain.
            since_update += 1
            accept_prob = float(np.add.reduce(np.exp(np.minimum(log_ratio, 0.0, out=log_ratio), out=log_ratio)))
            if accept_prob != accept_prob:  # a NaN log-density: stop now, before the scale turns NaN
                _check_block(log_dens_block[: k + 1], points[: k + 1])
            scale *= math.exp(since_update**-0.6 * (accept_prob / chains - target_accept))
        _check_block(log_dens_block, points)
        bar.update(b - a)
        if b in windows:
            chol_t = _learn_covariance(store[window_start:b], state.integer).T
            scale = 2.38 / math.sqrt(ndim)
            window_start, since_update = b, 0
    return position, log_dens, scale, chol_t


def _draw(log_density: LogDensity, position: np.ndarray, log_dens: np.ndarray, scale: float, chol_t: np.ndarray,
          integer_mask: np.ndarray, draws: int, rng: np.random.Generator, bar) -> tuple[np.ndarray, ...]:
    """``draws`` recorded steps with a fixed proposal: returns the positions ``(draws, chains, ndim)``, which
    chains accepted ``(draws, chains)`` and the log-densities ``(draws, chains)``. Each proposal is built in its
    row of the record, and the rejected chains' rows are then copied back from the previous row."""
    chains, ndim = position.shape
    integer = _integer_index(integer_mask)
    samples = np.empty((draws, chains, ndim))
    rejected = np.empty((draws, chains), bool)
    lp = np.empty((draws, chains))
    for a, b in _blocks(draws, (), _block_size(chains, ndim)):
        directions, log_u = _draw_block(rng, b - a, chains, chol_t)
        directions *= scale
        if integer is not None:  # integer coordinates take the rounded step: still symmetric
            directions[..., integer] = np.rint(directions[..., integer])
        for proposal, delta, log_u_k, rejected_k, lp_k in zip(samples[a:b], directions, log_u, rejected[a:b], lp[a:b]):
            np.add(position, delta, out=proposal)
            proposal_lp = evaluate_batch(log_density, proposal, "log_density", check_values=False)
            np.greater_equal(log_u_k, proposal_lp - log_dens, out=rejected_k)  # accept when log u < log r
            np.copyto(proposal, position, where=rejected_k[:, None])  # rejected chains stay where they were
            np.copyto(lp_k, proposal_lp)
            np.copyto(lp_k, log_dens, where=rejected_k)
            position, log_dens = proposal, lp_k
        _check_block(lp[a:b], samples[a:b])
        bar.update(b - a)
    return samples, ~rejected, lp


def _learn_covariance(window: np.ndarray, integer: np.ndarray) -> np.ndarray:
    """Cholesky factor of the within-chain covariance of warm-up draws ``(n, chains, ndim)``.

    Each chain is centred on its own mean, so chains that have not met yet do not inflate it.
    A small ridge relative to each variance keeps it positive definite; integer coordinates
    keep a variance of at least 1/4 so that they can still move.
    """
    n, chains, ndim = window.shape
    centred = (window - window.mean(axis=0, keepdims=True)).reshape(-1, ndim)
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

    Raises
    ------
    ValueError
        Bad arguments, or ``log_density`` answering with the wrong shape, NaN or ``+inf``. The values are
        checked once per block of up to 64 steps, so such an error comes at the end of its block, naming the
        step's point that gave it.

    Notes
    -----
    Each step is the step of :func:`step`: the same proposal and acceptance rule. For speed the driver draws
    the random numbers of up to 64 steps in one call (all normals of the block, then all uniforms) and compares
    ``log u`` with the log ratio, so a seed gives other draws than a loop of :func:`step` calls would; the
    Markov chain, and so the distribution of the draws, is the same.
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
    from tqdm import tqdm

    started = time.perf_counter()
    state = init(log_density, start_points, scale=1.0 if chol is not None else None, chol=chol, integer=mask)
    windows = _windows(tune) if adapt_covariance else []
    with tqdm(total=tune + draws, disable=not progressbar, desc="metropolis", leave=False, mininterval=0.5) as bar:
        position, log_dens, scale, chol_t = _warm_up(log_density, state, tune, windows, target_accept, rng, bar)
        samples_by_draw, accepted, lp = _draw(log_density, position, log_dens, scale, chol_t, mask, draws, rng, bar)
    n_evals = chains * (1 + tune + draws)  # init, then one evaluation per chain per step
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
