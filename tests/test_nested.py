"""The from-scratch nested sampler (bayeskit.samplers.nested) against an exact evidence."""

import numpy as np
import pytest
from scipy import special

from bayeskit.samplers.nested import nested_sampling

S, HALF = 0.5, 5.0  # Gaussian likelihood N(0, S^2 I) in 2-D, prior uniform on [-HALF, HALF]^2
EXACT_LOG_Z = 2 * np.log(special.erf(HALF / (S * np.sqrt(2)))) - 2 * np.log(2 * HALF)


def log_likelihood(x):
    return -0.5 * (x**2).sum(axis=1) / S**2 - np.log(2 * np.pi * S**2)


def prior_draws(rng, n):
    return rng.uniform(-HALF, HALF, size=(n, 2))


def test_evidence_and_its_error_are_honest():
    # Over 20 independent runs the error estimate sqrt(H / n_live) should cover the exact log Z at
    # 2 sigma about 95% of the time; allow 3 misses in 20 (binomial P(>3 misses) ~ 1.6% if calibrated).
    results = [nested_sampling(log_likelihood, prior_draws, n_live=100, seed=seed) for seed in range(20)]
    z = np.array([(r.log_evidence - EXACT_LOG_Z) / r.log_evidence_err for r in results])
    assert np.sum(np.abs(z) > 2) <= 3, z
    assert abs(np.mean([r.log_evidence for r in results]) - EXACT_LOG_Z) < 3 * results[0].log_evidence_err / np.sqrt(20)
    # information: log(prior area / posterior area) - 1 = log(100 / (2 pi S^2)) - 1 for a Gaussian in a wide box
    assert results[0].information == pytest.approx(np.log((2 * HALF) ** 2 / (2 * np.pi * S**2)) - 1, abs=0.3)


def test_weighted_samples_describe_the_posterior():
    r = nested_sampling(log_likelihood, prior_draws, n_live=200, seed=1)
    w = np.exp(r.log_weights)
    assert w.sum() == pytest.approx(1.0)
    mean = w @ r.points
    sd = np.sqrt(w @ (r.points - mean) ** 2)
    # Kish ESS of the weights sets the Monte Carlo error; with ESS > 500 the mean is within ~0.1 S
    ess = 1 / (w**2).sum()
    assert ess > 500
    np.testing.assert_allclose(mean, 0.0, atol=4 * S / np.sqrt(ess))
    np.testing.assert_allclose(sd, S, rtol=0.1)
    assert r.resample(1000, seed=2).shape == (1000, 2)
    # acceptance of rejection from the prior falls like the remaining volume exp(-i / n_live)
    assert r.acceptance[-1] < 0.05 < r.acceptance[0]


def test_rejection_gives_up_with_a_clear_error():
    with pytest.raises(RuntimeError, match="use a real nested sampler"):
        nested_sampling(log_likelihood, prior_draws, n_live=50, max_calls=2000, seed=0)
    with pytest.raises(ValueError, match="shape"):
        nested_sampling(log_likelihood, lambda rng, n: rng.uniform(size=n), n_live=10)


def test_needed_calls_count_draws_up_to_the_first_success():
    # 1-D, likelihood N(0, 1) under a uniform prior on [-5, 5]: cheap runs of a few hundred iterations.
    def loglike(x):
        return -0.5 * (x**2).sum(axis=1)

    def draws(rng, n):
        return rng.uniform(-5, 5, size=(n, 1))

    n_live = 20
    one = nested_sampling(loglike, draws, n_live=n_live, batch=1, seed=3)
    assert one.n_likelihood_needed == one.n_likelihood_calls  # regression check: batch 1 evaluates only what is needed
    runs = [nested_sampling(loglike, draws, n_live=n_live, batch=64, seed=seed) for seed in range(40)]
    for run in runs:  # regression checks: the batch floor, and needed <= evaluated
        assert run.n_likelihood_calls >= n_live + 64 * run.n_iterations and run.n_likelihood_calls >= run.n_likelihood_needed
    # Rejection at iteration i needs a geometric number of draws, mean 1 / X_i; X_i is a product of i
    # independent Beta(n_live, 1) shrinkages, so E[1 / X_i] = (n_live / (n_live - 1))^i. The runs' mean of
    # needed / (n_live + sum_i E[1 / X_i]) must be 1 within 4 standard errors of the mean over the 40 runs
    # (about 0.1 here; the stopping rule depends on the run, a small effect next to that). Counting whole
    # batches instead gives a ratio of about 1.6 on these runs (7 standard errors), counting only the
    # successes about 0.01.
    ratio = np.array([r.n_likelihood_needed / (n_live + ((n_live / (n_live - 1)) ** np.arange(1, r.n_iterations + 1)).sum())
                      for r in runs])
    assert abs(ratio.mean() - 1) < 4 * ratio.std(ddof=1) / np.sqrt(len(ratio)), (ratio.mean(), ratio.std(ddof=1))
