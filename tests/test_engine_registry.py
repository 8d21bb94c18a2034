"""The engine registry, the shared run record and the checks ``bk.sample`` makes for every engine.

Most tests here are about refusals (no sampling happens) and run in milliseconds; the few that sample use
tiny runs. Statistical asserts say what defect they catch and where their tolerance comes from.
"""

import logging
import warnings

import numpy as np
import pytest
from scipy import stats

import bayeskit as bk
from bayeskit import Problem
from bayeskit.engines import ENGINES
from bayeskit.models import four_gift_model

ALL_ENGINES = ["metropolis", "emcee", "pymc", "ultranest", "advi", "fullrank_advi", "hmc", "nuts"]
# PyMC's other NUTS engines (optional extras; their runs are tested in test_external_nuts.py, where a run compiles
# through JAX or nutpie): here only the declarations and the refusals, which happen before anything is compiled
EXTERNAL_NUTS = ["nutpie", "numpyro", "blackjax"]


@pytest.fixture(scope="module")
def gift():
    """Continuous, built from PyMC: every engine accepts it."""
    return four_gift_model(noise_sd=0.5).problem()


@pytest.fixture(scope="module")
def normal_1d():
    """One parameter, scipy priors: cheap for metropolis, emcee and ultranest."""
    return Problem({"mu": stats.norm(0, 1)}, lambda p: -0.5 * ((p["mu"] - 0.5) / 0.5) ** 2)


@pytest.fixture(scope="module")
def mu_sigma():
    """(mu, sigma) with sigma > 0: a point with sigma < 0 has log posterior -inf."""
    y = np.array([4.1, 5.3, 6.0, 4.7, 5.5])
    return Problem({"mu": stats.norm(0, 10), "sigma": stats.halfnorm(scale=5)},
                   lambda p: stats.norm.logpdf(y, p["mu"][:, None], p["sigma"][:, None]).sum(axis=1))


# ----------------------------------------------------------------------------------------------- the registry
def test_every_engine_declares_itself():
    assert sorted(ENGINES) == sorted(ALL_ENGINES + EXTERNAL_NUTS)
    facts = {name: (e.discrete, e.minibatch, e.needs_pymc, e.has_tune, e.chains) for name, e in ENGINES.items()}
    assert facts == {
        "metropolis": (True, False, False, True, None),
        "emcee": (False, False, False, True, None),
        "pymc": (True, False, True, True, None),
        "ultranest": (True, False, False, False, 1),
        "advi": (False, True, True, False, 1),
        "fullrank_advi": (False, True, True, False, 1),
        "hmc": (False, False, False, True, None),
        "nuts": (False, False, False, True, None),
        "nutpie": (False, False, True, True, None),
        "numpyro": (False, False, True, True, None),
        "blackjax": (False, False, True, True, None),
    }
    for name, engine in ENGINES.items():
        assert engine.name == name and callable(engine.load())
        assert engine.default_draws == (None if name == "ultranest" else 1000)
        options = engine.options
        assert options, name
        for option in options.values():
            assert option.doc and "\n" not in option.doc, (name, option.name)
        assert ("tune" in options) == engine.has_tune, name


def test_pymc_options_come_from_pm_sample_and_nuts():
    options = ENGINES["pymc"].options
    for name in ("tune", "step_factory", "log_likelihood", "cores", "init", "initvals", "idata_kwargs",
                 "target_accept", "max_treedepth", "step_scale", "nuts"):
        assert name in options, name
    for reserved in ("draws", "chains", "random_seed", "progressbar", "step", "model", "discard_tuned_samples"):
        assert reserved not in options, reserved
    assert options["cores"].default == 1  # bayeskit's default: reproducible, no process start-up
    assert options["max_treedepth"].default == 10  # PyMC's own default, read from NUTS's signature


def test_advi_options_are_ours_plus_pm_fit():
    options = ENGINES["advi"].options
    for name in ("n", "obj_n_mc", "learning_rate", "average_fraction", "callbacks", "obj_optimizer",
                 "total_grad_norm_constraint", "start", "tf_n_mc"):
        assert name in options, name
    assert options["n"].default == 20000
    for reserved in ("method", "random_seed", "model", "progressbar"):
        assert reserved not in options, reserved


@pytest.mark.parametrize("engine,typo,meant", [
    ("metropolis", "tuen", "tune"),
    ("metropolis", "proposal_scale", "proposal_sd"),
    ("emcee", "inital", "initial"),
    ("pymc", "target_acept", "target_accept"),
    ("ultranest", "min_num_live_point", "min_num_live_points"),
    ("advi", "learning_rat", "learning_rate"),
    ("fullrank_advi", "obj_nmc", "obj_n_mc"),
])
def test_unknown_options_are_refused_the_same_way_everywhere(gift, engine, typo, meant):
    with pytest.raises(ValueError) as info:
        bk.sample(gift, engine, progressbar=False, **{typo: 1})
    message = str(info.value)
    assert f"engine {engine!r} has no option {typo!r} (did you mean {meant!r}?)" in message
    assert "its options are:" in message and meant in message.split("its options are:")[1]


def test_sample_arguments_passed_under_an_engine_s_own_name_get_a_pointer(gift):
    with pytest.raises(ValueError, match=r"has no option 'random_seed' \(pass it as sample\(seed=...\)\)"):
        bk.sample(gift, "pymc", random_seed=1, progressbar=False)
    with pytest.raises(ValueError, match=r"engine 'ultranest' has no option 'tune' \(it has no warm-up\)"):
        bk.sample(gift, "ultranest", tune=100, progressbar=False)


@pytest.mark.parametrize("engine", ALL_ENGINES + EXTERNAL_NUTS)
def test_bad_seeds_are_refused_on_every_engine(gift, engine):
    expected = "seed must be None, a non-negative int, a numpy SeedSequence or a numpy Generator"
    for bad in ("abc", 1.5, True, [1, 2]):
        with pytest.raises(TypeError, match=f"{expected}, got {type(bad).__name__}"):
            bk.sample(gift, engine, seed=bad, progressbar=False)
    with pytest.raises(ValueError, match="seed must be a non-negative integer, got -1"):
        bk.sample(gift, engine, seed=-1, progressbar=False)


@pytest.mark.parametrize("engine", ["metropolis", "emcee", "pymc"])
def test_tune_must_be_a_non_negative_integer(gift, engine):
    with pytest.raises(ValueError, match="tune must be >= 0, got -3"):
        bk.sample(gift, engine, tune=-3, progressbar=False)
    with pytest.raises(TypeError, match=r"tune must be an integer >= 0, got 2.5 \(float\)"):
        bk.sample(gift, engine, tune=2.5, progressbar=False)


@pytest.mark.parametrize("engine", ALL_ENGINES + EXTERNAL_NUTS)
def test_draws_and_chains_must_be_positive_integers(gift, engine):
    for name, bad, error, message in [("draws", 0, ValueError, "draws must be >= 1, got 0"),
                                      ("draws", 10.0, TypeError, r"draws must be an integer >= 1, got 10.0 \(float\)"),
                                      ("chains", 0, ValueError, "chains must be >= 1, got 0"),
                                      ("chains", "4", TypeError, r"chains must be an integer >= 1, got '4' \(str\)")]:
        with pytest.raises(error, match=message):
            bk.sample(gift, engine, progressbar=False, **{name: bad})


@pytest.mark.parametrize("engine", ["ultranest", "advi", "fullrank_advi"])
def test_single_chain_engines_refuse_more_chains(gift, engine):
    with pytest.raises(ValueError, match=f"engine {engine!r} .*: chains must be 1 or None, got 2"):
        bk.sample(gift, engine, chains=2, progressbar=False)


@pytest.mark.parametrize("engine", ["advi", "fullrank_advi"])
def test_advi_iterations_must_be_a_positive_integer(gift, engine):
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        bk.sample(gift, engine, n=0, progressbar=False)
    with pytest.raises(TypeError, match=r"n must be an integer >= 1, got 100.0 \(float\)"):
        bk.sample(gift, engine, n=100.0, progressbar=False)


def test_minibatch_models_run_on_advi_only():
    from bayeskit.models.regression import linear_regression_model

    rng = np.random.default_rng(0)
    X = np.column_stack([np.ones(200), rng.normal(size=200)])
    problem = Problem.from_pymc(linear_regression_model(X, X @ [1.0, 2.0] + rng.normal(size=200), batch_size=50))
    for engine in ("metropolis", "emcee", "pymc", "ultranest"):
        with pytest.raises(ValueError, match=f"random minibatches.*{engine!r} needs the likelihood of all the data"):
            bk.sample(problem, engine, progressbar=False)


# ------------------------------------------------------------------------------------ the shared run record
def _tiny_run(engine, gift, normal_1d, seed):
    """The cheapest run of each engine (the ADVI ones are far from converged and say so)."""
    options = {"metropolis": dict(draws=20, tune=20, chains=2), "emcee": dict(draws=20, tune=20, chains=4),
               "pymc": dict(draws=20, tune=20, chains=1),
               "ultranest": dict(min_num_live_points=20, max_num_improvement_loops=0),
               "advi": dict(draws=20, n=30), "fullrank_advi": dict(draws=20, n=30),
               "hmc": dict(draws=20, tune=20, chains=2), "nuts": dict(draws=20, tune=20, chains=2)}[engine]
    problem = normal_1d if engine in ("metropolis", "emcee", "ultranest") else gift
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return bk.sample(problem, engine, seed=seed, progressbar=False, **options)


@pytest.mark.parametrize("engine", ALL_ENGINES)
def test_every_result_carries_the_run_record_and_a_generator_seed_works(gift, normal_1d, engine):
    idata = _tiny_run(engine, gift, normal_1d, np.random.default_rng(11))
    attrs = idata.attrs
    assert attrs["engine"] == engine and attrs["seed"] == "generator"
    assert isinstance(attrs["wall_time_s"], float) and attrs["wall_time_s"] > 0
    assert isinstance(attrs["n_evaluations"], int) and attrs["n_evaluations"] > 0
    assert isinstance(attrs["warnings"], list) and all(isinstance(w, str) for w in attrs["warnings"])
    # the same Generator state gives the same numbers: the seed is drawn from it, not ignored
    again = _tiny_run(engine, gift, normal_1d, np.random.default_rng(11))
    first = next(iter(idata.posterior.data_vars))
    np.testing.assert_array_equal(idata.posterior[first].values, again.posterior[first].values)


def test_pymc_evaluations_are_none_when_the_step_is_not_nuts(gift):
    import pymc as pm

    idata = bk.sample(gift, "pymc", draws=20, tune=20, chains=1, seed=1, progressbar=False,
                      step_factory=lambda: pm.Metropolis())
    assert idata.attrs["n_evaluations"] is None  # not -1: unknown is None


# ------------------------------------------------------------------------------------ ultranest's draws
def test_ultranest_draws_resample_its_weighted_samples(normal_1d):
    fast = dict(min_num_live_points=100, max_num_improvement_loops=0)  # one pass, no improvement loops
    kept = bk.sample(normal_1d, "ultranest", seed=4, progressbar=False, **fast)
    assert kept.posterior.sizes["draw"] == kept.attrs["n_equal_weighted"]  # None: all of UltraNest's samples
    runs = [bk.sample(normal_1d, "ultranest", draws=500, seed=4, progressbar=False, **fast) for _ in range(2)]
    x = runs[0].posterior["mu"].values
    assert x.shape == (1, 500)
    np.testing.assert_array_equal(x, runs[1].posterior["mu"].values)  # seeded resampling
    # 500 resampled draws carry at most 500 draws' worth of information: the reported ESS says so
    assert runs[0].attrs["ess"] < 500 < runs[0].attrs["ess_kish"] + 500
    assert runs[0].attrs["ess_kish"] == pytest.approx(kept.attrs["ess"])  # same run, same weights
    # exact posterior of mu: N(0.4, 0.2) (prior N(0, 1), likelihood N(0.5, 0.5^2)). Catches resampling with the
    # wrong weights (e.g. uniform: the prior-volume points pull the mean towards 0 and widen the sd): the mean
    # must be within 4 standard errors sd / sqrt(ESS) (the ESS reported, which includes the resampling noise).
    post_var = 1 / (1 + 1 / 0.25)
    post_mean, post_sd = post_var * 0.5 / 0.25, np.sqrt(post_var)
    assert abs(x.mean() - post_mean) < 4 * post_sd / np.sqrt(runs[0].attrs["ess"])
    # and the sd within 4 of its standard errors, sd / sqrt(2 ESS) for a Gaussian
    assert abs(x.std() - post_sd) < 4 * post_sd / np.sqrt(2 * runs[0].attrs["ess"])


def test_default_draws_is_the_engine_s_default(normal_1d):
    idata = bk.sample(normal_1d, "metropolis", chains=1, tune=10, seed=1, progressbar=False)
    assert idata.posterior.sizes["draw"] == 1000


# ------------------------------------------------------------------------------------ pymc: warnings, full result
def _readme_model():
    import pymc as pm

    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 10)
        sigma = pm.HalfNormal("sigma", 5)
        pm.Normal("y", mu, sigma, observed=[4.1, 5.3, 6.0, 4.7, 5.5])
    return model


def test_pymc_shows_and_records_its_convergence_warnings(caplog):
    """The README's model, as the outside user ran it: NUTS diverges there, and bayeskit used to say nothing."""
    problem = Problem.from_pymc(_readme_model())
    with caplog.at_level(logging.WARNING, logger="pymc"):
        idata = bk.sample(problem, "pymc", draws=2000, chains=4, seed=1, progressbar=False)
    n_div = int(idata.sample_stats["diverging"].sum())
    assert n_div > 0 and idata.attrs["n_divergences"] == n_div
    shown = [r.getMessage() for r in caplog.records if r.name.startswith("pymc") and r.levelno >= logging.WARNING]
    assert any(f"There were {n_div} divergences" in m for m in shown), shown
    assert any(f"There were {n_div} divergences" in w for w in idata.attrs["warnings"])
    # R-hat is recorded as a number (not None/NaN, not a -1 placeholder); 4 chains x 2000 draws of this 2-d posterior
    # mix well (R-hat 1.003 measured), so 1.1, the old rule of thumb, is a loose bound that only a broken computation
    # (e.g. over the unconstrained log-sigma draws of one chain) would break
    assert 1.0 < idata.attrs["max_r_hat"] < 1.1


def test_pymc_returns_the_complete_result(gift):
    import pymc as pm

    with pm.Model() as model:
        x = pm.Data("x", np.array([0.0, 1.0, 2.0]))
        slope = pm.Normal("slope", 0, 1)
        pm.Deterministic("doubled", 2 * slope)
        pm.Normal("y", slope * x, 1.0, observed=[0.1, 0.9, 2.2])
    idata = bk.sample(Problem.from_pymc(model), "pymc", draws=30, tune=30, chains=1, seed=1, progressbar=False)
    assert set(idata.groups()) == {"posterior", "sample_stats", "log_likelihood", "observed_data", "constant_data"}
    assert set(idata.posterior.data_vars) == {"slope", "doubled"}
    np.testing.assert_allclose(idata.posterior["doubled"].values, 2 * idata.posterior["slope"].values)
    assert idata.log_likelihood["y"].shape == (1, 30, 3)
    assert idata.attrs["log_likelihood"].startswith("computed")


def test_pymc_skips_a_huge_log_likelihood_and_says_so(gift, monkeypatch):
    from bayeskit import results

    assert results.LOG_LIKELIHOOD_MAX_VALUES == 2e7
    # 1 chain x 10 draws x 3 bags = 30 values: over a limit of 29, under one of 30
    monkeypatch.setattr(results, "LOG_LIKELIHOOD_MAX_VALUES", 29)
    skipped = bk.sample(gift, "pymc", draws=10, tune=10, chains=1, seed=1, progressbar=False)
    assert "log_likelihood" not in skipped.groups() and skipped.attrs["log_likelihood"].startswith("not computed")
    assert "log_likelihood=True" in skipped.attrs["log_likelihood"]
    forced = bk.sample(gift, "pymc", draws=10, tune=10, chains=1, seed=1, progressbar=False, log_likelihood=True)
    assert forced.log_likelihood["bags"].shape == (1, 10, 3)
    monkeypatch.setattr(results, "LOG_LIKELIHOOD_MAX_VALUES", 30)
    kept = bk.sample(gift, "pymc", draws=10, tune=10, chains=1, seed=1, progressbar=False)
    assert "log_likelihood" in kept.groups()


def test_pymc_engine_accepts_initval_with_log_likelihood():
    """Before: pm.sample's own log-likelihood code raised 'Cannot convert models with non-default initial_values'."""
    import pymc as pm

    with pm.Model() as model:
        mu = pm.Normal("mu", [-1.0, 1.0], 2.0, transform=pm.distributions.transforms.ordered, initval=[-1.0, 1.0])
        pm.Normal("y", mu.sum(), 1.0, observed=[0.5, 0.2])
    idata = bk.sample(Problem.from_pymc(model), "pymc", draws=20, tune=20, chains=1, seed=1, progressbar=False)
    assert idata.log_likelihood["y"].shape == (1, 20, 2)


# ------------------------------------------------------------------------------------ ADVI convergence
def _regression(n_rows, coefficients, sigma, seed, x_mean=0.0, alpha_sd=10.0):
    """y = alpha + z @ beta + N(0, sigma): alpha ~ N(0, alpha_sd), beta ~ N(0, 10), sigma ~ HalfNormal(10)."""
    import pymc as pm

    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n_rows, len(coefficients) - 1)) + x_mean
    y = coefficients[0] + z @ np.asarray(coefficients[1:]) + rng.normal(0, sigma, n_rows)
    with pm.Model() as model:
        alpha = pm.Normal("alpha", 0, alpha_sd)
        beta = pm.Normal("beta", 0, 10, shape=z.shape[1])
        s = pm.HalfNormal("sigma", 10)
        pm.Normal("y", alpha + pm.math.dot(z, beta), s, observed=y)
    return Problem.from_pymc(model)


def test_advi_warns_about_a_fit_that_is_still_far_too_wide():
    """A 6-parameter regression stopped early: full-rank ADVI's sds are still ~11 times too wide and sigma is ~17
    against 1.1 (measured, see bayeskit.engines.advi), yet each half-window moves by only ~0.1 of those wide sds:
    the steady trend gives it away."""
    from bayeskit.engines import advi

    problem = _regression(100, [1.0, 2.0, -1.0, 0.5, 0.0], 1.0, seed=0)
    with pytest.warns(UserWarning, match=r"fullrank_advi has not converged after n=300 iterations: .* moved from .*"
                                         r"times its own batch-to-batch noise.*Run more iterations.*learning_rate"):
        idata = bk.sample(problem, "fullrank_advi", draws=10, seed=1, progressbar=False, n=300)
    assert idata.attrs["converged"] is False and "has not converged" in idata.attrs["warnings"][0]
    # the defect this catches: a fit judged by the size of its move alone passes (the move is below the threshold)
    assert idata.attrs["drift"] < advi.MOVE_THRESHOLD


def test_advi_warns_about_a_fit_stuck_on_a_ridge():
    """Intercept and slope correlated -0.99995 (predictor far from 0): mean-field ADVI leaves alpha near its start 0,
    against -66 (the outside user's alpha 9.35 against -60.7), and the fit is still sliding along the ridge."""
    problem = _regression(100, [-60.7, 0.7], 1.0, seed=0, x_mean=100.0, alpha_sd=100.0)
    with pytest.warns(UserWarning, match=r"advi has not converged after n=2000 iterations"):
        idata = bk.sample(problem, "advi", draws=10, seed=1, progressbar=False, n=2000)
    assert idata.attrs["converged"] is False
    # alpha's exact posterior mean is -66 (least squares, se 10; its N(0, 100) prior barely matters): the fit is
    # more than 5 posterior sds away, so warning about it is right (not a false alarm)
    assert idata.posterior["alpha"].mean() > -66 + 5 * 10


def test_the_convergence_rule_on_constructed_trajectories():
    """The rule itself, on batch series built by hand (deterministic, no fitting)."""
    from bayeskit.engines.advi import _check_convergence, convergence_statistics

    def check(means, sds, elbo=-10.0):
        batches = (np.asarray(means, float)[:, None], np.asarray(sds, float)[:, None])
        stats = convergence_statistics(batches, sds[-1:])
        return _check_convergence("advi", 1000, 0.01, False, ["x"], np.array([[sds[-1] ** 2]]), batches, stats, 200,
                                  elbo)

    steps = np.arange(20.0)
    wiggle = 0.01 * np.cos(steps * 2.0)  # deterministic noise
    # a slow steady slide: 0.03 sd per half-window, far above its noise -> not converged
    assert check(0.003 * steps + 0.001 * np.cos(steps * 2.0), np.ones(20))[0] is False
    # the same noise without a slide -> converged
    assert check(0.001 * np.cos(steps * 2.0), np.ones(20))[0] is True
    # a jump of a third of an sd that is just noise (alternating batches) -> converged (a noisy minibatch fit)
    assert check(0.3 * (-1.0) ** steps + wiggle, np.ones(20))[0] is True
    # a large steady move -> not converged, and the message says by how much
    converged, drift, message = check(0.1 * steps, np.ones(20))
    assert converged is False and drift == pytest.approx(1.0) and "moved from 0.45 to 1.45" in message
    # non-finite ELBO, and a window too short to judge
    assert check(np.zeros(20), np.ones(20), elbo=np.nan)[0] is False
    assert _check_convergence("advi", 3, 0.01, False, ["x"], np.eye(1), None, None, 1, -1.0)[0] is False


# ------------------------------------------------------------------------------------ starting points
def test_emcee_checks_its_starting_points(mu_sigma):
    rng = np.random.default_rng(0)
    good = np.column_stack([rng.normal(5, 0.1, 8), rng.uniform(0.5, 1.5, 8)])
    negative = good.copy()
    negative[:, 1] = -np.abs(negative[:, 1])
    with pytest.raises(ValueError, match=r"initial: walker 0 starts at \[5\.\d+, -\d\.\d+\], where the log posterior is -inf"):
        bk.sample(mu_sigma, "emcee", chains=8, initial=negative, progressbar=False)
    with pytest.raises(ValueError, match=r"initial must have shape \(walkers, ndim\) = \(8, 2\), got \(8, 3\)"):
        bk.sample(mu_sigma, "emcee", chains=8, initial=np.ones((8, 3)), progressbar=False)
    with_nan = good.copy()
    with_nan[3, 0] = np.nan
    with pytest.raises(ValueError, match=r"initial must be finite, but walker 3 starts at \[nan, "):
        bk.sample(mu_sigma, "emcee", chains=8, initial=with_nan, progressbar=False)
    with pytest.raises(ValueError, match=r"span only 0 of 2 dimensions.*identical or collinear starts cannot be stretched"):
        bk.sample(mu_sigma, "emcee", chains=8, initial=np.tile([5.0, 1.0], (8, 1)), progressbar=False)
    # walkers on a line (all at sigma = 1, mu spread): a line on any parameterisation, constrained or unconstrained
    t = rng.uniform(0, 1, 8)
    with pytest.raises(ValueError, match=r"span only 1 of 2 dimensions"):
        bk.sample(mu_sigma, "emcee", chains=8, initial=np.column_stack([5 + t, np.ones(8)]), progressbar=False)
    # walkers default to the rows of initial
    idata = bk.sample(mu_sigma, "emcee", draws=10, tune=0, initial=good, seed=1, progressbar=False)
    assert idata.posterior.sizes["chain"] == 8


def test_metropolis_checks_its_starting_points_with_the_same_messages(mu_sigma):
    with pytest.raises(ValueError, match=r"initial: chain 1 starts at \[5.0, -1.0\], where the log posterior is -inf"):
        bk.sample(mu_sigma, "metropolis", chains=2, initial=[[5.0, 1.0], [5.0, -1.0]], progressbar=False)
    with pytest.raises(ValueError, match=r"initial must have shape \(chains, ndim\) = \(2, 2\), got \(3, 2\)"):
        bk.sample(mu_sigma, "metropolis", chains=2, initial=np.ones((3, 2)), progressbar=False)
    with pytest.raises(ValueError, match=r"initial must be finite, but chain 0 starts at \[inf, 1.0\]"):
        bk.sample(mu_sigma, "metropolis", chains=2, initial=[[np.inf, 1.0], [5.0, 1.0]], progressbar=False)
    # one shared start is fine for Metropolis (its chains do not need to span anything)
    idata = bk.sample(mu_sigma, "metropolis", draws=10, tune=0, chains=3, initial=[5.0, 1.0], seed=1, progressbar=False)
    assert idata.posterior.sizes["chain"] == 3
