"""External check: every engine reproduces posteriordb's reference posteriors (Stan NUTS, 10 x 1000 draws).

Each (posterior, engine) test samples the PyMC port of :mod:`bayeskit.models.posteriordb` with
``bk.sample`` and compares every reported quantity (posteriordb's parameter list, Deterministics such as
``theta`` and ``f`` included) with the reference.

Tolerance. Our posterior mean and the reference mean are two independent Monte Carlo estimates of the
same number, so their difference has standard deviation ``sqrt(mcse_ref^2 + mcse_ours^2)``; a correct
engine gives ``|error| / that`` roughly standard normal. We require it below 4: a correct engine fails one
quantity with probability 6e-5, about 1% for the ~140 quantities of the whole file, while a bias of 5 or
more combined MCSEs is caught. ``mcse_ref`` is posteriordb's ``pdb_mcse_mean``; ``mcse_ours`` is
:func:`bayeskit.diagnostics.mcse_mean` (ESS from all chains) for MCMC, and for UltraNest the convention of
:func:`bayeskit.compare`: the larger of ``sd / sqrt(attrs["ess"])`` and UltraNest's bootstrap error
``attrs["mcse_mean"]`` (only free parameters have one; a Deterministic gets the first). The tolerance is not
widened anywhere: each budget below is the cheapest whose measured ESS passes with margin at that tolerance.

Convergence. For engines with independent chains (pymc, metropolis) the rank-normalised split R-hat of
every quantity must be <= 1.01 (Vehtari et al. 2021). R-hat's own noise needs a bulk ESS of several hundred,
so that bound, not the 4-MCSE one, sets most budgets. emcee's walkers move together (each proposal uses
another walker), so R-hat across them is not a convergence test and is not bounded.

Combinations left out (measured numbers in ``EXCLUDED``): random-walk Metropolis and UltraNest on the
13-dimensional gp_pois_regr, which they do not sample correctly within minutes. pymc (Stan's own reference
needed adapt_delta 0.99) and emcee on gp_pois_regr are correct but slow (minutes): they run only with
``BAYESKIT_SLOW_TESTS=1``. UltraNest needs a proper prior: it runs on eight_schools and arK, and must refuse
low_dim_gauss_mix, whose ordering lives in a value transform.

References
----------
Vehtari, A., Gelman, A., Simpson, D., Carpenter, B., Bürkner, P.-C. (2021). Rank-normalization, folding, and
localization: an improved R-hat for assessing convergence of MCMC. Bayesian Analysis 16, 667-718.
"""

import functools
import os

import numpy as np
import pytest

import bayeskit as bk
from bayeskit import Problem, data, diagnostics
from bayeskit.models.posteriordb import POSTERIORS, posteriordb_reference

#: |our mean - reference mean| / sqrt(mcse_ref^2 + mcse_ours^2) must stay below this (see the docstring).
MAX_ERROR_MCSE = 4.0
#: Split R-hat bound for independent chains (Vehtari et al. 2021).
MAX_RHAT = 1.01

SLOW = pytest.mark.skipif(not os.environ.get("BAYESKIT_SLOW_TESTS"),
                          reason="slow (minutes): set BAYESKIT_SLOW_TESTS=1 to run it")


@functools.cache
def problem(key: str) -> Problem:
    """One compiled Problem per posterior, shared by the engines' tests."""
    return Problem.from_pymc(POSTERIORS[key].model())


def earnings_starts(n: int, seed: int) -> np.ndarray:
    """``n`` over-dispersed starting points ``(beta_0, beta_1, sigma)`` for earn_height: the least-squares fit,
    beta moved by 3 standard errors (along the fit's own correlation, -0.999) and sigma by up to 30%.
    Derived from the data alone, never from the reference."""
    d = data.load("earnings")
    X = np.column_stack([np.ones(d["N"]), np.asarray(d["height"], float)])
    y = np.asarray(d["earn"], float)
    beta, rss = np.linalg.lstsq(X, y, rcond=None)[:2]
    s2 = float(rss[0]) / (len(y) - X.shape[1])
    rng = np.random.default_rng(seed)
    betas = rng.multivariate_normal(beta, 9 * s2 * np.linalg.inv(X.T @ X), size=n)
    sigmas = np.sqrt(s2) * rng.uniform(0.7, 1.3, size=(n, 1))
    return np.hstack([betas, sigmas])


def gauss_mix_starts(n: int, seed: int) -> np.ndarray:
    """``n`` over-dispersed starting points ``(mu_1, mu_2, sigma_1, sigma_2, theta)`` for low_dim_gauss_mix: the
    means near the data's quartiles (each moved by up to a quarter of the interquartile range, then sorted), the
    scales half the data's sd times 0.7-1.3, the weight in (0.3, 0.7). Derived from the data alone, never from the
    reference."""
    y = np.asarray(data.load("low_dim_gauss_mix")["y"], float)
    rng = np.random.default_rng(seed)
    lower, upper = np.quantile(y, [0.25, 0.75])
    mu = np.sort([lower, upper] + rng.uniform(-0.25, 0.25, size=(n, 2)) * (upper - lower), axis=1)
    sigma = y.std() / 2 * rng.uniform(0.7, 1.3, size=(n, 2))
    theta = rng.uniform(0.3, 0.7, size=(n, 1))
    return np.hstack([mu, sigma, theta])


# ------------------------------------------------------------------------------------------------ settings
# (posterior, engine) -> bk.sample keywords: the cheapest budget found whose measured ESS passes with margin
# (each test prints its worst error and max R-hat; run pytest with -s to see them). Comments give the reason
# for anything beyond a plain budget, with numbers measured with seed 1 on a busy 2-core machine.
PYMC = {
    "eight_schools": dict(draws=800, tune=500, chains=4, target_accept=0.9),
    # flat-prior regressions and the AR(5): coefficients correlated up to -0.999, which a diagonal mass matrix
    # meets with trees of depth 6-8; a dense one (adapted over 600 steps) brings them to depth 2-3
    "kidiq": dict(draws=1000, tune=600, chains=4, init="jitter+adapt_full"),
    # improper prior and scales from 0.02 (log sigma) to 1e4 (beta[0]): from PyMC's initial point (beta = 0,
    # sigma = e^(+-1) after jitter) the warm-up travels ten units of log sigma with an identity mass matrix, its
    # trees reach depth 10, and the first dense estimates are poor: 42 000 leapfrog steps per chain in warm-up
    # against 7 500 for the 1000 draws; 34-67 s of sampling on a busy machine, bulk ESS of sigma 2100. Started
    # from the same data-derived over-dispersed points as metropolis (no jitter): 2900 steps per chain in all,
    # 17-20 s, bulk ESS >= 5800, worst error 1.3 combined MCSE, R-hat 1.002 (seed 1)
    "earnings": dict(draws=1000, tune=600, chains=4, init="adapt_full", initvals="earnings_starts"),
    "arK": dict(draws=1000, tune=600, chains=4, init="jitter+adapt_full"),
    "mesquite": dict(draws=1000, tune=600, chains=4, init="jitter+adapt_full"),
    "garch": dict(draws=500, tune=300, chains=4),
    "low_dim_gauss_mix": dict(draws=400, tune=300, chains=4),
    # slow: Stan's reference itself ran with adapt_delta 0.99 and max_treedepth 15; here trees of depth 7-8 at
    # step size 0.017, each gradient through a Cholesky factor: 609 s, 51 divergences, worst error 1.2 MCSE,
    # R-hat 1.008, bulk ESS 511
    "gp_pois_regr": dict(draws=500, tune=500, chains=4),
}
METROPOLIS = {
    "eight_schools": dict(draws=12000, tune=4000, chains=8),  # autocorrelation time ~90 steps near tau = 0
    "kidiq": dict(draws=4000, tune=2000, chains=8),
    # improper prior: no prior to start from, and from PyMC's initial point (beta = 0, 6 sds away along a
    # -0.999 correlation) the adaptation never finds the scales (tune 6000: R-hat 2.24, error 13 MCSE); started
    # from the data's least-squares fit it converges
    "earnings": dict(draws=4000, tune=6000, chains=8, initial="earnings_starts"),
    "arK": dict(draws=6000, tune=2000, chains=8),
    "mesquite": dict(draws=8000, tune=3000, chains=8),
    "garch": dict(draws=4000, tune=2000, chains=8),
    # started from the data (gauss_mix_starts): from prior draws, a chain could start on the mixture's broad local
    # ridge (both components over all the data) and still be far from the mode after 8000 warm-up steps, or the
    # shared proposal covariance, learned while chains were still arriving, mixed badly: R-hat 1.2-1.6 for 2 of
    # seeds 1-6 (and 4 of 1-7 once the random numbers were drawn in blocks). From the data's quartiles, seeds 1-8
    # all passed: worst error 1.0-3.0 combined MCSE, max R-hat 1.0039-1.0084
    "low_dim_gauss_mix": dict(draws=4000, tune=8000, chains=8, initial="gauss_mix_starts"),
}
EMCEE = {
    "eight_schools": dict(draws=6000, tune=2000),  # autocorrelation time ~90 steps
    "kidiq": dict(draws=2000, tune=1000),
    "earnings": dict(draws=2000, tune=1000),
    "arK": dict(draws=2000, tune=1000),
    "mesquite": dict(draws=2000, tune=1000),
    "garch": dict(draws=2000, tune=1000),
    "low_dim_gauss_mix": dict(draws=2000, tune=1000),
    # slow: autocorrelation time ~500 steps (13 dimensions, a funnel between alpha and f_tilde); 64 walkers x
    # (10000 + 5000): 55 s, bulk ESS 383, worst error 2.1 MCSE
    "gp_pois_regr": dict(draws=10000, tune=5000, chains=64),
}
ULTRANEST = {
    # region (ellipsoid) sampling: these posteriors are close to Gaussian, where it is efficient, and far cheaper
    # than the population slice sampler "auto" picks above 5 dimensions (arK: 38 000 likelihood calls and 18 s
    # instead of 7.4 million and 298 s)
    "eight_schools": dict(min_num_live_points=200, slice_steps=None),
    "arK": dict(min_num_live_points=200, slice_steps=None),
}
SLOW_COMBINATIONS = {("gp_pois_regr", "pymc"), ("gp_pois_regr", "emcee")}
#: Combinations not tested, with what was measured (seed 1).
EXCLUDED = {
    ("gp_pois_regr", "metropolis"): "8 chains x (20000 + 10000 tune), 24 s: bulk ESS 54, R-hat 1.10; "
                                    "8 x (4000 + 2000): bulk ESS 20, R-hat 1.34",
    ("gp_pois_regr", "ultranest"): "slice sampler at 4 * ndim = 52 steps is biased: 400 live points, 571 s, rho off by "
                                   "11 MCSE; 100 live points, 348 s, alpha 2.63 vs 2.92 (10 MCSE), sd 0.68 vs 0.79; "
                                   "region sampling, 200 live points: not finished after 19 minutes",
}


def cases():
    for engine, table in [("pymc", PYMC), ("metropolis", METROPOLIS), ("emcee", EMCEE), ("ultranest", ULTRANEST)]:
        for key, settings in table.items():
            marks = [SLOW] if (key, engine) in SLOW_COMBINATIONS else []
            yield pytest.param(key, engine, settings, id=f"{key}-{engine}", marks=marks)


# ------------------------------------------------------------------------------------------------ checks
def reported_draws(key: str, idata) -> dict[str, np.ndarray]:
    """``{label: (chain, draw)}`` for every quantity the reference reports (labels indexed from 0)."""
    reference, _ = posteriordb_reference(key)
    out = {}
    for label in reference.mean:
        name, _, index = label.partition("[")
        values = idata.posterior[name].values
        out[label] = values[..., int(index.rstrip("]"))] if index else values
    return out


def ultranest_mcse(key: str, idata, label: str, draws: np.ndarray) -> float:
    """bk.compare's convention: Kish's ESS of the weights, or UltraNest's bootstrap error when larger."""
    kish = draws.std(ddof=1) / np.sqrt(float(idata.attrs["ess"]))
    labels = problem(key).layout.labels
    boot = float(idata.attrs["mcse_mean"][labels.index(label)]) if label in labels else 0.0
    return max(kish, boot)


def check_against_reference(key: str, engine: str, idata) -> None:
    reference, ref_mcse = posteriordb_reference(key)
    failures, worst, max_rhat = [], 0.0, 1.0
    for label, draws in reported_draws(key, idata).items():
        ours = ultranest_mcse(key, idata, label, draws) if engine == "ultranest" else diagnostics.mcse_mean(draws)
        tolerance = np.hypot(ref_mcse[label], ours)
        error = (draws.mean() - reference.mean[label]) / tolerance
        worst = max(worst, abs(error))
        if abs(error) > MAX_ERROR_MCSE:
            failures.append(f"{label}: mean {draws.mean():.5g} vs reference {reference.mean[label]:.5g}, "
                            f"{error:+.1f} combined MCSE (ours {ours:.3g}, reference {ref_mcse[label]:.3g})")
        if engine in ("pymc", "metropolis"):
            rhat = diagnostics.rhat(draws)
            max_rhat = max(max_rhat, rhat)
            if rhat > MAX_RHAT:
                failures.append(f"{label}: split R-hat {rhat:.4f} > {MAX_RHAT} "
                                f"(bulk ESS {diagnostics.ess_bulk(draws):.0f})")
    print(f"{key} {engine}: worst |error| {worst:.2f} combined MCSE, max R-hat {max_rhat:.4f}, "
          f"{idata.attrs['wall_time_s']:.1f} s sampling")
    assert not failures, f"{key} on {engine}:\n" + "\n".join(failures)


@pytest.mark.parametrize("key, engine, settings", list(cases()))
def test_reference_posterior(key, engine, settings):
    settings = dict(settings)
    if settings.get("initial") == "earnings_starts":
        settings["initial"] = earnings_starts(settings["chains"], seed=0)
    elif settings.get("initial") == "gauss_mix_starts":
        settings["initial"] = gauss_mix_starts(settings["chains"], seed=0)
    if settings.get("initvals") == "earnings_starts":  # PyMC's form: one {name: value} per chain
        settings["initvals"] = [{"beta": start[:2], "sigma": start[2]}
                                for start in earnings_starts(settings["chains"], seed=0)]
    # the check reads only the posterior: skip the pointwise log-likelihood group (up to 32 000 draws x N
    # observations, compiled and evaluated per run); the draws are the same with or without it
    idata = bk.sample(problem(key), engine, seed=1, progressbar=False, log_likelihood=False, **settings)
    check_against_reference(key, engine, idata)


def test_nested_sampling_refuses_ordered_mixture():
    """low_dim_gauss_mix's mu1 < mu2 lives in the ordered transform, which no prior transform honours."""
    with pytest.raises((NotImplementedError, ValueError), match=r"(?i)'mu'.*ordered"):
        bk.sample(problem("low_dim_gauss_mix"), "ultranest", seed=1, progressbar=False)


def test_reference_names():
    reference, mcse = posteriordb_reference("gp_pois_regr-gp_pois_regr")
    assert set(reference.mean) == set(mcse) == {"rho", "alpha", *(f"f[{i}]" for i in range(11))}
    with pytest.raises(KeyError, match="unknown posteriordb posterior"):
        posteriordb_reference("dogs")
