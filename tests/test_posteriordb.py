"""External check: reproduce posteriordb's reference posteriors (Stan NUTS, 10 x 1000 draws).

Tolerance: a posterior mean may differ from the reference by 4 combined Monte Carlo errors,
sqrt(mcse_ref^2 + mcse_ours^2), as advised in shared/refs/README.md.
"""

import numpy as np
import pytest

import bayeskit as bk
from bayeskit import Problem, diagnostics
from bayeskit.models.posteriordb import eight_schools_noncentered, kidscore_momiq, posteriordb_reference


def check_means(draws_by_label, name):
    reference, ref_mcse = posteriordb_reference(name)
    for label, draws in draws_by_label.items():
        ours = diagnostics.mcse_mean(draws)
        tolerance = 4 * np.hypot(ref_mcse[label], ours)
        error = draws.mean() - reference.mean[label]
        assert abs(error) < tolerance, f"{name} {label}: {draws.mean():.4f} vs {reference.mean[label]:.4f} (tol {tolerance:.4f})"


def eight_schools_draws(idata):
    post = idata.posterior
    theta = post["mu"].values[..., None] + post["tau"].values[..., None] * post["theta_tilde"].values
    out = {"mu": post["mu"].values, "tau": post["tau"].values}
    out.update({f"theta[{j}]": theta[..., j] for j in range(8)})
    return out


@pytest.fixture(scope="module")
def eight_schools():
    return Problem.from_pymc(eight_schools_noncentered())


@pytest.fixture(scope="module")
def kidiq():
    return Problem.from_pymc(kidscore_momiq())


def test_eight_schools_pymc(eight_schools):
    idata = bk.sample(eight_schools, "pymc", draws=1000, chains=2, seed=1, progressbar=False, target_accept=0.95)
    check_means(eight_schools_draws(idata), "eight_schools")


def test_eight_schools_metropolis(eight_schools):
    idata = bk.sample(eight_schools, "metropolis", draws=10000, tune=5000, chains=8, seed=1, progressbar=False)
    check_means(eight_schools_draws(idata), "eight_schools")


def test_kidiq_pymc(kidiq):
    idata = bk.sample(kidiq, "pymc", draws=1000, chains=2, seed=1, progressbar=False,
                      initvals={"beta": np.array([26.0, 0.6]), "sigma": 18.0})
    check_means({"beta[0]": idata.posterior["beta"].values[..., 0], "beta[1]": idata.posterior["beta"].values[..., 1],
                 "sigma": idata.posterior["sigma"].values}, "kidiq")


def test_kidiq_metropolis(kidiq):
    start = np.array([26.0, 0.6, 18.0]) + np.random.default_rng(0).normal(size=(4, 3)) * [1.0, 0.01, 0.5]
    idata = bk.sample(kidiq, "metropolis", draws=5000, tune=3000, chains=4, seed=1, progressbar=False, initial=start)
    check_means({"beta[0]": idata.posterior["beta"].values[..., 0], "beta[1]": idata.posterior["beta"].values[..., 1],
                 "sigma": idata.posterior["sigma"].values}, "kidiq")
