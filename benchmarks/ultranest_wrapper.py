"""UltraNest through ``bk.sample`` against raw UltraNest with the same vectorised likelihood and prior transform,
and dynesty beside them for scale.

Models: the 4-gift posterior (a Gaussian prior and likelihood) and the two Gaussian shells of
:func:`bayeskit.models.benchmarks.gaussian_shells` in 2 and 5 dimensions. Each is written once in NumPy; bayeskit gets it as a Problem from scipy priors and that
log-likelihood, raw UltraNest gets the same functions. The same seed gives both the same calls and log Z, so the
wall-time ratio is the wrapper's own cost. A third run, "checked", drives UltraNest through the Problem's public
methods (``problem.log_likelihood`` with its support mask and checks, ``problem.prior_transform``), as the engine did
before its fast path for points of the prior transform (issue 15); it must give the same calls and log Z too. Runs
alternate (raw, bk.sample, checked) per seed, so load hits all alike.

    python benchmarks/ultranest_wrapper.py [--seeds 3] [--no-dynesty] [--no-checked] [--cases gifts shells2 shells5]
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings

import numpy as np
from scipy import stats

import bayeskit as bk
from bayeskit.models import four_gift_model
from bayeskit.models.benchmarks import SHELL_BOX, gaussian_shells

N_LIVE = 400


def gift_case():
    model = four_gift_model()
    exact = model.exact
    sd = np.sqrt(np.diag(exact.prior_cov))
    priors = {"w": (stats.norm(exact.prior_mean[0], sd[0]), exact.prior_mean.size)}
    loglike = exact.log_likelihood

    def transform(u):
        return exact.prior_mean + sd * stats.norm.ppf(u)

    return "4 gifts", priors, lambda d: loglike(d["w"]), loglike, transform, exact.prior_mean.size


def shells_case(ndim: int):
    problem = gaussian_shells(ndim)
    numpy_loglike = problem._user_loglik  # the model's own NumPy function of {"x": (n, d)}

    def loglike(x):
        return numpy_loglike({"x": x})

    def transform(u):
        return (2 * u - 1) * SHELL_BOX

    return f"shells {ndim}-D", {"x": (stats.uniform(-SHELL_BOX, 2 * SHELL_BOX), ndim)}, numpy_loglike, loglike, \
        transform, ndim


def run_raw(loglike, transform, ndim, seed):
    import ultranest

    np.random.seed(seed)
    sampler = ultranest.ReactiveNestedSampler([f"x{i}" for i in range(ndim)], loglike, transform, vectorized=True,
                                              ndraw_min=128, ndraw_max=128)
    for handler in logging.getLogger("ultranest").handlers:  # as quiet as bk.sample(progressbar=False)
        handler.setLevel(logging.WARNING)
    t = time.perf_counter()
    result = sampler.run(show_status=False, viz_callback=False, min_num_live_points=N_LIVE)
    return time.perf_counter() - t, result["logz"], result["ncall"]


def run_wrapped(priors, loglike_dict, seed):
    problem = bk.Problem(priors, loglike_dict)
    t = time.perf_counter()
    idata = bk.sample(problem, "ultranest", seed=seed, progressbar=False, min_num_live_points=N_LIVE)
    return time.perf_counter() - t, idata.attrs["log_evidence"], idata.attrs["ncall"]


def run_checked(priors, loglike_dict, seed):
    """UltraNest through the Problem's public, checked methods, as ``bk.sample`` drove it before the fast path."""
    problem = bk.Problem(priors, loglike_dict)
    return run_raw(lambda x: np.maximum(problem.log_likelihood(x), -1e300), problem.prior_transform, problem.ndim, seed)


def run_dynesty(loglike, transform, ndim, seed):
    import dynesty

    def one(x):
        return float(loglike(x[None, :])[0])

    sampler = dynesty.NestedSampler(one, lambda u: transform(u[None, :])[0], ndim, nlive=N_LIVE,
                                    rstate=np.random.default_rng(seed))
    t = time.perf_counter()
    sampler.run_nested(print_progress=False)
    return time.perf_counter() - t, sampler.results.logz[-1], int(np.sum(sampler.results.ncall))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--no-dynesty", action="store_true")
    parser.add_argument("--no-checked", action="store_true", help="skip the run through the Problem's checked methods")
    parser.add_argument("--cases", nargs="+", choices=["gifts", "shells2", "shells5"],
                        default=["gifts", "shells2", "shells5"])
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="Sampling from region seems inefficient")  # both runs alike
    import arviz  # noqa: F401  (bk.sample's result is an InferenceData: import ArviZ once, before any timed run)
    try:
        import dynesty  # noqa: F401
        with_dynesty = not args.no_dynesty
    except ImportError:
        with_dynesty = False
    print(f"{N_LIVE} live points, region sampling with batches of 128; medians over {args.seeds} seeds")
    builders = {"gifts": gift_case, "shells2": lambda: shells_case(2), "shells5": lambda: shells_case(5)}
    for name, priors, loglike_dict, loglike, transform, ndim in (builders[case]() for case in args.cases):
        raw, wrapped, checked, dyn = [], [], [], []
        for seed in range(args.seeds):
            t_raw, z_raw, n_raw = run_raw(loglike, transform, ndim, seed)
            t_bk, z_bk, n_bk = run_wrapped(priors, loglike_dict, seed)
            raw.append(t_raw)
            wrapped.append(t_bk)
            same = "same calls and log Z" if (n_raw == n_bk and abs(z_raw - z_bk) < 1e-9) else \
                f"DIFFERENT: ncall {n_raw} vs {n_bk}, log Z {z_raw:.4f} vs {z_bk:.4f}"
            line = f"  {name:12s} seed {seed}: raw {t_raw:6.2f} s, bk.sample {t_bk:6.2f} s ({same}; log Z {z_bk:.3f})"
            if not args.no_checked:
                t_ch, z_ch, n_ch = run_checked(priors, loglike_dict, seed)
                checked.append(t_ch)
                # the fast path must not change a single likelihood value: bit-identical log Z and calls
                same = "same" if (n_ch, float(z_ch)) == (n_bk, float(z_bk)) else \
                    f"DIFFERENT: ncall {n_ch}, log Z {z_ch!r} against {z_bk!r}"
                line += f"; checked {t_ch:6.2f} s ({same})"
            if with_dynesty:
                t_dy, z_dy, n_dy = run_dynesty(loglike, transform, ndim, seed)
                dyn.append(t_dy)
                line += f"; dynesty {t_dy:6.2f} s, {n_dy} calls, log Z {z_dy:.3f} (UltraNest {n_raw} calls)"
            print(line, flush=True)
        ratio = np.median(wrapped) / np.median(raw)
        extra = f", checked methods / raw {np.median(checked) / np.median(raw):.2f}x" if checked else ""
        extra += f", dynesty/raw UltraNest {np.median(dyn) / np.median(raw):.2f}x" if dyn else ""
        print(f"{name}: bk.sample / raw UltraNest = {ratio:.2f}x (goal <= 1.2x){extra}", flush=True)


if __name__ == "__main__":
    main()
