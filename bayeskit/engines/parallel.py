"""Running on several processes: the MPI world, pools and executors, shared by the engines and calibration.

Two ways to use more than one core, both the field's conventions rather than bayeskit's own machinery:

* **MPI, the script runs on every rank** (``mpiexec -n 4 python script.py``): UltraNest distributes its
  likelihood calls over ``MPI.COMM_WORLD`` by itself once mpi4py is installed. :func:`mpi_world` finds that
  communicator (None outside ``mpiexec`` or without mpi4py), :func:`broadcast_from_root` gives every rank rank 0's
  result, and :func:`is_root` says which rank may write files or print.
* **A pool or executor** (anything with ``map(function, iterable)``: ``multiprocessing.Pool``, schwimmbad's
  pools, ``concurrent.futures`` executors, ``mpi4py.futures.MPIPoolExecutor`` / ``MPICommExecutor``): emcee's
  walkers and calibration's fits are split into one chunk per worker (:func:`pool_size`, :func:`split`).

The two must not be nested: a fit that runs inside a pool's worker (a calibration fit with ``engine="ultranest"``,
say) must not join ``MPI.COMM_WORLD``'s collectives, because the other ranks are busy with other tasks (under
``mpi4py.futures`` every worker, and the driver, is a rank of ``COMM_WORLD``): it would hang, or pair its messages
with an unrelated fit's. bayeskit's own worker functions therefore run inside :func:`single_process`, under which
:func:`mpi_world` is None and UltraNest is given ``MPI.COMM_SELF``; a user's own worker function that calls
``bk.sample(..., "ultranest")`` should do the same.

mpi4py is imported only when a run asks for the MPI world, so ``import bayeskit`` does not start MPI.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

__all__ = ["broadcast_from_root", "in_single_process", "is_root", "mpi_world", "pool_size", "single_process", "split"]

#: Environment variables that MPI launchers set in the processes they start (MPICH/Hydra, Open MPI, Slurm's PMI).
_LAUNCHER_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS")

#: Depth of nested :func:`single_process` blocks in this process (0: runs may use the MPI world).
_single_process_depth = 0


@contextmanager
def single_process() -> Iterator[None]:
    """A block whose runs stay on this process, even under ``mpiexec``: for work done inside a pool's worker.

    Inside it :func:`mpi_world` returns None, and ``bk.sample(..., "ultranest")`` gives UltraNest
    ``MPI.COMM_SELF`` instead of letting it take ``MPI.COMM_WORLD``. bayeskit's own worker functions (emcee's
    pool tasks, calibration's chunks of fits) run inside it; wrap a worker function of your own that samples
    with UltraNest in it too, e.g. ``with single_process(): idata = bk.sample(problem, "ultranest")``.
    """
    global _single_process_depth
    _single_process_depth += 1
    try:
        yield
    finally:
        _single_process_depth -= 1


def in_single_process() -> bool:
    """True inside a :func:`single_process` block."""
    return _single_process_depth > 0


def mpi_world():
    """``mpi4py.MPI.COMM_WORLD`` when this process is one of several MPI ranks, else None.

    The same rule as UltraNest's (mpi4py importable and more than one rank), so that bayeskit and UltraNest agree
    on whether a run is distributed. Outside an MPI launcher, mpi4py is not imported at all. Inside a
    :func:`single_process` block (a pool's worker), None.

    Returns
    -------
    mpi4py.MPI.Comm or None
    """
    if _single_process_depth or not any(name in os.environ for name in _LAUNCHER_VARIABLES):
        return None
    try:
        from mpi4py import MPI
    except ImportError:
        return None
    comm = MPI.COMM_WORLD
    return comm if comm.Get_size() > 1 else None


def is_root() -> bool:
    """True on MPI rank 0 and in a process not started by ``mpiexec``: the process that may write files or print."""
    comm = mpi_world()
    return comm is None or comm.Get_rank() == 0


def broadcast_from_root(value: Any, comm) -> Any:
    """Rank 0's ``value`` on every rank (``value`` itself when ``comm`` is None).

    Parameters
    ----------
    value
        Any picklable object; only rank 0's is used.
    comm
        An mpi4py communicator, or None.
    """
    if comm is None:
        return value
    return comm.bcast(value if comm.Get_rank() == 0 else None, root=0)


def pool_size(pool) -> int | None:
    """The number of workers of ``pool``, read from the attribute each library uses; None when it does not say.

    ``num_workers`` (mpi4py.futures), ``size`` (schwimmbad), ``_max_workers`` (concurrent.futures),
    ``_processes`` (multiprocessing.Pool).
    """
    for name in ("num_workers", "size", "_max_workers", "_processes"):
        value = getattr(pool, name, None)
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0:
            return int(value)
    return None


def split(n: int, pool) -> list[np.ndarray]:
    """Indices ``0..n-1`` in contiguous chunks, one per worker of ``pool`` (one per item when its size is unknown).

    One task per worker sends each worker its share in one message; a worker that holds a compiled model or the
    data from an earlier task then needs nothing else.
    """
    workers = pool_size(pool) or n
    return [chunk for chunk in np.array_split(np.arange(n), min(max(workers, 1), max(n, 1))) if len(chunk)]


def check_pool(name: str, value):
    """A pool or executor for ``bk.sample``/``interval_coverage``: anything with a callable ``map``."""
    if not callable(getattr(value, "map", None)):
        raise TypeError(f"{name} must be a pool or executor with a map(function, iterable) method (multiprocessing.Pool, "
                        f"a concurrent.futures executor, mpi4py.futures.MPIPoolExecutor, a schwimmbad pool), "
                        f"got {type(value).__name__}")
    return value
