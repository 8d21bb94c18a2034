"""Coverage of credible intervals over data simulated from the model (bayeskit.calibration)."""

import numpy as np
import pymc as pm
import pytest

from bayeskit.calibration import interval_coverage

N_SIMS = 100
#: The coverage study reads only the posterior draws: the pointwise log-likelihood group, which bk.sample would
#: otherwise compile and evaluate for every fit (about half of a fit's time here), is skipped. The draws, and so
#: the intervals, are the same with or without it. (interval_coverage defaults to this; the tests say it anyway.)
NO_LOG_LIKELIHOOD = dict(log_likelihood=False)


def conjugate_model():
    with pm.Model() as model:
        y = pm.Data("y", np.zeros(5))
        mu = pm.Normal("mu", 0.0, 1.0)
        sigma = pm.HalfNormal("sigma", 1.0)
        pm.Normal("obs", mu, sigma, observed=y)
    return model


def test_a_correct_sampler_covers_at_the_nominal_rate():
    model = conjugate_model()
    cov = interval_coverage(model, "y", "obs", N_SIMS, level=0.9, seed=5, progressbar=False,
                            draws=500, tune=500, chains=4, **NO_LOG_LIKELIHOOD)
    assert cov.truth.shape == (N_SIMS, 2) and cov.labels == ("mu", "sigma")
    # 3 binomial standard errors of one indicator per simulation: sqrt(0.9 * 0.1 / 100) = 0.03 each
    assert cov.tolerance() == pytest.approx(0.09)
    assert abs(cov.rate - 0.9) < cov.tolerance(), cov.rate_per_parameter
    # the model's data are restored afterwards
    np.testing.assert_array_equal(model["y"].get_value(), np.zeros(5))


def test_a_sampler_that_does_not_move_is_caught():
    """Negative control: no warm-up and a tiny step leave each chain at its starting point, a
    draw from the prior's central half; intervals from 4 such points rarely cover."""
    cov = interval_coverage(conjugate_model(), "y", "obs", N_SIMS, level=0.9, seed=5, progressbar=False,
                            draws=50, tune=0, chains=4, proposal_sd=1e-9, **NO_LOG_LIKELIHOOD)
    assert cov.rate < 0.9 - cov.tolerance()


def test_one_simulation_works():
    # Regression check: pm.draw gives a single draw without its leading axis, which once failed in indexing
    cov = interval_coverage(conjugate_model(), "y", "obs", 1, seed=5, progressbar=False, draws=50, tune=50, chains=2)
    assert cov.truth.shape == (1, 2) and cov.lower.shape == cov.upper.shape == (1, 2)


def test_bad_names_are_refused():
    model = conjugate_model()
    with pytest.raises(ValueError, match="no pm.Data named 'x'.*'y'"):
        interval_coverage(model, "x", "obs", 10)
    with pytest.raises(ValueError, match="no observed variable 'y'.*'obs'"):
        interval_coverage(model, "y", "y", 10)
    with pytest.raises(ValueError, match="level"):
        interval_coverage(model, "y", "obs", 10, level=90)


def test_an_executor_gives_the_serial_result():
    """Regression check (deterministic): every fit has its own seed drawn in advance, so two worker processes,
    each compiling its own copy of the model, give the serial intervals bit for bit. Catches seeds shared
    between fits (then the split into chunks would change the draws) and data sent to the wrong fit."""
    from concurrent.futures import ProcessPoolExecutor

    model = conjugate_model()
    kwargs = dict(level=0.9, seed=7, progressbar=False, draws=200, tune=200, chains=2, **NO_LOG_LIKELIHOOD)
    serial = interval_coverage(model, "y", "obs", 6, **kwargs)
    with ProcessPoolExecutor(2) as executor:
        pooled = interval_coverage(model, "y", "obs", 6, executor=executor, **kwargs)
    np.testing.assert_array_equal(pooled.truth, serial.truth)
    np.testing.assert_array_equal(pooled.lower, serial.lower)
    np.testing.assert_array_equal(pooled.upper, serial.upper)
    with pytest.raises(TypeError, match="executor must be a pool or executor with a map"):
        interval_coverage(model, "y", "obs", 6, executor=2)
