"""The UltraNest engine's fast path: ``Problem._log_likelihood_from_transform`` and ``_transform_checked_unit``.

The fast path skips the support mask and the re-checks for points that come from the Problem's own prior
transform (issue 15). These tests check that it gives exactly what the checked public methods give, on points
from the transform and on every other kind of point, and that a run gives the same calls and log Z as UltraNest
driven through the public methods (the engine before the fast path).
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
from scipy import stats

import bayeskit as bk
from bayeskit import Problem
from bayeskit.models.benchmarks import gaussian_shells


def _mixed() -> Problem:
    """Bounded, half-bounded and unbounded priors, a vector parameter among them."""
    priors = {"mu": stats.norm(1.0, 2.0), "sigma": stats.gamma(2.0, scale=0.5), "x": (stats.uniform(-3, 6), (2,)),
              "nu": stats.halfcauchy(0, 1)}

    def loglike(p):
        return (-0.5 * ((p["x"] - p["mu"][:, None]) / p["sigma"][:, None]) ** 2).sum(axis=1) - np.log(1 + p["nu"])

    return Problem(priors, loglike)


def _error(call, x) -> str:
    with pytest.raises(ValueError) as info:
        call(x)
    return str(info.value)


def test_same_values_as_log_likelihood_on_points_of_the_transform():
    # Regression check (an identity, not a statistical test): catches a fast path that drops a term, reorders
    # the parameters or miscounts evaluations. u includes exact 0 and 1, which put points on the bounds of the
    # gamma, uniform and half-Cauchy priors (the fast path must hand those to the checked path, which masks
    # gamma's 0), and 1e-300, far in the normal's and the gamma's tails.
    problem = _mixed()
    u = np.random.default_rng(3).uniform(size=(200, problem.ndim))
    u[:3] = [[0.5, 0.0, 0.0, 1.0, 0.0], [0.5, 0.5, 1.0, 0.0, 0.5], [1e-300, 1e-300, 0.5, 0.5, 1.0 - 1e-16]]
    x = problem.prior_transform(u)
    np.testing.assert_array_equal(problem._transform_checked_unit(u), x)
    before = problem.n_evaluations
    expected = problem.log_likelihood(x)
    counted = problem.n_evaluations - before
    got = problem._log_likelihood_from_transform(x)
    np.testing.assert_array_equal(got, expected)
    assert problem.n_evaluations - before == 2 * counted == 400
    assert expected[0] == -np.inf  # gamma's logpdf at 0 is -inf: masked, on both paths
    inside = problem._log_likelihood_from_transform(x[3:])  # all strictly inside: the fast path itself
    np.testing.assert_array_equal(inside, expected[3:])


def test_points_not_from_the_transform_get_the_checked_path():
    # Regression check: a user's point outside the support, non-finite or of the wrong shape must get exactly
    # log_likelihood's answer or error, never the trusting path's (which would call the likelihood there).
    problem = _mixed()
    outside = np.array([[0.0, -1.0, 0.0, 0.0, 0.5], [0.0, 1.0, 4.0, 0.0, 0.5], [0.0, 1.0, 0.0, 0.0, 0.5]])
    np.testing.assert_array_equal(problem._log_likelihood_from_transform(outside), problem.log_likelihood(outside))
    assert problem._log_likelihood_from_transform(outside)[:2].tolist() == [-np.inf, -np.inf]
    for bad in (np.array([[np.nan, 1.0, 0.0, 0.0, 0.5]]), np.array([[0.0, np.inf, 0.0, 0.0, 0.5]]),
                np.zeros((2, 4)), np.zeros(5)):
        assert _error(problem._log_likelihood_from_transform, bad) == _error(problem.log_likelihood, bad)
    as_list = [[0.0, 1.0, 0.0, 0.0, 0.5]]  # not an array: converted and checked by log_likelihood
    assert problem._log_likelihood_from_transform(as_list) == problem.log_likelihood(as_list)


@pytest.mark.parametrize("answer", ["nan", "+inf", "shape", "-inf", "column"])
def test_the_user_likelihoods_output_gets_the_same_checks(answer):
    # Regression check: the fast path must give log_likelihood's errors for NaN, +inf and a wrong shape, and its
    # values for -inf (a legitimate value) and for an (n, 1) column (which log_likelihood accepts).
    def loglike(p):
        out = -0.5 * p["a"] ** 2
        if len(out) == 4:  # the batch below, not the 3 prior draws checked on construction
            out = out.copy()
            if answer == "nan":
                out[2] = np.nan
            elif answer == "+inf":
                out[1] = np.inf
            elif answer == "-inf":
                out[3] = -np.inf
            elif answer == "shape":
                out = out[:3]
            else:
                out = out[:, None]
        return out

    problem = Problem({"a": stats.norm(0, 1)}, loglike)
    x = problem.prior_transform(np.array([[0.1], [0.4], [0.6], [0.9]]))
    if answer in ("-inf", "column"):
        np.testing.assert_array_equal(problem._log_likelihood_from_transform(x), problem.log_likelihood(x))
    else:
        assert _error(problem._log_likelihood_from_transform, x) == _error(problem.log_likelihood, x)


def test_discrete_parameters_keep_the_checked_path():
    # Regression check: with a discrete parameter there is no fast path (a non-integer value is outside the
    # support, which the interval test would not see).
    problem = Problem({"k": stats.poisson(3.0), "m": stats.norm(0, 1)}, lambda p: -0.5 * (p["k"] - p["m"]) ** 2)
    assert problem._open_support_bounds() is None
    x = np.array([[2.0, 0.1], [2.5, 0.1], [0.0, -1.0]])
    np.testing.assert_array_equal(problem._log_likelihood_from_transform(x), problem.log_likelihood(x))
    assert problem._log_likelihood_from_transform(x)[1] == -np.inf


def _direct_ultranest(problem: Problem, seed: int, n_live: int) -> tuple[float, int]:
    """UltraNest driven through the Problem's public, checked methods: the engine before the fast path."""
    import ultranest

    np.random.seed(seed)
    sampler = ultranest.ReactiveNestedSampler(
        list(problem.layout.labels), lambda x: np.maximum(problem.log_likelihood(x), -1e300), problem.prior_transform,
        vectorized=True, draw_multiple=True, ndraw_min=128, ndraw_max=128)
    for handler in logging.getLogger("ultranest").handlers:
        handler.setLevel(logging.WARNING)
    result = sampler.run(show_status=False, viz_callback=False, min_num_live_points=n_live)
    return float(result["logz"]), int(result["ncall"])


@pytest.mark.filterwarnings("ignore:Sampling from region seems inefficient")  # the same in both runs
@pytest.mark.parametrize("build", [lambda: gaussian_shells(2), _mixed])
def test_a_run_matches_ultranest_through_the_checked_methods(build):
    # Regression check: the same seed must give the same calls and log Z as UltraNest through
    # problem.log_likelihood and problem.prior_transform; catches a fast path that changes any likelihood
    # value or the random stream.
    problem = build()
    logz, ncall = _direct_ultranest(problem, seed=2, n_live=100)
    idata = bk.sample(problem, "ultranest", seed=2, progressbar=False, min_num_live_points=100)
    assert (idata.attrs["log_evidence"], idata.attrs["ncall"]) == (logz, ncall)
    assert idata.attrs["n_evaluations"] >= ncall  # the count includes UltraNest's own test calls
