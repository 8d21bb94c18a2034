"""The run record every engine shares: timing, evaluation counts, seed and warnings, written to ``idata.attrs``.

:func:`bayeskit.sample` opens a :class:`RunRecord` before it calls an engine and closes it on the engine's
result, so every result has the same run facts, built in one place:

``engine``
    The engine's name.
``seed``
    The int seed, ``"generator"`` (a Generator or SeedSequence was given) or ``"none"``.
``wall_time_s``
    Seconds spent sampling: the engine's :meth:`RunRecord.measure` section if it marks one (e.g. emcee
    excludes its start-point checks), else the whole engine call.
``n_evaluations``
    Log-density (or gradient) evaluations: an int, or None where the engine cannot know it (never -1). Under
    MPI (UltraNest under ``mpiexec``) the sum over the ranks; with a pool (emcee's ``pool``) the points sent
    to the workers.
``warnings``
    The warnings the engine raised about this run (convergence, divergences), as strings; possibly empty.
"""

from __future__ import annotations

import os
import time
import warnings
from contextlib import contextmanager
from typing import Any

from bayeskit._checks import seed_for_attrs

__all__ = ["ConvergenceWarning", "RunRecord"]

COMMON_ATTRS = ("engine", "seed", "wall_time_s", "n_evaluations", "warnings")


@contextmanager
def pymc_progress_logs(shown: bool):
    """PyMC reports progress ("Initializing NUTS...", "Sequential sampling...") on its logger at info level;
    without a progress bar they are hidden too. Warnings (divergences, R-hat) still pass."""
    import logging

    logger = logging.getLogger("pymc")
    level = logger.level
    if not shown:
        logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


class ConvergenceWarning(UserWarning):
    """A run that has not converged (e.g. ADVI still moving): its numbers are unreliable."""


class RunRecord:
    """Run facts of one engine call, collected while it runs.

    Parameters
    ----------
    problem
        The Problem sampled (its ``n_evaluations`` counter gives the evaluation count).
    engine
        The engine's name.
    seed
        The seed as the user gave it (recorded by :func:`~bayeskit._checks.seed_for_attrs`).
    """

    def __init__(self, problem, engine: str, seed) -> None:
        self.engine = engine
        self.seed = seed_for_attrs(seed)
        self.warnings: list[str] = []
        self.n_evaluations: int | None = None
        self.wall_time_s: float | None = None
        self._problem = problem
        self._evaluations_set = False
        self._started = time.perf_counter()
        self._evaluations_before = problem.n_evaluations

    @contextmanager
    def measure(self, comm=None):
        """Time the sampling itself and count the Problem's evaluations inside this block only.

        Parameters
        ----------
        comm
            An mpi4py communicator when the block runs on several MPI ranks (e.g. UltraNest under ``mpiexec``):
            each rank counts only its own calls to its copy of the Problem, so the counts are summed over the
            ranks, and the wall time is the slowest rank's; every rank then records the same facts. None: this
            process only.
        """
        before, started = self._problem.n_evaluations, time.perf_counter()
        yield
        wall, evaluations = time.perf_counter() - started, self._problem.n_evaluations - before
        if comm is not None:
            from mpi4py import MPI

            wall, evaluations = comm.allreduce(wall, op=MPI.MAX), comm.allreduce(evaluations, op=MPI.SUM)
        self.wall_time_s = wall
        self.set_evaluations(evaluations)

    def set_evaluations(self, n: int | None) -> None:
        """Evaluations counted by the engine itself (e.g. NUTS's leapfrog steps); None where unknown."""
        if n is not None and (isinstance(n, bool) or int(n) != n or n < 0):
            raise ValueError(f"n_evaluations must be a non-negative integer or None, got {n!r}")
        self.n_evaluations = None if n is None else int(n)
        self._evaluations_set = True

    def warn(self, message: str, category: type[Warning] = UserWarning) -> None:
        """Emit ``message`` as a Python warning pointing at the user's call, and record it."""
        warnings.warn(message, category, stacklevel=_caller_stacklevel())
        self.warnings.append(message)

    def note(self, message: str) -> None:
        """Record a warning already shown another way (e.g. by PyMC's logger)."""
        self.warnings.append(message)

    def finish(self, idata, **extra: Any):
        """Write the run facts, then the engine's ``extra`` attrs, into ``idata.attrs``; return ``idata``."""
        wall = self.wall_time_s if self.wall_time_s is not None else time.perf_counter() - self._started
        if not self._evaluations_set:
            self.set_evaluations(self._problem.n_evaluations - self._evaluations_before)
        common = {"engine": self.engine, "seed": self.seed, "wall_time_s": float(wall),
                  "n_evaluations": self.n_evaluations, "warnings": list(self.warnings)}
        rest = {k: v for k, v in {**idata.attrs, **extra}.items() if k not in common}
        idata.attrs.clear()
        idata.attrs.update({**common, **rest})
        return idata


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _caller_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning point at the first frame outside bayeskit (the user's call)."""
    import sys

    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    return level
