"""Cost of the unconstrained view: ``Problem.log_density_and_grad`` per point, at batches of 1, 32 and
1024, against PyMC's own compiled ``logp_dlogp_function`` called one point at a time (what PyMC's NUTS
calls). Ratios within one run; no timings are asserted anywhere."""

from __future__ import annotations

import time

import numpy as np

import bayeskit as bk
from bayeskit.models import ten_gift_model


def eight_schools():
    import pymc as pm

    y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
    sigma = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 5.0)
        tau = pm.HalfCauchy("tau", 5.0)
        theta_tilde = pm.Normal("theta_tilde", 0.0, 1.0, shape=8)
        pm.Normal("y", mu + tau * theta_tilde, sigma, observed=y)
    return model


def seconds_per_point(fn, z: np.ndarray, min_time: float = 0.5) -> float:
    fn(z)
    calls, started = 0, time.perf_counter()
    while time.perf_counter() - started < min_time:
        fn(z)
        calls += 1
    return (time.perf_counter() - started) / calls / len(z)


def main() -> None:
    for label, model in [("10-gift", ten_gift_model().pymc_model()), ("eight schools", eight_schools())]:
        problem = bk.Problem.from_pymc(model)
        rng = np.random.default_rng(0)
        z = problem.to_unconstrained(problem.initial_points(1024, rng))
        pymc_fn = model.logp_dlogp_function(ravel_inputs=True)
        pymc_fn.set_extra_values({})
        pymc_cost = seconds_per_point(lambda batch: [pymc_fn(row) for row in batch], z[:64])
        print(f"{label} ({problem.unconstrained_ndim} dims): PyMC logp_dlogp_function, one point per call: "
              f"{pymc_cost * 1e6:.1f} us/point")
        for batch in (1, 32, 1024):
            cost = seconds_per_point(problem.log_density_and_grad, z[:batch])
            print(f"  bayeskit log_density_and_grad, batch {batch:4d}: {cost * 1e6:8.2f} us/point "
                  f"= {cost / pymc_cost:.2f}x PyMC's per-point cost")


if __name__ == "__main__":
    main()
