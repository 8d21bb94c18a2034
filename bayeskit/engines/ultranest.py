"""Engine ``"ultranest"``: nested sampling with UltraNest's ReactiveNestedSampler (Buchner 2021).

Gives the log-evidence ``log Z`` and its error (in ``attrs``) and the posterior as equally weighted
samples (one chain). Likelihood and prior transform are called vectorised. UltraNest draws from
NumPy's global random state: this adapter seeds it with ``np.random.seed(seed)`` (an int seed; a Generator
gives one). It writes no files unless ``log_dir`` is given (then UltraNest's usual folder of results, plots and logs).

Draws: nested sampling ends with weighted points (each dead point weighted by its likelihood times the prior
volume it stands for). ``draws=None`` keeps UltraNest's own equally weighted samples (its systematic
resampling of those points, as many as there are points); ``draws=n`` resamples ``n`` equally weighted draws
from the weighted points, by systematic resampling with ``np.random.default_rng(seed)``, in random order.
Either way the draws repeat points, so ``attrs["ess"]`` gives their effective sample size, which
:func:`bayeskit.compare` uses: Kish's ESS of the weights, ``(sum w)^2 / sum w^2`` (``attrs["ess_kish"]``), and
for ``draws=n`` the smaller ``1 / (1/ess_kish + 1/n)``, as resampling ``n`` draws adds up to the variance of
``n`` independent draws to that of the weighted estimate.

MPI: a script that calls ``bk.sample(problem, "ultranest", ...)`` runs unchanged under ``mpiexec -n N python
script.py`` once mpi4py is installed (``pip install "bayeskit[mpi]"``). UltraNest then spreads the likelihood calls
over the ranks itself: whenever its queue of candidate points runs out, every rank draws its own batch inside the
current region and evaluates it, and the ranks exchange their batches, so all hold the same queue and the same live
points (UltraNest reseeds ranks above 0 from rank 0's seed). A run on ``n`` ranks with ``region_batch=b`` is thus
statistically a one-process run with ``region_batch=n * b``, not the same random run. This adapter makes the result
the same on every rank: rank 0's UltraNest result is broadcast (UltraNest combines log Z, its error and the
bootstrapped weights over the ranks, but its equally weighted samples and its insertion-order test draw from each
rank's own random state, so they would differ), ``attrs["n_evaluations"]`` is the sum of every rank's calls,
``attrs["wall_time_s"]`` the slowest rank's, ``attrs["mpi_ranks"]`` the number of ranks. Only rank 0 writes
``log_dir`` and shows progress (UltraNest's own rule); a script should print only where
:func:`bayeskit.engines.parallel.is_root` is True.

Every rank must build the same Problem (seed any simulated data; read the same files): the ranks pool their
likelihood values, so a rank-dependent likelihood would mix several targets without any error. Before sampling,
every rank evaluates its likelihood at the same few prior points and the run stops with a ``RuntimeError`` when the
values differ between ranks. Inside a pool's worker (:func:`bayeskit.engines.parallel.single_process`, which
bayeskit's calibration and emcee workers use) the run stays on its process: UltraNest gets ``MPI.COMM_SELF``.

References
----------
Skilling, J. (2006). Nested sampling for general Bayesian computation. Bayesian Analysis 1, 833-859.
Buchner, J. (2021). UltraNest - a robust, general purpose Bayesian inference engine. JOSS 6, 3001.
Kish, L. (1965). Survey Sampling. Wiley. (the effective sample size of weighted samples)
"""

from __future__ import annotations

import logging

import numpy as np

from bayeskit.engines.parallel import broadcast_from_root, in_single_process, mpi_world
from bayeskit.results import build_inference_data


def run(problem, record, *, draws, chains, seed, progressbar, min_num_live_points, log_dir, vectorized, slice_steps,
        log_likelihood=None,
        region_batch, **run_kwargs):
    """Run ``ReactiveNestedSampler``; called by :func:`bayeskit.sample`. Options: ``min_num_live_points`` (default 400),
    ``log_dir`` (keep UltraNest's files there), ``vectorized`` (default True; False calls the likelihood one point at
    a time, for comparison), ``slice_steps``: use UltraNest's vectorised population slice sampler with that many steps
    instead of region (rejection) sampling; ``"auto"`` does so with ``4 * ndim`` steps when ``ndim > 5``, where region
    sampling becomes inefficient; ``None`` never. Too few steps bias the result: double them and check that log Z
    does not move. ``region_batch`` (default 128): region sampling draws this many candidates at a time and evaluates
    those inside the region's transformed ellipsoid in one vectorised call. The batch is fixed, so the same seed gives
    the same numbers. ``None`` lets UltraNest grow it (up to 65536) when region sampling is inefficient; UltraNest
    adapts it only when its status timer fires (every 0.1 s of wall time), so the draws then depend on the machine's
    speed. Other ``ReactiveNestedSampler.run`` keywords (e.g. ``dlogz``, ``frac_remain``) are passed on."""
    import ultranest
    import ultranest.popstepsampler

    if seed is not None:  # UltraNest draws from NumPy's global state
        np.random.seed(seed)
    labels = problem.layout.labels

    if vectorized:
        ndim = problem.ndim

        def loglike(x):
            # UltraNest passes only points of the transform below (or rows of them): the Problem's fast path
            # skips the support mask it would compute from the prior terms (see its docstring for what it checks).
            # UltraNest wants finite numbers: a point outside the support gets -1e300
            return np.maximum(problem._log_likelihood_from_transform(x), -1e300)

        def transform(u):
            # UltraNest's own draws; checked here with two comparisons (which NaN fails), anything else gets
            # prior_transform's checks and errors
            if (isinstance(u, np.ndarray) and u.dtype == np.float64 and u.ndim == 2 and u.shape[1] == ndim
                    and (u >= 0).all() and (u <= 1).all()):
                return problem._transform_checked_unit(u)
            return problem.prior_transform(u)
    else:
        def loglike(x):
            return max(float(problem.log_likelihood(x[None, :])[0]), -1e300)

        def transform(u):
            return problem.prior_transform(u[None, :])[0]

    comm = mpi_world()  # None unless this is one of several MPI ranks: then UltraNest uses them all
    root = comm is None or comm.Get_rank() == 0
    if comm is not None:
        check_same_problem(problem, comm)
    with record.measure(comm=comm):
        sampler = ultranest.ReactiveNestedSampler(
            labels, loglike, transform, log_dir=log_dir, resume="overwrite", vectorized=vectorized,
            draw_multiple=True, **({} if region_batch is None else {"ndraw_min": int(region_batch), "ndraw_max": int(region_batch)}),
            **({"comm": _comm_self()} if in_single_process() else {}),
        )
        if bool(getattr(sampler, "use_mpi", False)) != (comm is not None):  # never a silently per-rank result
            raise RuntimeError(
                f"UltraNest {'uses' if comm is None else 'does not use'} MPI but bayeskit "
                f"{'did not detect' if comm is None else 'detected'} several MPI ranks (it looks for the launcher's "
                "variables PMI_SIZE, OMPI_COMM_WORLD_SIZE, PMIX_RANK or MPI_LOCALNRANKS); start the script with "
                "mpiexec, or run it without MPI")
        _quiet_stream_handlers(progressbar)
        if slice_steps == "auto":
            slice_steps = 4 * problem.ndim if problem.ndim > 5 else None
        if slice_steps is not None:
            sampler.stepsampler = ultranest.popstepsampler.PopulationSliceSampler(
                popsize=100, nsteps=int(slice_steps),
                generate_direction=ultranest.popstepsampler.generate_region_oriented_direction,
            )
        result = sampler.run(show_status=progressbar and root, viz_callback=False,
                             min_num_live_points=min_num_live_points, **run_kwargs)
        del sampler
    result = broadcast_from_root(result, comm)  # every rank builds the same InferenceData from rank 0's result
    weighted = result["weighted_samples"]
    weights = np.asarray(weighted["weights"], float)
    kish = float(weights.sum() ** 2 / (weights**2).sum())  # Kish's ESS of the importance weights
    equal = np.asarray(result["samples"], float)
    if draws is None:
        samples, ess = equal, kish
    else:
        samples = resample_equal(np.asarray(weighted["points"], float), weights, draws, np.random.default_rng(seed))
        ess = 1.0 / (1.0 / kish + 1.0 / draws)
    mcse_mean, mcse_sd = _bootstrap_mcse(weighted)
    return build_inference_data(
        problem, samples[None, :, :], log_likelihood=log_likelihood,
        attrs={
            "log_evidence": float(result["logz"]), "log_evidence_err": float(result["logzerr"]),
            "ncall": int(result["ncall"]), "ess": ess, "ess_kish": kish, "n_weighted": int(len(weights)),
            "n_equal_weighted": int(len(equal)), "mcse_mean": mcse_mean, "mcse_sd": mcse_sd,
            "mcse_labels": problem.layout.labels,
            "min_num_live_points": int(min_num_live_points), "slice_steps": slice_steps or 0,
            "region_batch": "adaptive" if region_batch is None else int(region_batch),
            "mpi_ranks": 1 if comm is None else int(comm.Get_size()),
        },
    )


def check_same_problem(problem, comm, n_points: int = 4) -> None:
    """Raise unless every MPI rank's ``problem`` gives the same log-likelihood at the same prior points.

    The points are ``problem.prior_transform`` of uniforms from ``np.random.default_rng(0)`` (NumPy's global state,
    which UltraNest uses, is left alone); the evaluations are not counted in ``problem.n_evaluations``. Values must
    agree to a relative 1e-9 (ranks on different machines may round differently; rank-dependent data differ by far
    more).

    Parameters
    ----------
    problem
        This rank's :class:`bayeskit.Problem`.
    comm
        The mpi4py communicator of the run.
    n_points
        How many prior points to compare.

    Raises
    ------
    RuntimeError
        The ranks' likelihoods differ: the ranks built different Problems.
    """
    u = np.random.default_rng(0).uniform(size=(n_points, problem.ndim))
    count = problem.n_evaluations
    values = np.asarray(problem.log_likelihood(problem.prior_transform(u)), float)
    problem.n_evaluations = count
    every = comm.allgather(values)
    differing = [rank for rank, v in enumerate(every)
                 if not np.allclose(v, every[0], rtol=1e-9, atol=0.0, equal_nan=True)]
    if differing:
        raise RuntimeError(
            f"the MPI ranks built different Problems: at the same prior points, rank(s) {differing} give other "
            f"log-likelihood values than rank 0 ({every[0].tolist()} on rank 0, {every[differing[0]].tolist()} on rank "
            f"{differing[0]}). Every rank runs the whole script, so everything the Problem depends on must be the same "
            "on every rank: seed any simulated data (e.g. np.random.default_rng(42)), read the same files, and do not "
            "make it depend on the rank")


def _comm_self():
    """``MPI.COMM_SELF`` when mpi4py is installed (UltraNest would otherwise take ``COMM_WORLD``), else None."""
    try:
        from mpi4py import MPI
    except ImportError:
        return None
    return MPI.COMM_SELF


def resample_equal(points: np.ndarray, weights: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` equally weighted draws from weighted ``points`` by systematic resampling, in random order.

    One uniform offset places ``n`` evenly spaced positions on the cumulative weights, so point ``i`` is drawn
    ``floor(n w_i)`` or ``ceil(n w_i)`` times (less noisy than ``n`` independent draws); the result is shuffled so
    that its order (nested sampling's points are sorted by likelihood) carries no information.
    """
    cumulative = np.cumsum(weights / weights.sum())
    positions = (rng.uniform() + np.arange(n)) / n
    index = np.minimum(np.searchsorted(cumulative, positions, side="right"), len(points) - 1)
    return points[rng.permutation(index)]


def _bootstrap_mcse(weighted: dict) -> tuple[list[float], list[float]]:
    """Monte Carlo errors of the posterior mean and sd of each coordinate, from UltraNest's bootstrapped
    weights (its runs resampled, which redraws the shrinking volumes too). Nested-sampling estimates vary
    more than Kish's ESS says, because the volumes assigned to the points are themselves random."""
    points = np.asarray(weighted["points"], float)
    boot = np.asarray(weighted["bootstrapped_weights"], float)  # (n_points, n_bootstraps)
    boot = boot / boot.sum(axis=0, keepdims=True)
    means = boot.T @ points  # (n_bootstraps, ndim)
    sds = np.sqrt(np.maximum(boot.T @ points**2 - means**2, 0.0))
    return means.std(axis=0, ddof=1).tolist(), sds.std(axis=0, ddof=1).tolist()


def _quiet_stream_handlers(progressbar: bool) -> None:
    """UltraNest logs progress to stdout through its own handler; silence it unless progress is wanted."""
    for handler in logging.getLogger("ultranest").handlers:
        if not isinstance(handler, logging.FileHandler):
            handler.setLevel(logging.INFO if progressbar else logging.WARNING)
