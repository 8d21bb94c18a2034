"""Runs that tests/test_mpi.py starts under ``mpiexec -n 2`` (and once in a single process, for comparison).

Usage: ``python tests/_mpi_runs.py MODE OUT.json``, MODE one of ultranest, emcee, ultranest_in_worker,
ultranest_rank_dependent. Every rank runs the script, as a user's script
would; the ranks' results are gathered on rank 0, which alone writes ``OUT.json``.
"""

from __future__ import annotations

import hashlib
import json
import sys

import numpy as np
from scipy import special, stats

import bayeskit as bk
from bayeskit.engines.parallel import mpi_world

S, HALF = 0.5, 5.0  # likelihood N(0, S^2 I) in 2-D under a uniform prior on [-HALF, HALF]^2 (as tests/test_nested.py)
EXACT_LOG_Z = 2 * np.log(special.erf(HALF / (S * np.sqrt(2)))) - 2 * np.log(2 * HALF)


def gaussian_log_likelihood(p):
    """Module level, so that it pickles by reference: a pool's workers import it rather than receive it."""
    x = np.stack([p["a"], p["b"]], axis=-1)
    return -0.5 * (x**2).sum(axis=-1) / S**2 - np.log(2 * np.pi * S**2)


def problem() -> bk.Problem:
    box = stats.uniform(-HALF, 2 * HALF)
    return bk.Problem({"a": box, "b": box}, gaussian_log_likelihood, name="gaussian in a box")


def digest(idata) -> str:
    """A fingerprint of everything a rank returned: posterior values and run facts."""
    h = hashlib.sha256()
    for name in sorted(idata.posterior.data_vars):
        h.update(np.ascontiguousarray(idata.posterior[name].values).tobytes())
    h.update(repr(sorted((k, repr(v)) for k, v in idata.attrs.items())).encode())
    return h.hexdigest()


def run_ultranest() -> tuple[dict, object]:
    idata = bk.sample(problem(), "ultranest", seed=3, progressbar=False, min_num_live_points=400)
    a = idata.attrs
    return {"log_z": a["log_evidence"], "log_z_err": a["log_evidence_err"], "ncall": a["ncall"],
            "n_evaluations": a["n_evaluations"], "mpi_ranks": a["mpi_ranks"], "exact": EXACT_LOG_Z}, idata


def run_emcee() -> tuple[dict, object]:
    from mpi4py import MPI
    from mpi4py.futures import MPICommExecutor

    p = problem()
    out = {}
    with MPICommExecutor(MPI.COMM_WORLD, root=0) as pool:
        if pool is not None:  # rank 0 drives emcee; the other ranks serve the pool until the block ends
            pooled = bk.sample(p, "emcee", draws=300, chains=8, seed=11, progressbar=False, pool=pool)
            serial = bk.sample(p, "emcee", draws=300, chains=8, seed=11, progressbar=False)
            out = {"identical": all(np.array_equal(pooled.posterior[n].values, serial.posterior[n].values)
                                    for n in ("a", "b")),
                   "n_evaluations": pooled.attrs["n_evaluations"], "serial_n_evaluations": serial.attrs["n_evaluations"],
                   "payload_sends": pooled.attrs["pool_payload_sends"], "pool_workers": pooled.attrs["pool_workers"]}
    return out, None


def run_ultranest_rank_dependent() -> tuple[dict, object]:
    """A user's mistake: data that differ between ranks (here an offset by the rank). Must raise on every rank."""
    offset = float(mpi_world().Get_rank())

    def shifted(p):
        return gaussian_log_likelihood(p) + offset

    box = stats.uniform(-HALF, 2 * HALF)
    bk.sample(bk.Problem({"a": box, "b": box}, shifted), "ultranest", seed=3, progressbar=False,
              min_num_live_points=100)
    return {}, None


UNDER_POOL_LIVE = 100  # a short run: the test is about where the run happens, not its accuracy


def ultranest_on_this_process(seed: int) -> dict:
    """An UltraNest fit as a pool task would run it: on its own process, whatever MPI world it is part of."""
    from bayeskit.engines.parallel import single_process

    with single_process():
        idata = bk.sample(problem(), "ultranest", seed=seed, progressbar=False, min_num_live_points=UNDER_POOL_LIVE)
    a = idata.attrs
    return {"log_z": a["log_evidence"], "ncall": a["ncall"], "n_evaluations": a["n_evaluations"],
            "mpi_ranks": a["mpi_ranks"]}


def run_ultranest_in_worker() -> tuple[dict, object]:
    """UltraNest inside an MPI pool's worker (rank 1 of COMM_WORLD, while rank 0 waits for the task's result)."""
    from mpi4py import MPI
    from mpi4py.futures import MPICommExecutor

    out = {}
    with MPICommExecutor(MPI.COMM_WORLD, root=0) as pool:
        if pool is not None:
            out = {"worker": list(pool.map(ultranest_on_this_process, [5]))[0]}
    return out, None


def main() -> None:
    mode, path = sys.argv[1], sys.argv[2]
    comm = mpi_world()
    runs = {"ultranest": run_ultranest, "emcee": run_emcee, "ultranest_in_worker": run_ultranest_in_worker,
            "ultranest_rank_dependent": run_ultranest_rank_dependent}
    out, idata = runs[mode]()
    digests = [digest(idata)] if idata is not None else []
    if comm is not None and idata is not None:
        digests = comm.gather(digests[0], root=0)
    if comm is None or comm.Get_rank() == 0:
        out["digests"] = digests
        out["ranks"] = 1 if comm is None else comm.Get_size()
        with open(path, "w") as f:
            json.dump(out, f)
        print(f"{mode}: rank 0 wrote {path}")


if __name__ == "__main__":
    main()
