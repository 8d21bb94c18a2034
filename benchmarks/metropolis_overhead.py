"""Where a step of ``bk.metropolis`` goes: the share spent inside the log-density, against the sampler's own
Python and NumPy bookkeeping (proposal, acceptance, adaptation, recording).

The 10-gift posterior's NumPy log-density (``ten_gift_model().log_posterior``), 32 chains, 3000 warm-up and 3000
recorded steps; the density is timed inside the run, so both shares come from the same run. Median of 3 runs.

    python benchmarks/metropolis_overhead.py [--chains 32] [--steps 6000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bayeskit import metropolis
from bayeskit.models import ten_gift_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chains", type=int, default=32)
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    model = ten_gift_model()
    start = model.exact.mean + np.random.default_rng(0).normal(size=(args.chains, 10)) * 2
    inside = [0.0]

    def timed_density(x):
        t = time.perf_counter()
        out = model.log_posterior(x)
        inside[0] += time.perf_counter() - t
        return out

    rows = []
    for run in range(args.runs):
        inside[0] = 0.0
        t = time.perf_counter()
        metropolis(timed_density, start, draws=args.steps // 2, tune=args.steps // 2, chains=args.chains, seed=run,
                   progressbar=False)
        wall = time.perf_counter() - t
        rows.append((wall / args.steps * 1e6, inside[0] / args.steps * 1e6, inside[0] / wall))
    step, density, share = np.median(np.array(rows), axis=0)
    print(f"10-gift posterior, {args.chains} chains: {step:.1f} us per step, of which {density:.1f} us in the "
          f"log-density ({share:.0%}; goal >= 60%), {step - density:.1f} us in the sampler")


if __name__ == "__main__":
    main()
