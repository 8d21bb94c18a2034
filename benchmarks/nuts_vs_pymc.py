"""bayeskit's from-scratch NUTS against PyMC's NUTS (and nutpie, if installed): ESS per gradient evaluation
and ESS per second, on the 10-gift posterior and a 50-D correlated Gaussian, in one run, as ratios.

Every sampler runs the same PyMC model with the same chains, warm-up and draws: bayeskit's ``"nuts"`` engine on
``Problem.log_density_and_grad`` (the model's PyTensor gradient, one point per call), PyMC's NUTS through the
``"pymc"`` engine (``pm.sample``, one process), nutpie through ``pm.sample(nuts_sampler="nutpie")`` (a Rust
sampler on a numba-compiled gradient). ESS is the minimum bulk ESS over the model's coordinates; gradient
evaluations include the warm-up (bayeskit: every point ``f`` was evaluated at; PyMC and nutpie: the sum of
``n_steps``); seconds are sampling seconds (compilation excluded: bayeskit compiles before sampling, PyMC's and
nutpie's ``sampling_time``). Mass matrices: each sampler's diagonal default, and bayeskit's dense one against
PyMC's ``init="jitter+adapt_full"`` (nutpie has no dense one here).

Where bayeskit's time goes: its run is timed inside ``f``, so the rest (tree building, leapfrog arithmetic,
bookkeeping in Python) is the difference; and one call of ``Problem.log_density_and_grad`` is timed against PyMC's
own compiled ``logp_dlogp_function``, which its NUTS calls.

Run: ``python benchmarks/nuts_vs_pymc.py [--seeds 2] [--draws 1000] [--tune 1000] [--chains 4]``.
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings

import numpy as np

import bayeskit as bk
from bayeskit import diagnostics
from bayeskit.models import ten_gift_model


def gaussian_50d():
    """A 50-D Gaussian from a 3-factor model (correlations up to 0.98, sds 0.5 to 2, condition number 6e3; the
    target of tests/test_nuts.py), written in PyMC."""
    import pymc as pm

    rng = np.random.default_rng(50)
    loadings = rng.normal(size=(50, 3))
    cov = loadings @ loadings.T + 0.1 * np.eye(50)
    corr = cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    scales = np.logspace(-0.3, 0.3, 50)
    with pm.Model() as model:
        pm.MvNormal("x", mu=np.linspace(-5, 5, 50), cov=corr * np.outer(scales, scales))
    return model


def min_ess(idata, name: str) -> float:
    x = idata.posterior[name].values
    x = x.reshape(*x.shape[:2], -1)
    return min(diagnostics.ess_bulk(x[..., k]) for k in range(x.shape[-1]))


class TimedGradient:
    """``problem.log_density_and_grad`` wrapped to add up the seconds spent inside it."""

    def __init__(self, fn):
        self.fn, self.seconds, self.calls = fn, 0.0, 0

    def __call__(self, z):
        started = time.perf_counter()
        out = self.fn(z)
        self.seconds += time.perf_counter() - started
        self.calls += 1
        return out


def run_bayeskit(problem, name, mass_matrix, args, seed) -> dict:
    problem.log_density_and_grad(problem.to_unconstrained(problem.initial_points(1, 0)))  # compile before timing
    timed = TimedGradient(type(problem).log_density_and_grad.__get__(problem))
    problem.log_density_and_grad = timed  # the engine calls it through the instance
    try:
        idata = bk.sample(problem, "nuts", draws=args.draws, tune=args.tune, chains=args.chains, seed=seed,
                          progressbar=False, mass_matrix=mass_matrix, log_likelihood=False)
    finally:
        del problem.log_density_and_grad
    seconds = idata.attrs["wall_time_s"]
    return {"ess": min_ess(idata, name), "grads": idata.attrs["n_evaluations"], "seconds": seconds,
            "draw_grads": float(idata.sample_stats["n_steps"].sum()),
            "f_share": timed.seconds / seconds, "us_per_call": timed.seconds / timed.calls * 1e6,
            "depth": float(idata.sample_stats["tree_depth"].mean()),
            "step": float(np.mean(idata.attrs["step_size"])), "div": idata.attrs["n_divergences"]}


def run_pymc(problem, name, args, seed, **options) -> dict:
    idata = bk.sample(problem, "pymc", draws=args.draws, tune=args.tune, chains=args.chains, seed=seed,
                      progressbar=False, log_likelihood=False, compute_convergence_checks=False, **options)
    stats = idata.sample_stats
    depth = stats["tree_depth"] if "tree_depth" in stats else stats["depth"]
    return {"ess": min_ess(idata, name), "grads": idata.attrs["n_evaluations"],
            "draw_grads": float(stats["n_steps"].sum()),
            "seconds": idata.attrs["sampling_time_s"], "depth": float(depth.mean()),
            "step": float(stats["step_size"].mean()), "div": int(stats["diverging"].sum())}


def pymc_call_cost(model, problem) -> float:
    """Seconds per call of PyMC's compiled logp_dlogp_function at one point (what PyMC's NUTS calls)."""
    fn = model.logp_dlogp_function(ravel_inputs=True)
    fn.set_extra_values({})
    z = problem.to_unconstrained(problem.initial_points(1, 0))[0]
    fn(z)
    started, calls = time.perf_counter(), 0
    while time.perf_counter() - started < 1.0:
        fn(z)
        calls += 1
    return (time.perf_counter() - started) / calls


def nutpie_available() -> bool:
    try:
        import nutpie  # noqa: F401
    except ImportError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--no-nutpie", action="store_true", help="skip nutpie even if it is installed")
    parser.add_argument("--targets", default="gift,gaussian", help="comma-separated: gift, gaussian")
    parser.add_argument("--mass-matrices", default="diag,dense", help="comma-separated: diag, dense")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message=".*BLAS.*")
    # PyMC flags its full-rank adaptation as experimental, and says nutpie ignores idata_kwargs (we pass
    # log_likelihood=False, which nutpie does anyway): neither changes what is measured
    warnings.filterwarnings("ignore", message="QuadPotentialFullAdapt is an experimental feature")
    warnings.filterwarnings("ignore", message="`idata_kwargs` are currently ignored by the nutpie sampler")
    logging.getLogger("pymc").setLevel(logging.ERROR)
    use_nutpie = nutpie_available() and not args.no_nutpie
    if not use_nutpie and not args.no_nutpie:
        print("nutpie is not installed (pip install nutpie): its rows are skipped")
    print(f"{args.chains} chains x ({args.tune} warm-up + {args.draws} draws), {args.seeds} seeds; medians over seeds. "
          "ESS: minimum bulk ESS over coordinates; grads: gradient evaluations, warm-up included (in brackets: "
          "after warm-up only); s: sampling seconds (compilation excluded)")
    targets = {"gift": ("10-gift", ten_gift_model().pymc_model, "w"), "gaussian": ("50-D Gaussian", gaussian_50d, "x")}
    for key in args.targets.split(","):
        label, make_model, name = targets[key]
        model = make_model()
        problem = bk.Problem.from_pymc(model)
        print(f"\n{label} ({problem.unconstrained_ndim} dims)")
        pairs = [("diag", "bayeskit nuts diag", lambda s: run_bayeskit(problem, name, "diag", args, s),
                  "pymc nuts diag", lambda s: run_pymc(problem, name, args, s)),
                 ("dense", "bayeskit nuts dense", lambda s: run_bayeskit(problem, name, "dense", args, s),
                  "pymc nuts full", lambda s: run_pymc(problem, name, args, s, init="jitter+adapt_full"))]
        pairs = [pair for pair in pairs if pair[0] in args.mass_matrices.split(",")]
        rows = {}
        for _, ours, run_ours, theirs, run_theirs in pairs:
            for key, fn in ((ours, run_ours), (theirs, run_theirs)):
                rows[key] = [fn(seed) for seed in range(args.seeds)]
        use_nutpie_here = use_nutpie and "diag" in args.mass_matrices.split(",")
        if use_nutpie_here:
            rows["nutpie diag"] = [run_pymc(problem, name, args, s, nuts_sampler="nutpie") for s in range(args.seeds)]
        med = {key: {k: float(np.median([r[k] for r in runs])) for k in runs[0]} for key, runs in rows.items()}
        for key, m in med.items():
            extra = (f"  time in f {100 * m['f_share']:.0f}% ({m['us_per_call']:.0f} us/call)"
                     if "f_share" in m else "")
            print(f"  {key:20s} ESS {m['ess']:7.0f}  grads {m['grads']:8.0f} ({m['draw_grads']:7.0f} after warm-up)  "
                  f"ESS/grad {m['ess'] / m['grads']:.4f} ({m['ess'] / m['draw_grads']:.4f})  "
                  f"ESS/s {m['ess'] / m['seconds']:8.1f}  s {m['seconds']:6.1f}  depth {m['depth']:.1f}  "
                  f"step {m['step']:.3f}  divergences {m['div']:.0f}{extra}")
        for _, ours, _, theirs, _ in pairs:
            a, b = med[ours], med[theirs]
            print(f"  {ours} / {theirs}: ESS per gradient {(a['ess'] / a['grads']) / (b['ess'] / b['grads']):.3g}x, "
                  f"ESS per second {(a['ess'] / a['seconds']) / (b['ess'] / b['seconds']):.3g}x")
        if use_nutpie_here:
            a, b = med["bayeskit nuts diag"], med["nutpie diag"]
            print(f"  bayeskit nuts diag / nutpie diag: ESS per gradient "
                  f"{(a['ess'] / a['grads']) / (b['ess'] / b['grads']):.3g}x, ESS per second "
                  f"{(a['ess'] / a['seconds']) / (b['ess'] / b['seconds']):.3g}x")
        ours_cost = med[pairs[0][1]]["us_per_call"]
        pymc_cost = pymc_call_cost(model, problem) * 1e6
        print(f"  one gradient: Problem.log_density_and_grad {ours_cost:.0f} us/call, PyMC's logp_dlogp_function "
              f"{pymc_cost:.0f} us/call ({ours_cost / pymc_cost:.1f}x); the rest of bayeskit's time is Python "
              "(tree building, leapfrog arithmetic, bookkeeping)")


if __name__ == "__main__":
    main()
