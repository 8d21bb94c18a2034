"""Hamiltonian Monte Carlo with a static path length, vectorised over chains, with Stan's warm-up.

The target is a log-density ``log p(z)`` on an unconstrained space, given with its gradient by
``f(z) -> (log p, grad log p)`` for a batch of points ``(n, ndim) -> ((n,), (n, ndim))`` (such as
:meth:`bayeskit.Problem.log_density_and_grad`). HMC treats ``z`` as the position of a particle with
potential energy ``U(z) = -log p(z)``, gives it a random momentum ``p ~ N(0, M)`` (``M``, the mass matrix),
and follows Hamilton's equations for the energy ``H(z, p) = U(z) + p^T M^{-1} p / 2`` with the leapfrog
integrator, which is reversible and preserves volume: the end point is accepted with probability
``min(1, exp(H_start - H_end))``, which corrects the integrator's energy error exactly, so ``p(z)`` is
stationary. Energy is nearly conserved, so the particle travels far at a high acceptance rate.

The pieces, as BlackJAX separates them:

* :class:`Metric`: the mass matrix (diagonal or dense), its kinetic energy, velocity ``M^{-1} p`` and
  momentum draws;
* :func:`init` and :func:`step`: pure kernel functions (state in, state and per-chain information out),
  all chains at once: one call of ``f`` per leapfrog step for the whole batch;
* :func:`find_step_size`: Stan's heuristic for a first step size;
* :func:`run_chains`: the driver shared with NUTS (:mod:`bayeskit.samplers.nuts`), which adapts the step
  size and mass matrix during warm-up (:mod:`bayeskit.samplers.adaptation`), records draws and shows a
  progress bar; :func:`sample_hmc` returns arrays and :func:`hmc` returns ``arviz.InferenceData``.

A static path length resonates on some targets: with ``n`` steps of size ``eps`` on a Gaussian whose sd is
``s``, a trajectory of duration ``n eps`` close to a multiple of ``pi s`` returns near its start (or its
mirror image), and ESS collapses. Jittering the number of steps (``jitter``) breaks the resonance; NUTS
removes the choice altogether.

References
----------
Duane, S., Kennedy, A. D., Pendleton, B. J., Roweth, D. (1987). Hybrid Monte Carlo. Phys. Lett. B 195, 216-222.
Neal, R. M. (2011). MCMC using Hamiltonian dynamics. In Handbook of Markov Chain Monte Carlo, ch. 5.
Betancourt, M. (2017). A conceptual introduction to Hamiltonian Monte Carlo. arXiv:1701.02434.
Hoffman, M. D., Gelman, A. (2014). The No-U-Turn sampler. JMLR 15, 1593-1623 (step-size heuristic and
dual averaging, see :mod:`bayeskit.samplers.adaptation`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

if TYPE_CHECKING:  # imported where used, so that importing bayeskit stays light
    import arviz as az

from bayeskit._checks import as_rng, check_positive_int, check_sampler_arguments, seed_for_attrs
from bayeskit.layout import Layout, to_inference_data
from bayeskit.samplers import adaptation

__all__ = [
    "DEFAULT_PATH_LENGTH",
    "MAX_ENERGY_ERROR",
    "HMCState",
    "Metric",
    "Run",
    "find_step_size",
    "hmc",
    "init",
    "leapfrog",
    "run_chains",
    "sample_hmc",
    "step",
]

LogDensityAndGrad = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]

#: An energy error ``H - H_start`` above this marks a divergent transition (Stan's and PyMC's 1000): the
#: integrator has left the region where it tracks the true dynamics (typically a region of high curvature,
#: such as the neck of a funnel), so the chain cannot explore it and the draws may be biased.
MAX_ENERGY_ERROR = 1000.0
#: PyMC's default path length for static HMC: the integration time ``n_steps * step_size``, in units of the
#: posterior sd once the mass matrix is adapted (about a third of an oscillation period ``2 pi`` of a Gaussian).
DEFAULT_PATH_LENGTH = 2.0
#: PyMC's cap on leapfrog steps per static-HMC transition, so a tiny step size early in warm-up does not
#: make one transition take millions of steps.
DEFAULT_MAX_STEPS = 1024
#: Stan's step-size heuristic doubles or halves the step until the acceptance probability of one leapfrog
#: step crosses 0.8 (Hoffman & Gelman 2014, algorithm 4, with Stan's threshold).
STEP_SIZE_SEARCH_ACCEPT = 0.8
#: Stan gives up past these step sizes: a step this large still accepted means an improper (flat) posterior,
#: one this small still rejected a discontinuous one.
STEP_SIZE_SEARCH_LIMITS = (1e-300, 1e7)


# ---------------------------------------------------------------------------------------------- the metric
@dataclass(frozen=True)
class Metric:
    """The Euclidean metric (mass matrix ``M``) of every chain.

    Kinetic energy ``K(p) = p^T M^{-1} p / 2``, velocity ``dz/dt = M^{-1} p``, momenta ``p ~ N(0, M)``.
    The inverse ``M^{-1}`` is what warm-up estimates: the posterior covariance, so that in the coordinates
    it defines the posterior looks like a standard normal. Build it with :meth:`from_inverse` or
    :meth:`identity`, which compute ``momentum_factor``.

    Parameters
    ----------
    inverse : numpy.ndarray
        ``M^{-1}``: ``(..., ndim)`` for a diagonal metric (variances), ``(..., ndim, ndim)`` for a dense one;
        the leading axes are chains.
    dense : bool
        Whether the metric is dense.
    momentum_factor : numpy.ndarray
        ``(..., ndim)`` ``1 / sqrt(variances)``, or ``(..., ndim, ndim)`` ``L^{-T}`` with
        ``M^{-1} = L L^T``: a standard normal ``u`` becomes a momentum ``factor u ~ N(0, M)``.

    References
    ----------
    Neal, R. M. (2011). MCMC using Hamiltonian dynamics. Handbook of Markov Chain Monte Carlo, ch. 5.
    """

    inverse: np.ndarray
    dense: bool
    momentum_factor: np.ndarray = field(repr=False)

    @classmethod
    def from_inverse(cls, inverse, dense: bool | None = None) -> "Metric":
        """Build from ``M^{-1}``: ``(chains, ndim)`` diagonal or ``(chains, ndim, ndim)`` dense.

        Parameters
        ----------
        inverse : array_like
            The inverse mass matrix per chain: variances (diagonal) or a positive definite matrix (dense).
        dense : bool, optional
            Default: dense when ``inverse`` is 3-D.

        Returns
        -------
        Metric

        Raises
        ------
        ValueError
            ``inverse`` is not finite, not positive (diagonal) or not positive definite (dense).
        """
        inverse = np.asarray(inverse, dtype=float)
        dense = inverse.ndim == 3 if dense is None else dense
        if not np.all(np.isfinite(inverse)):
            raise ValueError("the inverse mass matrix must be finite")
        if dense:
            try:
                chol = np.linalg.cholesky(inverse)
            except np.linalg.LinAlgError as exc:
                raise ValueError(f"a dense inverse mass matrix must be positive definite: {exc}") from exc
            eye = np.broadcast_to(np.eye(inverse.shape[-1]), inverse.shape)
            factor = np.swapaxes(np.linalg.solve(chol, eye), -1, -2)  # L^{-T}
        else:
            if np.any(inverse <= 0):
                raise ValueError("a diagonal inverse mass matrix must be positive")
            factor = 1.0 / np.sqrt(inverse)
        return cls(inverse, bool(dense), factor)

    @classmethod
    def identity(cls, chains: int, ndim: int, dense: bool = False) -> "Metric":
        """The unit metric ``M = I`` for ``chains`` chains.

        Parameters
        ----------
        chains : int
            Number of chains.
        ndim : int
            Dimension.
        dense : bool, default False
            Store it as dense matrices.

        Returns
        -------
        Metric
        """
        inverse = np.tile(np.eye(ndim), (chains, 1, 1)) if dense else np.ones((chains, ndim))
        return cls.from_inverse(inverse, dense)

    def take(self, chains) -> "Metric":
        """The metric of some chains.

        Parameters
        ----------
        chains : array of int or slice
            An index array, or a slice such as ``[c:c+1]``.

        Returns
        -------
        Metric
        """
        return Metric(self.inverse[chains], self.dense, self.momentum_factor[chains])

    def velocity(self, momentum: np.ndarray) -> np.ndarray:
        """``M^{-1} p`` for momenta ``(..., ndim)`` (one per chain).

        Parameters
        ----------
        momentum : numpy.ndarray, shape (..., ndim)
            One momentum per chain.

        Returns
        -------
        numpy.ndarray, shape (..., ndim)
        """
        if self.dense:
            return np.matmul(self.inverse, momentum[..., None])[..., 0]
        return self.inverse * momentum

    def kinetic_energy(self, momentum: np.ndarray) -> np.ndarray:
        """``p^T M^{-1} p / 2`` per chain.

        Parameters
        ----------
        momentum : numpy.ndarray, shape (..., ndim)
            One momentum per chain.

        Returns
        -------
        numpy.ndarray, shape (...,)
        """
        return 0.5 * np.sum(momentum * self.velocity(momentum), axis=-1)

    def sample_momentum(self, rng: np.random.Generator) -> np.ndarray:
        """One momentum ``p ~ N(0, M)`` per chain.

        Parameters
        ----------
        rng : numpy.random.Generator
            Source of randomness.

        Returns
        -------
        numpy.ndarray, shape (chains, ndim)
        """
        u = rng.standard_normal(self.momentum_factor.shape[:-1] if self.dense else self.momentum_factor.shape)
        if self.dense:
            return np.matmul(self.momentum_factor, u[..., None])[..., 0]
        return self.momentum_factor * u


# ---------------------------------------------------------------------------------------------- the kernel
@dataclass(frozen=True)
class HMCState:
    """Where every chain is: position ``(chains, ndim)``, log-density ``(chains,)`` and its gradient.

    Parameters
    ----------
    position : numpy.ndarray, shape (chains, ndim)
        Current points, on the sampler's (unconstrained) space.
    log_density : numpy.ndarray, shape (chains,)
        Log-density at the points.
    grad : numpy.ndarray, shape (chains, ndim)
        Its gradient.
    """

    position: np.ndarray
    log_density: np.ndarray
    grad: np.ndarray


def _evaluate(f: LogDensityAndGrad, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``f`` on a batch, its answers as float arrays of the right shapes.

    Rows where ``z`` itself is not finite (a trajectory that overflowed) get log-density ``-inf`` and a NaN
    gradient without being passed to ``f`` (which may refuse them); the others are evaluated in one call.
    """
    finite = np.isfinite(z).all(axis=1)
    if finite.all():
        lp, grad = f(z)
        return np.asarray(lp, dtype=float).reshape(len(z)), np.asarray(grad, dtype=float).reshape(z.shape)
    lp, grad = np.full(len(z), -np.inf), np.full(z.shape, np.nan)
    if finite.any():
        lp[finite], grad[finite] = _evaluate(f, z[finite])
    return lp, grad


def init(f: LogDensityAndGrad, initial) -> HMCState:
    """Initial state: evaluate ``f`` at ``initial`` ``(chains, ndim)``, checking shapes and finiteness.

    Parameters
    ----------
    f : callable
        Vectorised log-density and gradient, ``(n, ndim) -> ((n,), (n, ndim))``.
    initial : array_like, shape (chains, ndim)
        Starting points.

    Returns
    -------
    HMCState

    Raises
    ------
    ValueError
        ``initial`` is not ``(chains, ndim)`` or not finite; ``f`` answers with the wrong shapes; a chain starts
        where the log-density is not finite or its gradient is not finite.
    """
    position = np.array(initial, dtype=float)
    if position.ndim != 2:
        raise ValueError(f"initial must have shape (chains, ndim), got {position.shape}")
    bad = np.argwhere(~np.isfinite(position))
    if bad.size:
        raise ValueError(f"initial contains a non-finite value at (chain, coordinate) {tuple(int(i) for i in bad[0])}")
    out = f(position)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise ValueError("log_density_and_grad must return a pair (log-densities (n,), gradients (n, ndim))")
    lp, grad = (np.asarray(a, dtype=float) for a in out)
    if lp.shape != (len(position),) or grad.shape != position.shape:
        raise ValueError(
            f"log_density_and_grad must return shapes ({len(position)},) and {position.shape} for input of shape "
            f"{position.shape}, got {lp.shape} and {grad.shape}")
    bad_chain = np.flatnonzero(~np.isfinite(lp) | ~np.all(np.isfinite(grad), axis=1))
    if bad_chain.size:
        c = int(bad_chain[0])
        raise ValueError(
            f"initial point of chain {c} has log-density {lp[c]} and gradient {grad[c].tolist()} (point "
            f"{position[c].tolist()}); start every chain where the density is positive and smooth")
    return HMCState(position, lp, grad)


def leapfrog(f: LogDensityAndGrad, position: np.ndarray, momentum: np.ndarray, grad: np.ndarray, step_size,
             metric: Metric) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One leapfrog step of every chain: half a kick, a full drift, one evaluation of ``f``, half a kick.

    ``p <- p + eps/2 grad log p(z)``; ``z <- z + eps M^{-1} p``; ``p <- p + eps/2 grad log p(z)``. It is
    reversible (negate ``p``, step, negate: back to the start) and preserves volume, and its energy error
    stays bounded, of order ``eps^2``, over long trajectories. A negative step size integrates backwards
    in time.

    Parameters
    ----------
    f : callable
        Vectorised log-density and gradient, ``(n, ndim) -> ((n,), (n, ndim))``.
    position : numpy.ndarray, shape (chains, ndim)
        Start of the step.
    momentum : numpy.ndarray, shape (chains, ndim)
        Momenta at the start.
    grad : numpy.ndarray, shape (chains, ndim)
        Gradient of the log-density at ``position``.
    step_size : float or numpy.ndarray, shape (chains,)
        A scalar or one per chain.
    metric : Metric
        The mass matrix.

    Returns
    -------
    position, momentum, log_density, grad
        At the end of the step.

    References
    ----------
    Neal, R. M. (2011). MCMC using Hamiltonian dynamics. Handbook of Markov Chain Monte Carlo, ch. 5.
    """
    eps = step_size if isinstance(step_size, float) else np.reshape(step_size, (-1, 1))
    momentum = momentum + 0.5 * eps * grad
    position = position + eps * metric.velocity(momentum)
    log_density, grad = _evaluate(f, position)
    momentum = momentum + 0.5 * eps * grad
    return position, momentum, log_density, grad


def _energy(log_density: np.ndarray, momentum: np.ndarray, metric: Metric) -> np.ndarray:
    """``H = -log p(z) + K(p)``, with NaN (a NaN log-density or gradient) counted as infinite energy."""
    h = -log_density + metric.kinetic_energy(momentum)
    return np.where(np.isnan(h), np.inf, h)


def step(state: HMCState, f: LogDensityAndGrad, rng: np.random.Generator, step_size, metric: Metric,
         n_steps) -> tuple[HMCState, dict[str, np.ndarray]]:
    """One static-HMC transition of every chain at once.

    1. draw a momentum ``p ~ N(0, M)`` per chain;
    2. take ``n_steps`` leapfrog steps (per chain), all chains in each call of ``f``;
    3. accept the end point with probability ``min(1, exp(H_start - H_end))``; otherwise stay.

    Every call of ``f`` sees the whole batch of chains, in chain order, so ``f`` may hold per-chain data or be
    compiled for a fixed batch. A chain that has made its steps, or diverged, waits: it takes dummy steps from
    its starting point, whose results are not used (they are counted as evaluations all the same).

    Parameters
    ----------
    step_size, n_steps
        Scalars or one per chain.

    Returns
    -------
    state, info
        ``info`` holds per-chain arrays: ``acceptance_rate`` (the Metropolis probability, what warm-up adapts
        to), ``accepted``, ``diverging`` (energy error above :data:`MAX_ENERGY_ERROR` at some step),
        ``energy`` (``H`` at the chain's new point and momentum), ``energy_error`` (``H_end - H_start`` of
        the proposal), ``n_steps`` (leapfrog steps that count: those made before the end or a divergence).
    """
    chains = state.position.shape[0]
    eps = np.broadcast_to(np.asarray(step_size, dtype=float), (chains,))
    n = np.broadcast_to(np.asarray(n_steps, dtype=int), (chains,))
    p0 = metric.sample_momentum(rng)
    h0 = _energy(state.log_density, p0, metric)
    start = (state.position, p0, state.log_density, state.grad)
    z, p, lp, grad = start
    end = [a.copy() for a in start]  # each chain's end point, once it has made its steps
    diverging = np.zeros(chains, bool)
    taken = np.zeros(chains, int)
    for k in range(int(n.max())):
        z, p, lp, grad = leapfrog(f, z, p, grad, eps, metric)
        running = (k < n) & ~diverging
        taken += running
        diverging |= running & (_energy(lp, p, metric) - h0 > MAX_ENERGY_ERROR)
        done = running & ((k + 1 == n) | diverging)
        for kept, now in zip(end, (z, p, lp, grad)):
            kept[done] = now[done]
        idle = ~running | done
        if idle.any():  # waiting chains restart from their start point, so that the batch stays finite
            z = np.where(idle[:, None], state.position, z)
            p = np.where(idle[:, None], p0, p)
            lp = np.where(idle, state.log_density, lp)
            grad = np.where(idle[:, None], state.grad, grad)
    z, p, lp, grad = end
    h1 = _energy(lp, p, metric)
    energy_error = np.where(diverging, np.inf, h1 - h0)
    accept_prob = np.exp(np.minimum(-energy_error, 0.0))
    accepted = rng.uniform(size=chains) < accept_prob
    new = HMCState(np.where(accepted[:, None], z, state.position), np.where(accepted, lp, state.log_density),
                   np.where(accepted[:, None], grad, state.grad))
    info = {"acceptance_rate": accept_prob, "accepted": accepted, "diverging": diverging,
            "energy": np.where(accepted, h1, h0), "energy_error": energy_error, "n_steps": taken}
    return new, info


def find_step_size(state: HMCState, f: LogDensityAndGrad, rng: np.random.Generator, metric: Metric,
                   step_size=1.0) -> np.ndarray:
    """Stan's heuristic for a first step size, per chain (Hoffman & Gelman 2014, algorithm 4).

    From the current positions, take one leapfrog step with a fresh momentum. If its acceptance probability
    ``exp(-dH)`` is above 0.8, double the step size until it falls below; otherwise halve it until it rises
    above. Stan calls this at the start and after each mass-matrix update. All chains are evaluated in each
    round (as in :func:`step`); those whose search has ended keep their step size.

    Parameters
    ----------
    state : HMCState
        Current positions.
    f : callable
        Vectorised log-density and gradient, ``(n, ndim) -> ((n,), (n, ndim))``.
    rng : numpy.random.Generator
        Source of the momenta.
    metric : Metric
        The mass matrix.
    step_size : float or array_like, default 1.0
        Where the search starts (a scalar or one per chain).

    Returns
    -------
    numpy.ndarray, shape (chains,)
        The step sizes found.

    Raises
    ------
    ValueError
        The step size passes ``1e7`` (the posterior is probably improper) or underflows (it is probably not
        continuous).

    References
    ----------
    Hoffman, M. D., Gelman, A. (2014). The No-U-Turn sampler. JMLR 15, 1593-1623.
    """
    chains = state.position.shape[0]
    eps = np.array(np.broadcast_to(np.asarray(step_size, dtype=float), (chains,)))
    threshold = np.log(STEP_SIZE_SEARCH_ACCEPT)

    def log_accept() -> np.ndarray:
        p = metric.sample_momentum(rng)
        h0 = _energy(state.log_density, p, metric)
        _, p1, lp1, _ = leapfrog(f, state.position, p, state.grad, eps, metric)
        return h0 - _energy(lp1, p1, metric)

    direction = np.where(log_accept() > threshold, 1, -1)
    searching = np.ones(chains, bool)
    while searching.any():
        log_a = log_accept()
        crossed = np.where(direction == 1, ~(log_a > threshold), ~(log_a < threshold))
        searching &= ~crossed
        eps[searching] *= np.where(direction[searching] == 1, 2.0, 0.5)
        if np.any(eps > STEP_SIZE_SEARCH_LIMITS[1]):
            raise ValueError("the step size search passed 1e7 with every step still accepted: the posterior is "
                             "probably improper (flat in some direction); check the model's priors")
        if np.any(eps < STEP_SIZE_SEARCH_LIMITS[0]):
            raise ValueError("no acceptably small step size could be found: the log-density or its gradient is "
                             "probably not continuous")
    return eps


# ---------------------------------------------------------------------------------------------- the driver
Transition = Callable[[HMCState, LogDensityAndGrad, np.random.Generator, np.ndarray, Metric], tuple[HMCState, dict]]


@dataclass(frozen=True)
class Run:
    """What :func:`run_chains` returns: the draws on the sampler's space and the per-draw statistics.

    Parameters
    ----------
    draws : numpy.ndarray
        ``(chains, draws, ndim)`` positions after warm-up.
    stats : dict of str to numpy.ndarray
        ``{name: (chains, draws)}``: ``lp`` and the transition's ``info`` (``acceptance_rate``, ``diverging``,
        ``energy``, ``n_steps``, ...) plus ``step_size``.
    step_size, inverse_metric : numpy.ndarray
        Per chain, as adapted in warm-up and used for the draws.
    n_evaluations : int
        Gradient evaluations (points at which ``f`` was evaluated), warm-up included.
    warmup_divergences : int
        Divergent transitions during warm-up (expected early on; not a problem by themselves).
    wall_time_s : float
        Seconds spent.
    tune : int
        Warm-up transitions per chain.
    """

    draws: np.ndarray
    stats: dict[str, np.ndarray]
    step_size: np.ndarray
    inverse_metric: np.ndarray
    n_evaluations: int
    warmup_divergences: int
    wall_time_s: float
    tune: int


def run_chains(transition: Transition, f: LogDensityAndGrad, initial, draws: int, tune: int, seed=None, *,
               mass_matrix: str = "diag", target_accept: float = adaptation.DEFAULT_TARGET_ACCEPT,
               step_size=None, progressbar: bool = True, desc: str = "hmc") -> Run:
    """The driver shared by HMC and NUTS: warm-up with adaptation, then recorded draws.

    Warm-up follows Stan: a first step size from :func:`find_step_size`, dual averaging of the step size
    after every transition, the inverse mass matrix re-estimated at the end of each window
    (:func:`bayeskit.samplers.adaptation.window_ends`), each time followed by a new step-size search and a
    restart of dual averaging. Draws use the final averaged step size and the last mass matrix.

    Parameters
    ----------
    transition
        ``transition(state, f, rng, step_size, metric) -> (state, info)``, ``info`` with per-chain arrays, among
        them ``acceptance_rate`` (the statistic adapted to) and ``diverging``. It receives ``f`` wrapped to
        count evaluations.
    f
        Vectorised log-density and gradient, ``(n, ndim) -> ((n,), (n, ndim))``.
    initial
        ``(chains, ndim)`` starting points.
    draws, tune
        Recorded transitions and warm-up transitions per chain.
    seed
        None, int, SeedSequence or Generator.
    mass_matrix
        ``"diag"`` or ``"dense"``.
    target_accept
        The mean acceptance statistic the step size is adapted to.
    step_size
        The first step size (scalar or per chain); None: found by :func:`find_step_size` from 1. With
        ``tune = 0`` it is the step size used throughout.
    progressbar, desc
        Show a tqdm bar on stderr, with this label.
    """
    rng = as_rng(seed)
    n_evals = 0

    def counted(z: np.ndarray):
        nonlocal n_evals
        n_evals += len(z)
        return f(z)

    started = time.perf_counter()
    state = init(counted, initial)
    chains, ndim = state.position.shape
    dense = mass_matrix == "dense"
    warm = adaptation.warmup_init(chains, ndim, tune, 1.0, mass_matrix, target_accept)
    metric = Metric.from_inverse(warm.inverse_metric, dense)
    eps = find_step_size(state, counted, rng, metric) if step_size is None else \
        np.array(np.broadcast_to(np.asarray(step_size, float), (chains,)))
    warm = adaptation.warmup_restart_step_size(warm, eps)
    positions = np.empty((chains, draws, ndim))
    stats: dict[str, np.ndarray] = {"lp": np.empty((chains, draws)), "step_size": np.empty((chains, draws))}
    warmup_divergences = 0
    from tqdm import tqdm

    with tqdm(total=tune + draws, disable=not progressbar, desc=desc, leave=False, mininterval=0.5) as bar:
        for i in range(tune + draws):
            if i == tune and tune > 0:
                eps, inverse = adaptation.warmup_final(warm)
                metric = Metric.from_inverse(inverse, dense)
            current = warm.step_size if i < tune else eps
            state, info = transition(state, counted, rng, current, metric)
            if i < tune:
                warmup_divergences += int(np.sum(info["diverging"]))
                warm, changed = adaptation.warmup_update(warm, state.position, info["acceptance_rate"])
                if changed:  # new metric: a step size that suits it, and dual averaging from there
                    metric = Metric.from_inverse(warm.inverse_metric, dense)
                    warm = adaptation.warmup_restart_step_size(
                        warm, find_step_size(state, counted, rng, metric, warm.step_size))
            else:
                j = i - tune
                positions[:, j] = state.position
                stats["lp"][:, j] = state.log_density
                stats["step_size"][:, j] = current
                for key, value in info.items():
                    if key not in stats:
                        stats[key] = np.empty((chains, draws), dtype=np.asarray(value).dtype)
                    stats[key][:, j] = value
            bar.update()
    return Run(positions, stats, np.asarray(eps, float), metric.inverse, n_evals, warmup_divergences,
               time.perf_counter() - started, tune)


def _check_driver_arguments(f, initial, draws, tune, chains, mass_matrix, target_accept, step_size):
    draws, tune, chains, start = check_sampler_arguments(f, "log_density_and_grad", initial, draws, tune, chains)
    if mass_matrix not in adaptation.MASS_MATRIX_KINDS:
        raise ValueError(f"mass_matrix must be one of {adaptation.MASS_MATRIX_KINDS}, got {mass_matrix!r}")
    if isinstance(target_accept, bool) or not isinstance(target_accept, (int, float, np.floating)) \
            or not 0 < target_accept < 1:
        raise ValueError(f"target_accept must be a number in (0, 1), got {target_accept!r}")
    if step_size is not None:
        eps = np.asarray(step_size, dtype=float)
        if np.any(~np.isfinite(eps) | (eps <= 0)) or eps.ndim > 1 or (eps.ndim == 1 and eps.shape != (chains,)):
            raise ValueError(f"step_size must be a positive number (or one per chain), got {step_size!r}")
    return draws, tune, chains, start


def static_path(n_steps: int | None, path_length: float | None, jitter: float, max_steps: int):
    """The number of leapfrog steps per chain for static HMC, as a function ``(step_size, rng) -> n_steps``.

    A fixed count, or ``path_length / step_size`` rounded up (at most ``max_steps``), each jittered
    uniformly within ``+-jitter`` of itself.

    Parameters
    ----------
    n_steps : int, optional
        Fixed number of leapfrog steps.
    path_length : float, optional
        Fixed duration of the trajectory (default ``DEFAULT_PATH_LENGTH`` when ``n_steps`` is not given).
    jitter : float
        Relative jitter, in ``[0, 1)``.
    max_steps : int
        Cap on the number of steps.

    Returns
    -------
    callable
        ``steps(step_size (chains,), rng) -> (chains,)`` integers in ``[1, max_steps]``.

    Raises
    ------
    ValueError
        Both ``n_steps`` and ``path_length`` given; either not positive; ``jitter`` outside ``[0, 1)``.
    """
    if n_steps is not None and path_length is not None:
        raise ValueError("give n_steps or path_length, not both (n_steps fixes the number of leapfrog steps; "
                         "path_length fixes their total duration, n_steps = path_length / step_size)")
    if n_steps is not None:
        n_steps = check_positive_int("n_steps", n_steps)
    else:
        path_length = DEFAULT_PATH_LENGTH if path_length is None else path_length
        if isinstance(path_length, bool) or not isinstance(path_length, (int, float, np.number)) \
                or not (np.isfinite(path_length) and path_length > 0):
            raise ValueError(f"path_length must be a positive number, got {path_length!r}")
    if isinstance(jitter, bool) or not isinstance(jitter, (int, float, np.number)) or not 0 <= jitter < 1:
        raise ValueError(f"jitter must be a number in [0, 1), got {jitter!r}")
    max_steps = check_positive_int("max_steps", max_steps)

    def steps(step_size: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        base = np.full(step_size.shape, n_steps, float) if n_steps is not None else np.ceil(path_length / step_size)
        if jitter > 0:
            base = base * rng.uniform(1 - jitter, 1 + jitter, size=step_size.shape)
        return np.clip(np.rint(base), 1, max_steps).astype(int)

    return steps


def sample_hmc(log_density_and_grad: LogDensityAndGrad, initial, draws: int = 1000, tune: int = 1000,
               chains: int = 4, seed=None, *, n_steps: int | None = None, path_length: float | None = None,
               jitter: float = 0.0, max_steps: int = DEFAULT_MAX_STEPS, mass_matrix: str = "diag",
               target_accept: float = adaptation.DEFAULT_TARGET_ACCEPT, step_size=None,
               progressbar: bool = True) -> Run:
    """Static HMC with Stan's warm-up; draws as arrays (see :func:`hmc` for the parameters).

    Parameters
    ----------
    log_density_and_grad, initial, draws, tune, chains, seed, n_steps, path_length, jitter, max_steps, mass_matrix, target_accept, step_size, progressbar
        As for :func:`hmc`.

    Returns
    -------
    Run
        The draws on the sampler's space and their statistics.
    """
    draws, tune, chains, start = _check_driver_arguments(log_density_and_grad, initial, draws, tune, chains,
                                                         mass_matrix, target_accept, step_size)
    steps = static_path(n_steps, path_length, jitter, max_steps)

    def transition(state, f, rng, eps, metric):
        return step(state, f, rng, eps, metric, steps(np.asarray(eps, float), rng))

    return run_chains(transition, log_density_and_grad, start, draws, tune, seed, mass_matrix=mass_matrix,
                      target_accept=target_accept, step_size=step_size, progressbar=progressbar, desc="hmc")


def to_idata(run: Run, layout: Layout, engine: str, seed) -> az.InferenceData:
    """InferenceData of a :class:`Run` on ``layout``'s coordinates, with its run facts in attrs.

    Parameters
    ----------
    run : Run
        Result of :func:`run_chains`.
    layout : bayeskit.layout.Layout
        Names and shapes of the coordinates.
    engine : str
        Stored as ``attrs["engine"]``.
    seed
        The seed the run used, stored in ``attrs["seed"]``.

    Returns
    -------
    arviz.InferenceData
        Posterior and sample_stats; attrs ``engine``, ``seed``, ``wall_time_s``, ``n_evaluations``, ``tune``,
        ``acceptance_rate``, ``n_divergences``, ``step_size``.
    """
    return to_inference_data(run.draws, layout, sample_stats=run.stats, attrs={
        "engine": engine, "seed": seed_for_attrs(seed), "wall_time_s": run.wall_time_s,
        "n_evaluations": run.n_evaluations, "tune": run.tune,
        "acceptance_rate": float(np.mean(run.stats["acceptance_rate"])),
        "n_divergences": int(np.sum(run.stats["diverging"])),
        "step_size": run.step_size.tolist()})


def default_layout(ndim: int, var_names: Sequence[str] | None, layout: Layout | None) -> Layout:
    """The coordinates' names: ``layout``, else one scalar per name of ``var_names``, else a vector ``x``.

    Parameters
    ----------
    ndim : int
        Number of coordinates.
    var_names : sequence of str, optional
        One name per coordinate.
    layout : bayeskit.layout.Layout, optional
        Used as it is when given.

    Returns
    -------
    bayeskit.layout.Layout

    Raises
    ------
    ValueError
        ``layout`` or ``var_names`` does not match ``ndim``.
    """
    if layout is not None:
        if layout.ndim != ndim:
            raise ValueError(f"layout has {layout.ndim} coordinates but initial has {ndim}")
        return layout
    if var_names is not None:
        if len(var_names) != ndim:
            raise ValueError(f"var_names has {len(var_names)} names for {ndim} coordinates")
        return Layout.scalars(var_names)
    return Layout.vector(ndim, "x")


def hmc(log_density_and_grad: LogDensityAndGrad, initial, draws: int = 1000, tune: int = 1000, chains: int = 4,
        seed=None, *, n_steps: int | None = None, path_length: float | None = None, jitter: float = 0.0,
        max_steps: int = DEFAULT_MAX_STEPS, mass_matrix: str = "diag",
        target_accept: float = adaptation.DEFAULT_TARGET_ACCEPT, step_size=None,
        var_names: Sequence[str] | None = None, layout: Layout | None = None,
        progressbar: bool = True) -> az.InferenceData:
    """Sample with static-path HMC, all chains stepping together, with Stan's warm-up.

    Parameters
    ----------
    log_density_and_grad
        ``f(z) -> (log p, grad log p)`` for a batch ``(n, ndim) -> ((n,), (n, ndim))``, ``-inf`` outside the
        support. Called on all chains at once, once per leapfrog step.
    initial
        Starting points ``(chains, ndim)``, or ``(ndim,)`` shared by all chains.
    draws, tune
        Recorded transitions and warm-up transitions per chain (warm-up: step size and mass matrix adapt).
    chains
        Number of chains (each adapts its own step size and mass matrix).
    seed
        None, int, SeedSequence or ``np.random.Generator``; the same seed gives the same draws.
    n_steps, path_length
        The static path: a fixed number of leapfrog steps, or a fixed integration time ``path_length``
        (``n_steps = ceil(path_length / step_size)``, which follows the step size as it adapts). Give one at
        most; default: ``path_length = 2``, PyMC's.
    jitter
        Multiply the number of steps by a uniform factor in ``[1 - jitter, 1 + jitter]`` at every transition
        (independently per chain), which breaks the resonance of a fixed path length. Default 0.
    max_steps
        Cap on leapfrog steps per transition (1024, PyMC's).
    mass_matrix
        ``"diag"`` (variances) or ``"dense"`` (full covariance), learned in Stan's warm-up windows.
    target_accept
        Mean Metropolis acceptance probability the step size is adapted to (0.8, Stan's default).
    step_size
        First step size (scalar or per chain); None: Stan's heuristic. With ``tune=0``, the one used.
    var_names, layout
        Names for the coordinates (one scalar each) or a :class:`~bayeskit.layout.Layout`; default a vector ``x``.
    progressbar
        Show a tqdm progress bar on stderr.

    Returns
    -------
    arviz.InferenceData
        ``posterior`` ``(chain, draw, ...)``; ``sample_stats`` with ``lp``, ``acceptance_rate``, ``accepted``,
        ``diverging``, ``energy``, ``energy_error``, ``n_steps``, ``step_size``; ``attrs`` with engine, seed,
        wall_time_s, n_evaluations (gradient evaluations), tune, acceptance_rate, n_divergences, step_size.

    Raises
    ------
    ValueError, TypeError
        Bad draws, tune, chains, initial points, mass_matrix, target_accept, step_size, n_steps, path_length
        or jitter.
    """
    run = sample_hmc(log_density_and_grad, initial, draws, tune, chains, seed, n_steps=n_steps,
                     path_length=path_length, jitter=jitter, max_steps=max_steps, mass_matrix=mass_matrix,
                     target_accept=target_accept, step_size=step_size, progressbar=progressbar)
    return to_idata(run, default_layout(run.draws.shape[-1], var_names, layout), "hmc", seed)
