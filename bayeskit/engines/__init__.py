"""Run one :class:`~bayeskit.Problem` on any engine; every engine returns ``arviz.InferenceData``.

Each engine declares itself in :mod:`bayeskit.engines.registry` (what it accepts, its options), and has
one module here with a function ``run(problem, record, draws, chains, seed, progressbar, **options)``.
:func:`sample` checks a call against the declaration, so bad input is refused the same way on every
engine, and :class:`~bayeskit.engines.record.RunRecord` writes the same run facts on every result.
All results have the same variable names and dims ``(chain, draw, ...)``; ``idata.attrs`` holds
``engine``, ``seed``, ``wall_time_s``, ``n_evaluations`` (an int, or None where unknown), ``warnings``
(a list of strings), and each engine's own facts (e.g. ``log_evidence`` for nested sampling).
Engines run with one BLAS thread (see :func:`one_blas_thread`), so a sampler never takes cores it was
not given.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

from bayeskit._checks import SeedLike
from bayeskit.engines.record import ConvergenceWarning, RunRecord
from bayeskit.engines.registry import ENGINES, Engine, Option, get_engine
from bayeskit.problem import Problem

if TYPE_CHECKING:  # imported where used, so that importing bayeskit stays light
    import arviz as az

__all__ = ["ENGINES", "ConvergenceWarning", "Engine", "Option", "sample"]


def sample(
    problem: Problem,
    engine: str = "metropolis",
    draws: int | None = None,
    chains: int | None = None,
    seed: SeedLike = None,
    progressbar: bool = True,
    **engine_options,
) -> az.InferenceData:
    """Sample ``problem``'s posterior with ``engine``.

    Parameters
    ----------
    problem
        The model, as a :class:`~bayeskit.Problem`.
    engine
        ``"metropolis"`` (from scratch), ``"emcee"``, ``"pymc"`` (NUTS, or a compound step with
        discrete variables), ``"ultranest"`` (nested sampling, gives the log-evidence), ``"advi"`` or
        ``"fullrank_advi"`` (variational), ``"hmc"`` or ``"nuts"`` (from scratch, on the unconstrained space;
        need a gradient, so a Problem built with ``Problem.from_pymc``). ``ENGINES[name].describe()`` lists an engine's options.
    draws
        Draws per chain; None: the engine's default, 1000 (for ADVI: 1000 draws from the fitted
        approximation). For ultranest, None keeps all of UltraNest's equally weighted samples, and an int
        resamples that many equally weighted draws from its weighted samples, with the seeded generator.
    chains
        Chains (emcee: walkers). Default depends on the engine; ultranest and ADVI have exactly one.
    seed
        None, a non-negative int, a ``numpy.random.SeedSequence`` or a ``numpy.random.Generator``; the
        same seed gives the same numbers. Engines whose library takes only an int seed (pymc, ADVI,
        ultranest) draw one from a Generator.
    progressbar
        Show the engine's progress display.
    **engine_options
        The engine's options (e.g. ``tune`` for metropolis/emcee/pymc, ``n`` iterations for ADVI,
        ``min_num_live_points`` for ultranest), as declared in :mod:`bayeskit.engines.registry`.

    Returns
    -------
    arviz.InferenceData
        Posterior draws with dims ``(chain, draw, ...)``, and the run facts in ``attrs``.

    Raises
    ------
    TypeError
        ``problem`` is not a Problem; ``seed``, ``draws``, ``chains`` or an option value has the wrong type.
    ValueError
        Unknown engine or option (with the valid ones and a suggestion); ``draws``/``chains`` not positive;
        negative ``tune``; a model the engine cannot run (discrete parameters, minibatches, no PyMC model).
    """
    spec = get_engine(engine)
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a bayeskit.Problem, got {type(problem).__name__}")
    if not isinstance(progressbar, bool):
        raise TypeError(f"progressbar must be True or False, got {progressbar!r}")
    arguments = spec.prepare(problem, draws, chains, seed, engine_options)
    run = spec.load()
    record = RunRecord(problem, spec.name, seed)
    with one_blas_thread():
        idata = run(problem, record, progressbar=progressbar, **arguments)
    return record.finish(idata)


@contextmanager
def one_blas_thread():
    """Run an engine with one BLAS thread in this process.

    The engines evaluate small batches (chains x parameters), where BLAS threads only add start-up costs,
    and on a busy machine they oversubscribe the cores: a batched triangular solve ran 3x slower with
    OpenBLAS's default threads than with one, and 15x slower beside two busy processes. Engines that use
    several cores do it with processes (PyMC's chains), not with BLAS threads.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield
