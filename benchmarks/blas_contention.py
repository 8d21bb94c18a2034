"""Does a sampler collapse when the machine is busy? BLAS threads against CPU contention.

A model with a dense multivariate-normal prior (its log-density needs a batched triangular solve) is evaluated
on batches of 32 points, and sampled with ``bk.sample(problem, "metropolis")``, on a quiet machine and beside two
busy processes (pure-Python loops, one per core of a 2-core machine). OpenBLAS's default thread pool spins on
every core, so beside busy processes its threads wait for each other. ``bk.sample`` runs engines with one BLAS
thread; the table shows the log-density throughput with the default pool and with one thread, and the slowdown
of ``bk.sample`` and of PyMC's own NUTS (``pm.sample``, one chain) under contention. Ratios within one run.

    python benchmarks/blas_contention.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time
import warnings

import numpy as np


def busy(stop) -> None:
    x = 0
    while not stop.is_set():
        for i in range(100_000):
            x += i * i


def model():
    import pymc as pm

    rng = np.random.default_rng(0)
    d = 10
    q = rng.normal(size=(d, d))
    cov = q @ q.T / d + np.eye(d)
    A = rng.integers(0, 2, size=(40, d)).astype(float)
    y = A @ rng.normal(5, 1, size=d) + rng.normal(0, 0.5, size=40)
    with pm.Model() as m:
        w = pm.MvNormal("w", mu=np.full(d, 5.0), cov=cov)
        pm.Normal("y", pm.math.dot(A, w), 0.5, observed=y)
    return m


def evals_per_second(problem, z, seconds: float, one_thread: bool) -> float:
    from threadpoolctl import threadpool_limits

    limits = threadpool_limits(limits=1, user_api="blas") if one_thread else None
    try:
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            problem.log_density(z)
            n += len(z)
        return n / (time.perf_counter() - start)
    finally:
        if limits is not None:
            limits.restore_original_limits()


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
    import logging

    import pymc as pm
    from threadpoolctl import threadpool_info

    import bayeskit as bk

    logging.getLogger("pymc").setLevel(logging.ERROR)
    m = model()
    problem = bk.Problem.from_pymc(m)
    z = problem.to_unconstrained(problem.initial_points(32, 0))
    problem.log_density(z)
    threads = max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
    sample = lambda: bk.sample(problem, "metropolis", draws=1500, chains=32, seed=1, progressbar=False)  # noqa: E731
    nuts = lambda: pm.sample(draws=500, tune=500, chains=1, cores=1, model=m, random_seed=1,  # noqa: E731
                             progressbar=False, compute_convergence_checks=False)
    sample(), nuts()  # compile everything first
    results = {}
    for label in ("quiet", "busy"):
        stop, procs = mp.Event(), []
        if label == "busy":
            procs = [mp.Process(target=busy, args=(stop,)) for _ in range(2)]
            for p in procs:
                p.start()
            time.sleep(0.5)
        try:
            results[label] = {
                "default": evals_per_second(problem, z, args.seconds, one_thread=False),
                "one": evals_per_second(problem, z, args.seconds, one_thread=True),
                "bk.sample": timed(sample),
                "pm.sample": timed(nuts),
            }
        finally:
            stop.set()
            for p in procs:
                p.join()
    print(f"10-D MvNormal prior, batches of 32 points; OpenBLAS default pool: {threads} threads")
    for label, r in results.items():
        print(f"  {label:5s}: log_density {r['default']:9.0f} evals/s with the default pool, {r['one']:9.0f} with one "
              f"thread; bk.sample(metropolis) {r['bk.sample']:5.2f} s; pm.sample(NUTS) {r['pm.sample']:5.2f} s")
    q, b = results["quiet"], results["busy"]
    print(f"slowdown beside two busy processes: log_density default pool {q['default'] / b['default']:.1f}x, "
          f"one thread {q['one'] / b['one']:.1f}x; bk.sample {b['bk.sample'] / q['bk.sample']:.1f}x; "
          f"pm.sample {b['pm.sample'] / q['pm.sample']:.1f}x")


if __name__ == "__main__":
    main()
