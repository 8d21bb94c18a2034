"""bayeskit.metropolis vs emcee on the 10-gift linear-Gaussian posterior: minimum bulk ESS per second.

Both samplers get the same total number of log-density evaluations, evaluated vectorised, on the
same hand-written numpy log posterior. Several seeds; the ratio of medians is reported.
"""

from __future__ import annotations

import argparse
import time

import emcee
import numpy as np

from bayeskit import diagnostics, metropolis
from bayeskit.models import ten_gift_model


def min_ess(x: np.ndarray) -> float:
    """Minimum bulk ESS over coordinates of draws (chain, draw, ndim)."""
    return min(diagnostics.ess_bulk(x[..., k]) for k in range(x.shape[-1]))


def run_metropolis(model, evaluations: int, chains: int, seed: int) -> tuple[float, float, np.ndarray]:
    steps = evaluations // chains
    tune = steps // 3
    start = model.exact.mean + np.random.default_rng(seed).normal(size=(chains, 10)) * 2
    t = time.perf_counter()
    idata = metropolis(model.log_posterior, start, draws=steps - tune, tune=tune, chains=chains, seed=seed,
                       progressbar=False)
    wall = time.perf_counter() - t
    return min_ess(idata.posterior["x"].values), wall, idata.posterior["x"].values


def run_emcee(model, evaluations: int, walkers: int, seed: int) -> tuple[float, float, np.ndarray]:
    steps = evaluations // walkers
    tune = steps // 3
    start = model.exact.mean + np.random.default_rng(seed).normal(size=(walkers, 10)) * 2
    sampler = emcee.EnsembleSampler(walkers, 10, model.log_posterior, vectorize=True)
    sampler.random_state = np.random.RandomState(seed).get_state()
    t = time.perf_counter()
    sampler.run_mcmc(start, steps)
    wall = time.perf_counter() - t
    x = np.swapaxes(sampler.get_chain(discard=tune), 0, 1)
    return min_ess(x), wall, x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--evaluations", type=int, default=600_000)
    parser.add_argument("--chains", type=int, default=32, help="metropolis chains (emcee uses the same number of walkers)")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    model = ten_gift_model()
    print(f"10-gift posterior, {args.evaluations} log-density evaluations per sampler, "
          f"{args.chains} chains/walkers, {args.seeds} seeds")
    rates = {"metropolis": [], "emcee": []}
    for seed in range(args.seeds):
        for name, fn in (("metropolis", run_metropolis), ("emcee", run_emcee)):
            ess, wall, x = fn(model, args.evaluations, args.chains, seed)
            rel = np.abs(x.reshape(-1, 10).mean(0) - model.exact.mean).max()
            rates[name].append(ess / wall)
            print(f"  seed {seed} {name:10s} min bulk ESS {ess:8.0f}  wall {wall:6.2f} s  "
                  f"ESS/s {ess / wall:9.0f}  max |mean error| {rel:.3f}")
    m, e = np.median(rates["metropolis"]), np.median(rates["emcee"])
    print(f"median min-ESS/s: metropolis {m:.0f}, emcee {e:.0f}; ratio metropolis/emcee = {m / e:.1f}x")


if __name__ == "__main__":
    main()
