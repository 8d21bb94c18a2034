"""The Problem's own cost around a compiled PyTensor call: ``Problem.log_density`` (and its gradient) against
the compiled function it wraps, on the same batch, in the same run.

What the glue does per call: check the points' shape and finiteness (``_check_points``), sum the per-term
log-densities while masking points outside the support and refusing NaN (``_combine``). Calls of the two
are interleaved in short blocks, so that load from other processes hits both alike; the medians of the
per-block times are reported.

    python benchmarks/problem_glue.py [--batch 32] [--blocks 60]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np


def per_call_us(fn, x, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn(x)
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=32, help="points per call (chains of a vectorised sampler)")
    parser.add_argument("--blocks", type=int, default=60, help="interleaved blocks of 100 calls each")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")  # about PyTensor's install, not this
    from bayeskit.models import ten_gift_model

    problem = ten_gift_model().problem()
    z = problem.to_unconstrained(problem.initial_points(args.batch, 0))
    problem.log_density(z), problem.log_density_and_grad(z)  # compile both
    compiled = problem._compiled
    pairs = {
        "log_density": (lambda x: compiled._z_terms_fn(x), problem.log_density),
        "log_density_and_grad": (lambda x: compiled._z_terms_grad_fn(x), problem.log_density_and_grad),
    }
    print(f"10-gift model from PyMC, batches of {args.batch} points; medians of {args.blocks} interleaved blocks")
    for name, (raw, wrapped) in pairs.items():
        raw_t, wrapped_t = [], []
        for _ in range(args.blocks):
            raw_t.append(per_call_us(raw, z, 100))
            wrapped_t.append(per_call_us(wrapped, z, 100))
        r, w = np.median(raw_t), np.median(wrapped_t)
        print(f"  {name:22s} compiled function {r:7.1f} us, Problem {w:7.1f} us: glue {w - r:6.1f} us "
              f"= {(w - r) / r:.2f}x the compiled function")


if __name__ == "__main__":
    main()
