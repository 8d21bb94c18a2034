"""The No-U-Turn sampler, multinomial variant, as Stan runs it: written to be read.

Static HMC needs a path length, and the right one differs between targets and between regions of one
target. NUTS lets the trajectory decide: it keeps doubling the trajectory, each time in a random direction
(forward or backward in time), until the trajectory starts to turn back on itself, and then draws the next
point from the whole trajectory, each point with probability proportional to ``exp(-H)``.

How one transition (:func:`transition`) goes, for one chain:

1. Draw a momentum; the trajectory is the single starting point.
2. Pick a direction at random and build a subtree as long as the trajectory so far, starting at that end
   (:func:`build_tree`: 1, 2, 4, ... leapfrog steps; the tree depth is the number of doublings).
3. If the subtree diverged (energy error above 1000) or turned back within itself, discard it and stop.
   Otherwise choose between the current sample and the subtree's own sample, favouring the new subtree
   (*biased progressive sampling*: take the subtree's sample with probability
   ``min(1, weight(subtree) / weight(trajectory so far))``), and append it.
4. Stop when the whole trajectory makes a U-turn (:func:`is_turning`) or at the maximum depth; else go to 2.

Inside :func:`build_tree` a subtree is two halves built the same way, recursively; its sample is drawn
from its two halves in proportion to their weights (*uniform progressive sampling*, which is plain
multinomial sampling over the subtree's points), and it is checked for a U-turn across its two halves.

The U-turn criterion is the generalised one (Betancourt 2017): a span of the trajectory with summed momenta
``rho`` keeps going while the velocities ``M^{-1} p`` at both of its ends still point along ``rho``.
Stan checks it on the merged span and, since its 2.26, also on each half extended by the first point of the
other half, which catches U-turns that the two halves hide from each other (e.g. in Gaussians with
very different scales); both checks are here.

Why it is correct: leapfrog is reversible and volume-preserving, the tree's shape does not depend on the
point it started from among those in the final trajectory (that is why a subtree that turns inside is
discarded whole), and the point is drawn in proportion to ``exp(-H)``. Together these give detailed balance
with respect to ``p(z) N(p | 0, M)`` (Betancourt 2017, appendix A; Hoffman & Gelman 2014, section 3).

References
----------
Hoffman, M. D., Gelman, A. (2014). The No-U-Turn sampler: adaptively setting path lengths in Hamiltonian
Monte Carlo. JMLR 15, 1593-1623.
Betancourt, M. (2017). A conceptual introduction to Hamiltonian Monte Carlo. arXiv:1701.02434.
Stan Development Team. ``stan/mcmc/hmc/nuts/base_nuts.hpp`` (the transition followed here).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple, Sequence

import numpy as np

if TYPE_CHECKING:  # imported where used, so that importing bayeskit stays light
    import arviz as az

from bayeskit._checks import check_positive_int
from bayeskit.layout import Layout
from bayeskit.samplers import adaptation
from bayeskit.samplers.hmc import (
    MAX_ENERGY_ERROR,
    HMCState,
    LogDensityAndGrad,
    Metric,
    Run,
    _check_driver_arguments,
    default_layout,
    leapfrog,
    run_chains,
    to_idata,
)

__all__ = ["DEFAULT_MAX_TREEDEPTH", "Point", "Tree", "build_tree", "is_turning", "nuts", "sample_nuts", "step",
           "transition"]

#: Stan's and PyMC's maximum tree depth: at most ``2**10 - 1 = 1023`` leapfrog steps per transition, a cap on
#: the cost of one transition. Hitting it often means the step size is tiny (a hard geometry) or the
#: posterior is improper.
DEFAULT_MAX_TREEDEPTH = 10


class Point(NamedTuple):
    """One point of a trajectory (one chain): arrays of shape ``(1, ndim)`` so that ``f`` sees a batch of one.

    Parameters
    ----------
    position, momentum : numpy.ndarray, shape (1, ndim)
        Where the point is and its momentum.
    log_density : float
        Log-density at ``position``.
    grad : numpy.ndarray, shape (1, ndim)
        Its gradient.
    velocity : numpy.ndarray, shape (1, ndim)
        ``M^{-1} p``: the direction the point moves in (Betancourt's "sharp" momentum).
    energy : float
        ``H = -log p(z) + p^T M^{-1} p / 2`` (inf where it is NaN).
    """

    position: np.ndarray
    momentum: np.ndarray
    log_density: float
    grad: np.ndarray
    velocity: np.ndarray  # M^{-1} p: the direction the point moves in (Betancourt's "sharp" momentum)
    energy: float  # H = -log p(z) + p^T M^{-1} p / 2 (inf where it is NaN)


def make_point(position, momentum, log_density, grad, metric: Metric) -> Point:
    """A :class:`Point` with its velocity and energy.

    Parameters
    ----------
    position, momentum, grad : numpy.ndarray, shape (1, ndim)
        The point's position, momentum and log-density gradient.
    log_density : float
        Log-density at ``position``.
    metric : bayeskit.samplers.hmc.Metric
        The metric of this chain (for the velocity and kinetic energy).

    Returns
    -------
    Point
    """
    velocity = metric.velocity(momentum)
    energy = -float(log_density) + 0.5 * float(np.vdot(momentum, velocity))
    return Point(position, momentum, float(log_density), grad, velocity, math.inf if math.isnan(energy) else energy)


def _logaddexp(a: float, b: float) -> float:
    """``log(exp(a) + exp(b))`` for floats (``-inf`` allowed), without overflow."""
    if a < b:
        a, b = b, a
    return a if b == -math.inf else a + math.log1p(math.exp(b - a))


class Tree(NamedTuple):
    """A subtree: ``2**depth`` consecutive points of a trajectory, in the order they were integrated.

    Parameters
    ----------
    first : Point
        The point next to where the subtree was started.
    last : Point
        The point farthest from it: the new end of the trajectory.
    sample : Point
        Drawn from the subtree's points with probability proportional to ``exp(-H)``.
    log_weight : float
        Log of the sum over its points of ``exp(H_start - H)``.
    rho : numpy.ndarray
        The sum of its points' momenta.
    valid : bool
        False if it diverged or turned back within itself: then it is discarded.
    """

    first: Point  # the point next to where the subtree was started
    last: Point  # the point farthest from it: the new end of the trajectory
    sample: Point  # drawn from the subtree's points with probability proportional to exp(-H)
    log_weight: float  # log of the sum over its points of exp(H_start - H)
    rho: np.ndarray  # the sum of its points' momenta
    valid: bool  # False if it diverged or turned back within itself: then it is discarded


class _Counts:
    """What a transition reports besides its sample, accumulated over every leapfrog step it takes."""

    def __init__(self) -> None:
        self.n_steps = 0
        self.sum_accept = 0.0  # sum of min(1, exp(-energy error)) over the points: the acceptance statistic
        self.diverging = False
        self.max_energy_error = 0.0  # the energy error of largest magnitude (signed), as PyMC reports it


def _no_u_turn(velocity_start: np.ndarray, velocity_end: np.ndarray, rho: np.ndarray) -> bool:
    """A span whose summed momenta are ``rho`` keeps going while both its ends move along ``rho``."""
    return np.vdot(velocity_start, rho) > 0 and np.vdot(velocity_end, rho) > 0


def is_turning(a_first: Point, a_last: Point, rho_a: np.ndarray, b_first: Point, b_last: Point,
               rho_b: np.ndarray) -> bool:
    """Whether two adjacent spans ``a`` then ``b`` (in the order they were integrated) make a U-turn together.

    Three checks, as in Stan: the merged span; ``a`` extended by the first point of ``b``; and ``b`` extended
    by the last point of ``a``. The criterion is symmetric in time, so the same code serves a trajectory
    extended forward or backward.

    Parameters
    ----------
    a_first, a_last : Point
        The ends of span ``a``.
    rho_a : numpy.ndarray
        The sum of span ``a``'s momenta.
    b_first, b_last, rho_b
        The same for span ``b``.

    Returns
    -------
    bool
        True when the merged trajectory has turned back on itself.

    References
    ----------
    Hoffman, M. D., Gelman, A. (2014). The No-U-Turn sampler. JMLR 15, 1593-1623.
    Betancourt, M. (2017). A conceptual introduction to Hamiltonian Monte Carlo. arXiv:1701.02434.
    """
    return not (_no_u_turn(a_first.velocity, b_last.velocity, rho_a + rho_b)
                and _no_u_turn(a_first.velocity, b_first.velocity, rho_a + b_first.momentum)
                and _no_u_turn(a_last.velocity, b_last.velocity, a_last.momentum + rho_b))


def build_tree(start: Point, depth: int, step_size: float, energy_start: float, f: LogDensityAndGrad,
               rng: np.random.Generator, metric: Metric, counts: _Counts) -> Tree:
    """Build a subtree of ``2**depth`` leapfrog steps from ``start`` (not included), recursively.

    Parameters
    ----------
    start : Point
        Where the subtree starts (the current end of the trajectory).
    depth : int
        The subtree has ``2**depth`` points.
    step_size : float
        Carries the direction (negative: backward in time).
    energy_start : float
        ``H`` at the transition's first point.
    f : callable
        Vectorised log-density and gradient, ``(n, ndim) -> ((n,), (n, ndim))``.
    rng : numpy.random.Generator
        For the multinomial choice of the subtree's sample.
    metric : bayeskit.samplers.hmc.Metric
        The chain's metric.
    counts : _Counts
        Accumulates the steps, acceptance statistic and divergence.

    Returns
    -------
    Tree
        Invalid (``valid=False``) as soon as a step diverges or a sub-subtree turns.

    References
    ----------
    Hoffman, M. D., Gelman, A. (2014). The No-U-Turn sampler. JMLR 15, 1593-1623.
    Betancourt, M. (2017). A conceptual introduction to Hamiltonian Monte Carlo. arXiv:1701.02434.
    """
    if depth == 0:  # one leapfrog step: a subtree of one point
        position, momentum, log_density, grad = leapfrog(f, start.position, start.momentum, start.grad, step_size,
                                                         metric)
        point = make_point(position, momentum, log_density[0], grad, metric)
        energy_error = point.energy - energy_start
        counts.n_steps += 1
        counts.sum_accept += 1.0 if energy_error <= 0 else math.exp(-energy_error)
        if abs(energy_error) > abs(counts.max_energy_error):
            counts.max_energy_error = energy_error
        diverged = energy_error > MAX_ENERGY_ERROR
        counts.diverging |= diverged
        return Tree(point, point, point, -energy_error, momentum, not diverged)

    inner = build_tree(start, depth - 1, step_size, energy_start, f, rng, metric, counts)
    if not inner.valid:
        return inner
    outer = build_tree(inner.last, depth - 1, step_size, energy_start, f, rng, metric, counts)
    if not outer.valid:
        return outer
    log_weight = _logaddexp(inner.log_weight, outer.log_weight)
    # multinomial sampling within the subtree: the outer half's sample with probability its share of the weight
    sample = outer.sample if rng.random() < math.exp(outer.log_weight - log_weight) else inner.sample
    turned = is_turning(inner.first, inner.last, inner.rho, outer.first, outer.last, outer.rho)
    return Tree(inner.first, outer.last, sample, log_weight, inner.rho + outer.rho, not turned)


def transition(start: Point, f: LogDensityAndGrad, rng: np.random.Generator, step_size: float, metric: Metric,
               max_treedepth: int = DEFAULT_MAX_TREEDEPTH) -> tuple[Point, dict]:
    """One NUTS transition of one chain from ``start`` (with its freshly drawn momentum).

    Parameters
    ----------
    start : Point
        The current point, with a fresh momentum.
    f : callable
        Vectorised log-density and gradient, ``(n, ndim) -> ((n,), (n, ndim))``.
    rng : numpy.random.Generator
        For the directions and the sample choices.
    step_size : float
        Leapfrog step size.
    metric : bayeskit.samplers.hmc.Metric
        The chain's metric.
    max_treedepth : int, default DEFAULT_MAX_TREEDEPTH
        At most this many doublings.

    Returns
    -------
    sample, info
        The next point, and ``acceptance_rate`` (mean of ``min(1, exp(-dH))`` over every point integrated,
        discarded subtrees included, as Stan computes it; what warm-up adapts to), ``tree_depth``
        (doublings kept), ``n_steps`` (leapfrog steps taken), ``diverging``, ``energy`` (``H`` at the sample),
        ``energy_error`` (``H`` at the sample minus at the start), ``max_energy_error``,
        ``reached_max_treedepth``.

    References
    ----------
    Hoffman, M. D., Gelman, A. (2014). The No-U-Turn sampler. JMLR 15, 1593-1623.
    Betancourt, M. (2017). A conceptual introduction to Hamiltonian Monte Carlo. arXiv:1701.02434.
    """
    energy_start = start.energy
    backward_end = forward_end = sample = start
    log_weight = 0.0  # log sum of exp(H_start - H) over the trajectory: the start point contributes exp(0)
    rho = start.momentum
    counts = _Counts()
    depth = 0
    while depth < max_treedepth:
        direction = 1 if rng.random() > 0.5 else -1
        end = forward_end if direction == 1 else backward_end
        tree = build_tree(end, depth, direction * step_size, energy_start, f, rng, metric, counts)
        if not tree.valid:  # diverged or turned within itself: discard it, keep the sample so far
            break
        depth += 1
        # biased progressive sampling: move to the new subtree's sample with probability min(1, w_new / w_old)
        if rng.random() < math.exp(min(0.0, tree.log_weight - log_weight)):
            sample = tree.sample
        log_weight = _logaddexp(log_weight, tree.log_weight)
        # the trajectory so far, listed in the direction of this extension, then the new subtree
        old_first, old_last = (backward_end, forward_end) if direction == 1 else (forward_end, backward_end)
        turned = is_turning(old_first, old_last, rho, tree.first, tree.last, tree.rho)
        rho = rho + tree.rho
        if direction == 1:
            forward_end = tree.last
        else:
            backward_end = tree.last
        if turned:
            break
    info = {"acceptance_rate": counts.sum_accept / max(counts.n_steps, 1), "tree_depth": depth,
            "n_steps": counts.n_steps, "diverging": counts.diverging, "energy": sample.energy,
            "energy_error": sample.energy - energy_start, "max_energy_error": counts.max_energy_error,
            "reached_max_treedepth": depth >= max_treedepth}
    return sample, info


def step(state: HMCState, f: LogDensityAndGrad, rng: np.random.Generator, step_size, metric: Metric,
         max_treedepth: int = DEFAULT_MAX_TREEDEPTH) -> tuple[HMCState, dict[str, np.ndarray]]:
    """One NUTS transition of every chain.

    Momenta are drawn for all chains at once, then :func:`transition` runs for each chain in turn (each
    chain's tree has its own shape, so the chains are not batched).

    Parameters
    ----------
    state : bayeskit.samplers.hmc.HMCState
        Where the chains are.
    f : callable
        Vectorised log-density and gradient, ``(n, ndim) -> ((n,), (n, ndim))``.
    rng : numpy.random.Generator
        Source of randomness.
    step_size : float or array_like, shape (chains,)
        A scalar or one per chain.
    metric : bayeskit.samplers.hmc.Metric
        The chains' metric.
    max_treedepth : int, default DEFAULT_MAX_TREEDEPTH
        At most this many doublings per transition.

    Returns
    -------
    state, info
        ``info`` holds the per-chain arrays of :func:`transition`'s information.
    """
    chains = state.position.shape[0]
    eps = np.broadcast_to(np.asarray(step_size, dtype=float), (chains,))
    momenta = metric.sample_momentum(rng)
    position, log_density, grad = state.position.copy(), state.log_density.copy(), state.grad.copy()
    infos = []
    for c in range(chains):
        one = slice(c, c + 1)
        metric_c = metric.take(one)
        start = make_point(state.position[one], momenta[one], state.log_density[c], state.grad[one], metric_c)
        sample, info = transition(start, f, rng, float(eps[c]), metric_c, max_treedepth)
        position[c], log_density[c], grad[c] = sample.position[0], sample.log_density, sample.grad[0]
        infos.append(info)
    info = {key: np.array([i[key] for i in infos]) for key in infos[0]}
    return HMCState(position, log_density, grad), info


def sample_nuts(log_density_and_grad: LogDensityAndGrad, initial, draws: int = 1000, tune: int = 1000,
                chains: int = 4, seed=None, *, max_treedepth: int = DEFAULT_MAX_TREEDEPTH,
                mass_matrix: str = "diag", target_accept: float = adaptation.DEFAULT_TARGET_ACCEPT,
                step_size=None, progressbar: bool = True) -> Run:
    """NUTS with Stan's warm-up; draws as arrays (see :func:`nuts` for the parameters).

    Parameters
    ----------
    log_density_and_grad, initial, draws, tune, chains, seed, max_treedepth, mass_matrix, target_accept, step_size, progressbar
        As for :func:`nuts`.

    Returns
    -------
    bayeskit.samplers.hmc.Run
        The draws on the sampler's space and their statistics.
    """
    draws, tune, chains, start = _check_driver_arguments(log_density_and_grad, initial, draws, tune, chains,
                                                         mass_matrix, target_accept, step_size)
    max_treedepth = check_positive_int("max_treedepth", max_treedepth)

    def kernel(state, f, rng, eps, metric):
        return step(state, f, rng, eps, metric, max_treedepth)

    return run_chains(kernel, log_density_and_grad, start, draws, tune, seed, mass_matrix=mass_matrix,
                      target_accept=target_accept, step_size=step_size, progressbar=progressbar, desc="nuts")


def nuts(log_density_and_grad: LogDensityAndGrad, initial, draws: int = 1000, tune: int = 1000, chains: int = 4,
         seed=None, *, max_treedepth: int = DEFAULT_MAX_TREEDEPTH, mass_matrix: str = "diag",
         target_accept: float = adaptation.DEFAULT_TARGET_ACCEPT, step_size=None,
         var_names: Sequence[str] | None = None, layout: Layout | None = None,
         progressbar: bool = True) -> az.InferenceData:
    """Sample with the No-U-Turn sampler (multinomial, Stan's variant) and Stan's warm-up.

    Parameters
    ----------
    log_density_and_grad
        ``f(z) -> (log p, grad log p)`` for a batch ``(n, ndim) -> ((n,), (n, ndim))``, ``-inf`` outside the
        support. NUTS calls it with one point at a time (each chain's tree has its own shape).
    initial
        Starting points ``(chains, ndim)``, or ``(ndim,)`` shared by all chains.
    draws, tune
        Recorded transitions and warm-up transitions per chain.
    chains
        Number of chains (each adapts its own step size and mass matrix).
    seed
        None, int, SeedSequence or ``np.random.Generator``; the same seed gives the same draws.
    max_treedepth
        At most ``2**max_treedepth - 1`` leapfrog steps per transition (10, Stan's and PyMC's).
    mass_matrix
        ``"diag"`` or ``"dense"``, learned in Stan's warm-up windows.
    target_accept
        The mean acceptance statistic (over each trajectory's points) the step size is adapted to (0.8).
    step_size
        First step size (scalar or per chain); None: Stan's heuristic. With ``tune=0``, the one used.
    var_names, layout
        Names for the coordinates (one scalar each) or a :class:`~bayeskit.layout.Layout`; default a vector ``x``.
    progressbar
        Show a tqdm progress bar on stderr.

    Returns
    -------
    arviz.InferenceData
        ``posterior`` ``(chain, draw, ...)``; ``sample_stats`` with ArviZ's and PyMC's names: ``lp``,
        ``acceptance_rate``, ``diverging``, ``energy``, ``energy_error``, ``max_energy_error``, ``n_steps``,
        ``tree_depth``, ``reached_max_treedepth``, ``step_size``; ``attrs`` with engine, seed, wall_time_s,
        n_evaluations (gradient evaluations), tune, acceptance_rate, n_divergences, step_size.

    Raises
    ------
    ValueError, TypeError
        Bad draws, tune, chains, initial points, mass_matrix, target_accept, step_size or max_treedepth.
    """
    run = sample_nuts(log_density_and_grad, initial, draws, tune, chains, seed, max_treedepth=max_treedepth,
                      mass_matrix=mass_matrix, target_accept=target_accept, step_size=step_size,
                      progressbar=progressbar)
    return to_idata(run, default_layout(run.draws.shape[-1], var_names, layout), "nuts", seed)
