"""Cost of the PyMC bridge: Problem.from_pymc log posterior vs hand-written numpy, batch vs single
calls, and UltraNest with a vectorised vs a one-point-at-a-time likelihood. Ratios in one run."""

from __future__ import annotations

import time

import numpy as np

import bayeskit as bk
from bayeskit.models import four_gift_model, ten_gift_model


def per_point(fn, x, repeats=20) -> float:
    fn(x)
    t = time.perf_counter()
    for _ in range(repeats):
        fn(x)
    return (time.perf_counter() - t) / repeats / len(x)


def main() -> None:
    model = ten_gift_model()
    problem = model.problem()
    x = np.random.default_rng(0).normal(5, 2, size=(1000, 10))
    bridge = per_point(problem.log_posterior, x)
    numpy_ = per_point(model.log_posterior, x)
    print(f"10-gift log posterior, batches of 1000: from_pymc {bridge * 1e6:.2f} us/point, "
          f"numpy {numpy_ * 1e6:.2f} us/point; ratio from_pymc/numpy = {bridge / numpy_:.2f}x (goal <= 3x)")
    single = per_point(lambda z: [problem.log_posterior(row[None, :]) for row in z], x[:200], repeats=3)
    print(f"one point per call: {single * 1e6:.1f} us/point; batching is {single / bridge:.0f}x cheaper per point")

    small = four_gift_model(noise_sd=0.5).problem()
    # region_batch=128 (the adapter's default, reproducible) proposes fixed batches of 128 region points;
    # None lets UltraNest grow the batches on its status timer (not reproducible)
    for region_batch in (128, None):
        walls = {}
        for vectorized in (True, False):
            idata = bk.sample(small, "ultranest", seed=1, progressbar=False, vectorized=vectorized,
                              region_batch=region_batch)
            walls[vectorized] = idata.attrs["wall_time_s"]
            print(f"UltraNest, 4-gift model, region_batch={region_batch}, vectorized={vectorized}: "
                  f"{walls[vectorized]:.1f} s, {idata.attrs['ncall']} likelihood calls, log Z {idata.attrs['log_evidence']:.3f}")
        print(f"UltraNest speed-up from vectorisation (region_batch={region_batch}): {walls[False] / walls[True]:.1f}x")

if __name__ == "__main__":
    main()
