"""Engine ``"emcee"``: the affine-invariant ensemble sampler (Foreman-Mackey et al. 2013).

Walkers become chains. emcee keeps its own ``numpy.random.RandomState``; this adapter seeds it with one
draw from ``np.random.default_rng(seed)`` (a Generator is used as it is). Note that walkers of an ensemble
are not independent chains, so R-hat computed across them is only indicative.

Options (declared in :mod:`bayeskit.engines.registry`): ``tune`` burn-in steps discarded (default
``draws``), ``initial`` ``(walkers, ndim)`` (its rows set the number of walkers when ``chains`` is None),
``moves`` (an emcee move), ``pool`` (see below). Default walkers: ``max(32, 2 * ndim + 2)``.

A pool, for likelihoods that cannot be vectorised (a simulator call per point): ``pool=`` takes anything with a
``map(function, iterable)`` method: ``multiprocessing.Pool``, a ``concurrent.futures`` executor, schwimmbad's pools,
or mpi4py's (``mpi4py.futures.MPICommExecutor`` in a script run with ``mpiexec -n N python script.py``, or
``MPIPoolExecutor``). Each ensemble update sends one chunk of walkers to each worker (:func:`evaluate_chunk`).
The Problem (its data included) is pickled once on this process and reaches each worker once: a task carries only
a key and the walker positions, a worker keeps the Problem it has received under that key, and a worker that does
not have it yet answers "missing", upon which only its chunk is sent again with the Problem attached
(``attrs["pool_payload_sends"]`` counts those sends: about one per worker when the pool keeps its workers; a few
more when the pool happens to hand a worker's first chunks to another worker that has not yet received it).
emcee's documentation measures pickling the data with every call as about 10x slower. The Problem must be
picklable: a ``Problem.from_pymc`` (cloudpickle is used when plain pickle fails) or a likelihood defined at module
level (a lambda or a nested function cannot be pickled by the standard library).

emcee draws all its random numbers in this process from its own RandomState, so a run with a pool gives the same
draws as the serial run with the same seed, bit for bit, when a point's log density does not depend on the batch it
is evaluated in (element-wise NumPy, as in ``tests/test_mpi.py``, which checks the identity). A density computed
with a matrix product over the batch (``X @ W``) can differ in the last bits between a one-row chunk and the whole
batch (BLAS takes another code path); the pooled chain is then equal to rounding, and the same chain in
distribution, but not guaranteed identical. ``attrs["n_evaluations"]`` counts the points sent to the pool.

Starting points are checked on entry: every walker must have a finite log posterior, and the walkers must
span all dimensions. emcee's stretch move proposes ``x_k + z (x_j - x_k)`` along lines through other walkers,
so an ensemble that starts on a line or a plane (or at one point) never leaves it.

References
----------
Goodman, J., Weare, J. (2010). Ensemble samplers with affine invariance. CAMCoS 5, 65-80.
Foreman-Mackey, D., Hogg, D. W., Lang, D., Goodman, J. (2013). emcee: the MCMC hammer. PASP 125, 306.
"""

from __future__ import annotations

import pickle
import uuid

import emcee
import numpy as np

from bayeskit._checks import as_rng, check_start_points
from bayeskit.engines.parallel import pool_size, single_process, split
from bayeskit.engines.walk_space import walk_space
from bayeskit.results import build_inference_data

#: emcee's own rule (``get_autocorr_time``'s ``tol``): tau is trustworthy once the chain is 50 tau long.
AUTOCORR_TOL = 50


def run(problem, record, *, draws, chains, seed, progressbar, tune, initial, moves, space="unconstrained",
        log_likelihood=None, pool=None):
    """Run emcee's EnsembleSampler on ``problem.log_density``, the unconstrained space, and report
    constrained draws (``space="constrained"``: on the parameters themselves, see
    :mod:`bayeskit.engines.walk_space`); called by :func:`bayeskit.sample`. Starting points are given, and
    checked, on the constrained space."""
    walk = walk_space(problem, space, "emcee")
    ndim = walk.layout.ndim
    if chains is None:
        chains = np.shape(initial)[0] if initial is not None and np.ndim(initial) == 2 else max(32, 2 * ndim + 2)
    walkers = chains
    if walkers < 2 * ndim:
        raise ValueError(f"emcee needs at least 2 * ndim = {2 * ndim} walkers (chains), got {walkers}")
    tune = draws if tune is None else tune
    rng = as_rng(seed)
    if initial is None:
        start = problem.initial_points(walkers, rng)
    else:
        start = check_start_points(initial, problem.log_posterior, walkers, problem.ndim, unit="walker")
    start = walk.from_parameters(start)
    if initial is not None:  # spanning is judged where the walkers move (a simplex spans one dimension less)
        check_start_points(start, walk.log_density, walkers, ndim, unit="walker", spanning=True)
    density = walk.log_density if pool is None else PooledLogDensity(walk.log_density, pool)
    sampler = emcee.EnsembleSampler(walkers, ndim, density, vectorize=True, moves=moves)
    sampler.random_state = np.random.RandomState(rng.integers(2**32 - 1)).get_state()
    with record.measure():
        sampler.run_mcmc(start, tune + draws, progress=progressbar)
    pool_attrs = {}
    if pool is not None:  # the workers evaluated copies of the Problem: count the points sent to them
        record.set_evaluations(density.n_evaluations)
        pool_attrs = {"pool_payload_sends": density.payload_sends, "pool_workers": pool_size(pool) or "unknown"}
    chain = np.swapaxes(sampler.get_chain(discard=tune), 0, 1)  # (walkers, draws, unconstrained ndim)
    samples = walk.to_parameters(chain.reshape(-1, ndim)).reshape(*chain.shape[:2], problem.ndim)
    lp = np.swapaxes(sampler.get_log_prob(discard=tune), 0, 1)
    tau = _autocorr_time(sampler, tune)
    if np.any(~np.isfinite(tau) | (AUTOCORR_TOL * tau > draws)):
        record.note(f"emcee: the chains are shorter than {AUTOCORR_TOL} times the integrated autocorrelation time "
                    f"(tau up to {np.nanmax(tau):.1f} steps, {draws} draws): the estimate of tau is unreliable; run longer")
    return build_inference_data(
        problem, samples, sample_stats={"lp": lp}, log_likelihood=log_likelihood,
        attrs={"acceptance_rate": float(np.mean(sampler.acceptance_fraction)), "autocorr_time": np.asarray(tau, float),
               "tune": tune, **pool_attrs},
    )


class PooledLogDensity:
    """A vectorised log density that evaluates its batch on a pool's workers, one chunk per worker.

    The function is pickled once, here; tasks carry a key and the chunk, and the function itself only to a worker
    that answers that it does not have it yet (see the module docstring).

    Parameters
    ----------
    function
        ``(n, ndim) -> (n,)``; must be picklable (cloudpickle is tried when plain pickle fails).
    pool
        Anything with ``map(function, iterable)`` returning results in order.
    """

    def __init__(self, function, pool) -> None:
        self.pool = pool
        self.key = uuid.uuid4().hex
        self.payload = _dumps(function)
        self.n_evaluations = 0
        self.payload_sends = 0

    def __call__(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, float)
        chunks = [z[index] for index in split(len(z), self.pool)]
        results = list(self.pool.map(evaluate_chunk, [(self.key, None, c) for c in chunks]))
        missing = [i for i, r in enumerate(results) if r is None]
        if missing:  # those workers have not seen this function yet: send it with their chunks, once
            self.payload_sends += len(missing)
            again = list(self.pool.map(evaluate_chunk, [(self.key, self.payload, chunks[i]) for i in missing]))
            for i, r in zip(missing, again):
                results[i] = r
        self.n_evaluations += len(z)
        return np.concatenate(results) if results else np.empty(0)


#: In each worker process: the function of the run being served, under its key (one run at a time).
_WORKER_FUNCTIONS: dict = {}


def evaluate_chunk(task: tuple) -> np.ndarray | None:
    """Run on a pool worker: ``(key, payload or None, points) -> log densities``, or None when the worker does not
    hold the function under ``key`` and the task did not bring it."""
    key, payload, points = task
    function = _WORKER_FUNCTIONS.get(key)
    if function is None:
        if payload is None:
            return None
        _WORKER_FUNCTIONS.clear()  # a new run: drop the previous one's Problem
        function = _WORKER_FUNCTIONS[key] = pickle.loads(payload)
    with single_process():  # a worker's work stays on its process (see bayeskit.engines.parallel)
        return np.asarray(function(points), float)


def _dumps(function) -> bytes:
    """``function`` pickled, by the standard library or, when that fails (a PyMC model), by cloudpickle."""
    try:
        return pickle.dumps(function)
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        try:
            import cloudpickle
        except ImportError:
            raise TypeError(f"emcee's pool needs a picklable Problem ({exc}); define the likelihood at module level, "
                            "or install cloudpickle") from exc
        return cloudpickle.dumps(function)


def _autocorr_time(sampler, tune: int) -> np.ndarray:
    """emcee's integrated autocorrelation time per parameter, without emcee's own log line when the chain is
    short: the caller records that caveat once, in ``attrs["warnings"]``. It concerns only
    ``attrs["autocorr_time"]``; the ESS and R-hat of the result are ArviZ's, computed from the draws."""
    import logging

    logger = logging.getLogger("emcee.autocorr")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return sampler.get_autocorr_time(discard=tune, quiet=True)
    finally:
        logger.setLevel(level)
