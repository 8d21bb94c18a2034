"""Speed-up of UltraNest through ``bk.sample`` on 2 MPI ranks over 1, with an expensive likelihood (~2 ms per point).

The likelihood is a 2-D Gaussian plus a CPU-bound "simulator" per point (a loop of NumPy operations, calibrated at
start so that one point costs about ``--ms`` milliseconds on this machine), which is where MPI pays: the
likelihood calls are spread over the ranks, while UltraNest's own bookkeeping (region fits, sorting, the tree) is
repeated on every rank. The script starts ``mpiexec -n 1`` and ``mpiexec -n 2`` on itself, alternating, ``--repeats``
times, and prints the wall-time ratio (1 rank / 2 ranks) and the ratio of likelihood evaluations per second (the
runs make slightly different numbers of calls, as each rank draws its own candidates). The machine's load
average is printed beside them: with 2 cores shared by other processes, 2 ranks cannot get 2 cores.

    python benchmarks/mpi_speedup.py [--ms 2] [--repeats 3] [--live 200]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

S = 0.5  # the likelihood's width; uniform prior on [-5, 5]^2


def simulator_cost(theta: np.ndarray, steps: int) -> float:
    """CPU work standing for a simulator call: ``steps`` passes of a small NumPy recurrence; returns 0.0."""
    x = np.linspace(0.0, 1.0, 64) + theta[0]
    for _ in range(steps):
        x = np.sin(x) + 0.5
    return 0.0 * float(x[0])


def calibrate(ms: float) -> int:
    """Steps of :func:`simulator_cost` that take about ``ms`` milliseconds of CPU time (process time, which other
    processes on a busy machine do not inflate; the median of 5 timings)."""
    trial = 2000
    times = []
    for _ in range(5):
        t = time.process_time()
        simulator_cost(np.zeros(2), trial)
        times.append(time.process_time() - t)
    return max(1, round(trial * ms * 1e-3 / float(np.median(times))))


def worker(steps: int, live: int, out: str) -> None:
    """One run, on every rank of ``mpiexec``; rank 0 writes the run's facts."""
    from scipy import stats

    import bayeskit as bk
    from bayeskit.engines.parallel import is_root, mpi_world

    def log_likelihood(p):
        x = np.stack([p["a"], p["b"]], axis=-1)
        extra = np.array([simulator_cost(row, steps) for row in x])  # one "simulator call" per point
        return -0.5 * (x**2).sum(axis=-1) / S**2 - np.log(2 * np.pi * S**2) + extra

    box = stats.uniform(-5, 10)
    problem = bk.Problem({"a": box, "b": box}, log_likelihood)
    cpu = time.process_time()
    idata = bk.sample(problem, "ultranest", seed=1, progressbar=False, min_num_live_points=live)
    cpu = [time.process_time() - cpu]  # this rank's CPU seconds, its waits in MPI calls included (MPICH polls)
    comm = mpi_world()
    if comm is not None:
        cpu = comm.gather(cpu[0], root=0)
    if is_root():
        a = idata.attrs
        facts = {k: a[k] for k in ("wall_time_s", "n_evaluations", "ncall", "log_evidence", "log_evidence_err",
                                   "mpi_ranks")}
        Path(out).write_text(json.dumps({**facts, "cpu_s": cpu}))


def launch(ranks: int, steps: int, live: int) -> dict:
    mpiexec = Path(sys.executable).with_name("mpiexec")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "run.json")
        env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        subprocess.run([str(mpiexec) if mpiexec.exists() else "mpiexec", "-n", str(ranks), sys.executable, __file__,
                        "--worker", str(steps), str(live), out], check=True, env=env)
        return json.loads(Path(out).read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ms", type=float, default=2.0, help="target cost of one likelihood point, milliseconds")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--live", type=int, default=200, help="UltraNest's min_num_live_points")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(int(args.worker[0]), int(args.worker[1]), args.worker[2])
        return
    steps = calibrate(args.ms)
    t = time.process_time()
    simulator_cost(np.zeros(2), 10 * steps)
    point_s = (time.process_time() - t) / 10  # CPU seconds per likelihood point, measured again
    print(f"likelihood: 2-D Gaussian + {steps} simulator steps per point ({1e3 * point_s:.2f} ms of CPU per point); "
          f"UltraNest with {args.live} live points, seed 1")
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    rows = []
    for r in range(args.repeats):
        for ranks in (1, 2):
            res = launch(ranks, steps, args.live)
            res["rate"] = res["n_evaluations"] / res["wall_time_s"]
            rows.append(res)
            print(f"  repeat {r}, {ranks} rank(s): {res['wall_time_s']:6.1f} s, {res['n_evaluations']} evaluations "
                  f"({res['rate']:.0f}/s), log Z = {res['log_evidence']:.3f} +- {res['log_evidence_err']:.3f}, "
                  f"CPU s per rank: {', '.join(f'{c:.1f}' for c in res['cpu_s'])} "
                  f"(likelihood work: {res['n_evaluations'] * point_s:.1f} s in all)")
    one = [x for x in rows if x["mpi_ranks"] == 1]
    two = [x for x in rows if x["mpi_ranks"] == 2]
    wall = np.array([a["wall_time_s"] / b["wall_time_s"] for a, b in zip(one, two)])
    rate = np.array([b["rate"] / a["rate"] for a, b in zip(one, two)])
    print(f"load average after: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"speed-up of 2 ranks over 1, wall time (1 rank / 2 ranks): {np.median(wall):.2f} "
          f"(per repeat: {', '.join(f'{w:.2f}' for w in wall)})")
    print(f"speed-up of 2 ranks over 1, evaluations per second: {np.median(rate):.2f} "
          f"(per repeat: {', '.join(f'{w:.2f}' for w in rate)})")
    # Amdahl: UltraNest's own work (region fits, sorting, the tree) is repeated on every rank; only the likelihood
    # is shared. From the 1-rank runs' CPU time: own = CPU - likelihood work.
    cpu1 = float(np.median([x["cpu_s"][0] for x in one]))
    likelihood = float(np.median([x["n_evaluations"] for x in one])) * point_s
    own = cpu1 - likelihood
    print(f"limit: of the 1-rank run's {cpu1:.1f} CPU s, {likelihood:.1f} are likelihood work and {own:.1f} UltraNest's "
          f"own, which every rank repeats; on 2 idle cores the speed-up is at most {cpu1:.1f} / ({own:.1f} + "
          f"{likelihood:.1f} / 2) = {cpu1 / (own + likelihood / 2):.2f}; with the load above, 2 ranks do not get 2 cores, "
          f"and a rank waiting for the other polls (MPICH), taking CPU from the ranks that work")


if __name__ == "__main__":
    main()
