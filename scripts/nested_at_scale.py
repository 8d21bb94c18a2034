"""Nested sampling on several processes: the same script runs on 1 process or under ``mpiexec``.

    python scripts/nested_at_scale.py                      # one process
    mpiexec -n 4 python scripts/nested_at_scale.py         # four MPI ranks (pip install "bayeskit[mpi]")

Every rank runs this whole script. ``bk.sample(problem, "ultranest", ...)`` notices the MPI ranks (through
UltraNest, once mpi4py is installed) and spreads the likelihood calls over them; every rank gets the same
InferenceData back, with the evaluation count summed over the ranks. Only rank 0 prints and writes files
(:func:`bayeskit.engines.parallel.is_root`), or each line would appear once per rank.

The model is notebook 05's two Gaussian shells (:func:`bayeskit.models.benchmarks.gaussian_shells`), whose log-evidence
is known; ``--ms`` adds a CPU-bound "simulator" cost per likelihood point, the situation in which MPI pays (see
``benchmarks/mpi_speedup.py`` for the measured speed-up).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from scipy import stats

import bayeskit as bk
from bayeskit.engines.parallel import is_root, mpi_world
from bayeskit.models.benchmarks import SHELL_BOX, gaussian_shells, gaussian_shells_log_evidence


def main() -> None:
    parser = argparse.ArgumentParser(description="UltraNest through bk.sample, on one process or under mpiexec")
    parser.add_argument("--dims", type=int, default=2, help="dimensions of the Gaussian shells")
    parser.add_argument("--live", type=int, default=400, help="UltraNest's min_num_live_points")
    parser.add_argument("--ms", type=float, default=0.0, help="extra CPU time per likelihood point, milliseconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", help="rank 0 writes the results here as JSON")
    args = parser.parse_args()

    problem = gaussian_shells(args.dims)
    if args.ms > 0:  # an expensive likelihood: the shells' own, plus busy work (CPU time, not sleep) per point
        shells = problem

        def expensive(p):
            x = p["x"].reshape(len(p["x"]), args.dims)
            for _ in range(len(x)):
                end = time.process_time() + args.ms * 1e-3
                while time.process_time() < end:
                    pass
            return shells.log_likelihood(x)

        box = stats.uniform(-SHELL_BOX, 2 * SHELL_BOX)
        problem = bk.Problem({"x": (box, args.dims)}, expensive, name="expensive shells")

    idata = bk.sample(problem, "ultranest", seed=args.seed, progressbar=False, min_num_live_points=args.live)

    if is_root():  # rank 0 only: every rank holds the same idata
        a = idata.attrs
        comm = mpi_world()
        result = {"ranks": 1 if comm is None else comm.Get_size(), "dims": args.dims, "live": args.live,
                  "log_z": a["log_evidence"], "log_z_err": a["log_evidence_err"],
                  "exact_log_z": float(gaussian_shells_log_evidence(args.dims)),
                  "n_evaluations": a["n_evaluations"], "ultranest_ncall": a["ncall"], "wall_time_s": a["wall_time_s"],
                  "posterior_mean_x0": float(np.mean(idata.posterior["x"].values[..., 0]))}
        print(f"{result['ranks']} rank(s): log Z = {result['log_z']:.3f} +- {result['log_z_err']:.3f} "
              f"(exact {result['exact_log_z']:.3f}), {result['n_evaluations']} likelihood evaluations over all ranks, "
              f"{result['wall_time_s']:.1f} s")
        if args.out:
            with open(args.out, "w") as f:
                json.dump(result, f)


if __name__ == "__main__":
    main()
