"""Engines "nutpie", "numpyro" and "blackjax" (PyMC's external NUTS samplers, bayeskit.engines.external_nuts).

Each engine is checked on an exact posterior (a normal model with a HalfNormal scale, sampled on log sigma, so
that the log-Jacobian of a transform matters; reference by quadrature), on a posteriordb reference (eight schools, as in test_posteriordb.py), for a result as
complete as engine "pymc"'s, and for the refusals (discrete parameters, minibatches, a missing extra).

Tolerances: posterior means and sds within 4 Monte Carlo standard errors of the exact values (bk.compare's
MCSE from the ESS; a correct sampler exceeds 4 MCSE with probability ~6e-5 per quantity); posteriordb means
within 4 combined MCSEs of the reference (test_posteriordb's rule) and split R-hat <= 1.01. Runs are kept short
because each JAX engine spends several seconds compiling its sampling loop.
"""

import sys

import numpy as np
import pytest

import bayeskit as bk
from bayeskit import Problem
from bayeskit.models import four_gift_model

EXTERNAL = ["nutpie", "numpyro", "blackjax"]


def _installed(engine):
    """The engine's library can be imported (looked up without importing it, so JAX is not started here)."""
    import importlib.util

    from bayeskit.engines.external_nuts import EXTRAS

    return importlib.util.find_spec(EXTRAS[engine][0]) is not None


ENGINES = [pytest.param(e, marks=pytest.mark.skipif(not _installed(e), reason=f"{e} not installed")) for e in EXTERNAL]


@pytest.fixture(scope="module")
def gift():
    model = four_gift_model(noise_sd=0.5)
    return model, model.problem()


@pytest.fixture(scope="module")
def normal_halfnormal():
    """mu ~ N(0, 5), sigma ~ HalfNormal(2), 12 normal observations: sigma is sampled as log sigma (a transform with
    log-Jacobian log sigma); the exact posterior by quadrature on a 401 x 401 grid (the box holds all but ~2e-5 of
    the mass)."""
    import pymc as pm

    y = np.random.default_rng(8).normal(1.5, 1.2, size=12)
    with pm.Model() as model:
        mu = pm.Normal("mu", np.float64(0), np.float64(5))
        sigma = pm.HalfNormal("sigma", np.float64(2))
        pm.Normal("y", mu, sigma, observed=y)
    problem = Problem.from_pymc(model)
    grid = bk.exact.grid_posterior(problem.log_posterior, [(-2.5, 5.5), (0.2, 4.5)], n=401, names=["mu", "sigma"])
    return problem, grid.reference()


@pytest.mark.parametrize("engine", ENGINES)
def test_exact_posterior_and_complete_result(normal_halfnormal, engine):
    problem, reference = normal_halfnormal
    idata = bk.sample(problem, engine, draws=1000, tune=500, chains=2, seed=3, progressbar=False)
    # a wrong posterior moves a mean or an sd by many MCSEs: e.g. the log-Jacobian of sigma's log transform dropped
    # or doubled moves E[sigma] from 1.566 to 1.494 or 1.648 (quadrature), 6-7 MCSEs at ESS ~1000 (sd 0.36), so
    # the 4-MCSE bound catches it with probability ~0.99; a mis-mapped parameter vector moves it further
    table = bk.compare({engine: idata}, reference)
    assert table["error_mcse"].abs().max() < 4, table
    assert table["sd_error_mcse"].abs().max() < 4, table
    # the same groups, variables and dims as engine "pymc" gives (regression check of the result's layout; nutpie's
    # extra sigma_log__ is dropped)
    assert set(idata.groups()) >= {"posterior", "sample_stats", "log_likelihood", "observed_data"}
    assert sorted(idata.posterior.data_vars) == ["mu", "sigma"]
    assert idata.posterior["sigma"].dims == ("chain", "draw")
    assert idata.log_likelihood["y"].shape == (2, 1000, 12)
    for name in ("lp", "diverging", "n_steps", "tree_depth", "acceptance_rate", "energy"):
        assert name in idata.sample_stats, name
    # lp is the model's log density at the draw on the unconstrained space, log-Jacobian included (catches PyMC's
    # NumPyro path storing the potential energy, -logp, and an lp without the Jacobian, which differs by log sigma)
    model = problem.pymc_model
    logp, logp_no_jacobian = model.compile_logp(), model.compile_logp(jacobian=False)
    mu, sigma = idata.posterior["mu"].values, idata.posterior["sigma"].values
    for chain, draw in [(0, 0), (1, 500)]:
        point = {"mu": mu[chain, draw], "sigma_log__": np.log(sigma[chain, draw])}
        assert abs(logp(point) - logp_no_jacobian(point)) > 1e-3  # this draw tells the two apart (|log sigma| > 1e-3)
        assert idata.sample_stats["lp"].values[chain, draw] == pytest.approx(logp(point), rel=1e-6, abs=1e-6)
    attrs = idata.attrs
    assert attrs["engine"] == engine and attrs["seed"] == 3 and attrs["wall_time_s"] > 0
    assert attrs["sampling_time_s"] > 0 and attrs["tune"] == 500 and attrs["n_divergences"] == 0
    # timing facts are defined alike on every engine: the sampler call minus the compilation inside it
    assert 0 < attrs["sampling_without_compile_s"] <= attrs["sampling_time_s"]
    assert 0 < attrs["result_time_s"] < attrs["wall_time_s"]
    if engine == "nutpie":  # nutpie keeps its warm-up statistics: every leapfrog step is counted
        assert attrs["n_evaluations"] > int(idata.sample_stats["n_steps"].sum())
        assert attrs["sampling_without_compile_s"] == attrs["sampling_time_s"]  # numba compiles before the call
    else:  # PyMC's JAX path reports the kept draws' steps only: unknown total, never a placeholder
        assert attrs["n_evaluations"] is None
        assert attrs["n_gradient_evaluations_draws"] == int(idata.sample_stats["n_steps"].sum())
        assert 0 < attrs["jax_compile_in_sampling_s"] <= attrs["jax_compile_time_s"] <= attrs["wall_time_s"]
        assert attrs["sampling_without_compile_s"] == pytest.approx(
            attrs["sampling_time_s"] - attrs["jax_compile_in_sampling_s"])


@pytest.mark.parametrize("engine", ENGINES)
def test_posteriordb_eight_schools(engine):
    from test_posteriordb import check_against_reference, problem

    from bayeskit import diagnostics
    from test_posteriordb import reported_draws

    idata = bk.sample(problem("eight_schools"), engine, draws=800, tune=500, chains=4, target_accept=0.9, seed=1,
                      progressbar=False)
    check_against_reference("eight_schools", engine, idata)  # means within 4 combined MCSEs
    # convergence (the reference check bounds R-hat only for engines it knows): split R-hat <= 1.01
    worst = max(diagnostics.rhat(d) for d in reported_draws("eight_schools", idata).values())
    assert worst <= 1.01, worst


@pytest.mark.parametrize("engine", ENGINES)
def test_same_seed_same_numbers(gift, engine):
    _, problem = gift
    runs = [bk.sample(problem, engine, draws=50, tune=50, chains=2, seed=7, progressbar=False,
                      compute_convergence_checks=False) for _ in range(2)]
    np.testing.assert_array_equal(runs[0].posterior["w"].values, runs[1].posterior["w"].values)


@pytest.mark.parametrize("engine", EXTERNAL)
def test_discrete_parameters_and_minibatches_are_refused(engine):
    import pymc as pm

    from bayeskit.models.regression import linear_regression_model

    with pm.Model() as model:
        k = pm.Poisson("k", 3.0)
        pm.Normal("y", k, 1.0, observed=[2.0, 3.5])
    with pytest.raises(ValueError, match=rf"engine {engine!r} needs continuous parameters, but \['k'\] are discrete"):
        bk.sample(Problem.from_pymc(model), engine, progressbar=False)
    rng = np.random.default_rng(0)
    X = np.column_stack([np.ones(200), rng.normal(size=200)])
    minibatch = Problem.from_pymc(linear_regression_model(X, X @ [1.0, 2.0] + rng.normal(size=200), batch_size=50))
    with pytest.raises(ValueError, match=f"random minibatches.*{engine!r} needs the likelihood of all the data"):
        bk.sample(minibatch, engine, progressbar=False)


@pytest.mark.parametrize("engine, extra", [("nutpie", "nutpie"), ("numpyro", "jax"), ("blackjax", "jax")])
def test_a_missing_library_names_the_extra(gift, engine, extra, monkeypatch):
    from bayeskit.engines.external_nuts import EXTRAS

    monkeypatch.setitem(sys.modules, EXTRAS[engine][0], None)  # makes `import <library>` raise ImportError
    with pytest.raises(ImportError, match=rf'engine {engine!r} needs .*pip install -e "\.\[{extra}\]"'):
        bk.sample(gift[1], engine, draws=10, tune=10, chains=1, progressbar=False)


def test_bad_input_is_refused_as_for_every_engine(gift):
    _, problem = gift
    with pytest.raises(ValueError, match="has no option 'target_acept' \\(did you mean 'target_accept'\\?\\)"):
        bk.sample(problem, "numpyro", target_acept=0.9, progressbar=False)
    with pytest.raises(ValueError, match="target_accept must be in \\(0, 1\\)"):
        bk.sample(problem, "nutpie", target_accept=1.5, progressbar=False)
    with pytest.raises(ValueError, match="build it with Problem.from_pymc"):
        from scipy import stats

        bk.sample(Problem({"mu": stats.norm(0, 1)}, lambda p: -0.5 * p["mu"] ** 2), "nutpie", progressbar=False)


def test_jax_platform_setting_is_left_to_the_user(monkeypatch):
    from bayeskit.engines.external_nuts import quiet_jax_platforms

    monkeypatch.setenv("JAX_PLATFORMS", "cuda")
    quiet_jax_platforms()
    assert sys.modules.get("os").environ["JAX_PLATFORMS"] == "cuda"  # a user's choice is kept


def test_compile_spans_counted_once():
    from bayeskit.engines.external_nuts import _union_length

    # nested and overlapping spans count once (regression check of the union)
    assert _union_length([(0.0, 2.0), (0.5, 1.0), (1.5, 3.0), (5.0, 6.0)]) == pytest.approx(4.0)


def test_compile_time_clipped_to_a_window():
    jax = pytest.importorskip("jax")

    from bayeskit.engines.external_nuts import jax_compile_timer

    # spans reported by JAX are clipped to the sampler call's window (regression check of the clipping)
    with jax_compile_timer() as compile_time:
        for start, end in [(0.0, 2.0), (1.5, 3.0), (5.0, 6.0)]:
            jax.monitoring.record_event_time_span("/jax/core/compile/backend_compile_duration", start, end)
    assert compile_time() == pytest.approx(4.0)
    assert compile_time(within=(1.0, 5.5)) == pytest.approx(2.5)
