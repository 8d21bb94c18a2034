"""bayeskit.results: InferenceData as complete as pm.sample's, from any engine's flat draws.

The reference is PyMC itself: draws taken from ``pm.sample`` go through the builder, and every group
(posterior with Deterministics, log_likelihood, observed_data, constant_data) must equal PyMC's own,
names, dims, coords and values. The decisive check is posterior predictive sampling: with a complete
result PyMC samples only the observed variables from the given draws; with a bare posterior it silently
redraws the parameters from the prior.
"""

import logging
import warnings
from types import SimpleNamespace

import arviz as az
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pymc as pm  # noqa: E402
import pytest  # noqa: E402
from scipy import stats  # noqa: E402

from bayeskit import Problem  # noqa: E402
from bayeskit import results  # noqa: E402
from bayeskit.layout import Layout, to_inference_data  # noqa: E402
from bayeskit.results import build_inference_data, complete_pymc_inference_data  # noqa: E402

SCHOOLS = ["Alder", "Birch", "Cedar", "Daphne", "Elm", "Fir", "Gum", "Hazel"]
SAMPLE = dict(draws=100, tune=100, chains=2, cores=1, progressbar=False, compute_convergence_checks=False)


# ------------------------------------------------------------------------------------------ helpers
def stand_in_problem(model) -> SimpleNamespace:
    """What the builder uses of a Problem (``pymc_model`` and ``layout``), built straight from the model.

    The builder needs no compiled densities, only the layout ``Problem.from_pymc`` gives (free variables
    in ``model.free_RVs`` order, constrained shapes, integer dtypes as discrete); building it here keeps
    these tests free of the bridge's compilation (seconds per model). The decisive test checks that the
    two layouts agree.
    """
    from pymc.model.transform.conditioning import remove_value_transforms

    umodel = remove_value_transforms(model)  # its free_RVs come in another order: look them up by name
    point = umodel.initial_point()
    names = tuple(rv.name for rv in model.free_RVs)
    shapes = tuple(np.shape(point[umodel.rvs_to_values[umodel[n]].name]) for n in names)
    discrete = tuple(umodel[n].dtype.startswith("int") for n in names)
    return SimpleNamespace(pymc_model=model, layout=Layout(names, shapes, discrete))


def flat_draws(problem, posterior) -> np.ndarray:
    """The free variables of a posterior as the flat ``(chain, draw, ndim)`` array engines produce."""
    return problem.layout.flatten({n: posterior[n].transpose("chain", "draw", ...).values for n in problem.layout.names})


def sample_quietly(model, seed, **kwargs):
    logger = logging.getLogger("pymc")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with model:
            return pm.sample(**SAMPLE, random_seed=seed, **kwargs)
    finally:
        logger.setLevel(level)


def assert_same_group(ours, theirs, group: str, atol: float = 1e-10) -> None:
    """Same variables, dims, coordinates and values (to ``atol``) in group ``group``."""
    a, b = ours[group], theirs[group]
    assert set(a.data_vars) == set(b.data_vars), f"{group}: variables {set(a.data_vars)} != {set(b.data_vars)}"
    for name in b.data_vars:
        assert a[name].dims == b[name].dims, f"{group}.{name}: dims {a[name].dims} != {b[name].dims}"
        for dim in b[name].dims:
            np.testing.assert_array_equal(a[name][dim].values, b[name][dim].values, err_msg=f"{group}.{name} coord {dim}")
        np.testing.assert_allclose(a[name].values, b[name].values, rtol=0, atol=atol, err_msg=f"{group}.{name}")


def model_snapshot(model) -> dict:
    """What the builder must leave unchanged in the user's model."""
    return {
        "named_vars": list(model.named_vars),
        "free": [rv.name for rv in model.free_RVs],
        "observed": [rv.name for rv in model.observed_RVs],
        "deterministics": [v.name for v in model.deterministics],
        "potentials": [v.name for v in model.potentials],
        "transforms": {rv.name: type(t).__name__ for rv, t in model.rvs_to_transforms.items()},
        "dims": dict(model.named_vars_to_dims),
        "coords": {k: tuple(v) if v is not None else None for k, v in model.coords.items()},
        "data": {v.name: np.array(v.get_value()) for v in model.data_vars},
    }


# ------------------------------------------------------------------------------------------ models
N_OBS, SIGMA, PRIOR_MEAN, PRIOR_SD = 12, 2.0, 0.0, 10.0


def conjugate_model():
    """Normal mean, known sigma: exact posterior; string coords on the observations; pm.Data hyperparameters."""
    y = np.random.default_rng(0).normal(3.0, SIGMA, size=N_OBS)
    with pm.Model(coords={"obs": [f"o{i}" for i in range(N_OBS)]}) as model:
        prior_mean = pm.Data("prior_mean", PRIOR_MEAN)
        sigma = pm.Data("sigma", SIGMA)
        mu = pm.Normal("mu", prior_mean, PRIOR_SD)
        pm.Normal("y", mu, sigma, observed=y, dims="obs")
    precision = 1 / PRIOR_SD**2 + N_OBS / SIGMA**2
    return model, y, (PRIOR_MEAN / PRIOR_SD**2 + y.sum() / SIGMA**2) / precision, precision**-0.5


def schools_model():
    """Eight schools, non-centred: dims from string coords, pm.Data, a Deterministic, a Potential."""
    y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
    sigma = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])
    with pm.Model(coords={"school": SCHOOLS}) as model:
        sigma_data = pm.Data("sigma", sigma, dims="school")
        mu = pm.Normal("mu", 0, 5)
        tau = pm.HalfCauchy("tau", 5)
        eta = pm.Normal("eta", 0, 1, dims="school")
        theta = pm.Deterministic("theta", mu + tau * eta, dims="school")
        pm.Potential("tau_soft_bound", -0.5 * (tau / 20) ** 2)  # left out of the log_likelihood group, as PyMC does
        pm.Normal("y", theta, sigma_data, observed=y, dims="school")
    return model, y, sigma


def multivariate_model():
    """Dirichlet and MvNormal free variables, Multinomial and MvNormal observations, a 2-D Deterministic."""
    rng = np.random.default_rng(2)
    counts = rng.multinomial(60, [0.2, 0.3, 0.5])
    points = rng.multivariate_normal([1.0, -1.0], [[1.0, 0.3], [0.3, 1.0]], size=15)
    coords = {"category": ["low", "mid", "high"], "obs": np.arange(15), "axis": ["x", "y"]}
    with pm.Model(coords=coords) as model:
        p = pm.Dirichlet("p", a=np.ones(3), dims="category")
        # n as int64: a Python int becomes an int8 constant and PyMC's factln(n) is then float32 (4e-7 off)
        pm.Multinomial("counts", n=np.int64(60), p=p, observed=counts, dims="category")
        centre = pm.MvNormal("centre", mu=np.zeros(2), cov=25 * np.eye(2), dims="axis")
        pm.MvNormal("points", mu=centre, cov=[[1.0, 0.3], [0.3, 1.0]], observed=points, dims=("obs", "axis"))
        pm.Deterministic("residual", points - centre, dims=("obs", "axis"))
    return model, counts, points


def switchpoint_model():
    """A discrete parameter (the switch point) beside continuous ones."""
    y = np.r_[np.full(6, 1.0), np.full(4, 4.0)] + np.random.default_rng(3).normal(0, 0.5, 10)
    with pm.Model(coords={"t": np.arange(10)}) as model:
        k = pm.DiscreteUniform("k", 0, 10)
        early = pm.Normal("early", 0, 5)
        late = pm.Normal("late", 0, 5)
        rate = pm.Deterministic("rate", pm.math.switch(np.arange(10) < k, early, late), dims="t")
        y_rv = pm.Normal("y", rate, 0.5, observed=y, dims="t")
        pm.Deterministic("residual", y_rv - rate, dims="t")  # an observed variable in a Deterministic: its data
    return model, y


def prior_only_model():
    """No observed variable at all."""
    with pm.Model(coords={"k": ["a", "b", "c"]}) as model:
        x = pm.Normal("x", 0, 1, dims="k")
        pm.Normal("v", 0, 1, shape=2)  # no dims: v_dim_0, as pm.sample names it
        pm.Deterministic("total", x.sum())
        pm.Deterministic("weights", pm.math.constant([0.2, 0.3, 0.5]), dims="k")  # independent of the draws
    return model


@pytest.fixture(scope="module")
def schools():
    """The schools model and a small pm.sample run on it, with PyMC's own log_likelihood group."""
    model, y, sigma = schools_model()
    return model, y, sigma, sample_quietly(model, seed=20, idata_kwargs={"log_likelihood": True})


# ------------------------------------------------------------------------------------------ the decisive test
def test_posterior_predictive_uses_the_given_draws(caplog):
    model, y, post_mean, post_sd = conjugate_model()
    problem = Problem.from_pymc(model)
    assert stand_in_problem(model).layout == problem.layout  # the stand-in used below is faithful
    rng = np.random.default_rng(10)
    chains, draws = 2, 500
    mu = rng.normal(post_mean, post_sd, size=(chains, draws))  # exact posterior draws
    idata = build_inference_data(problem, mu[..., None])
    bare = az.from_dict(posterior={"mu": mu})  # control: what engines gave before (no coords, no constant data)

    def predictive(result):
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="pymc"), model:
            pp = pm.sample_posterior_predictive(result, random_seed=11, progressbar=False)
        sampled = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Sampling:")]
        return pp.posterior_predictive["y"].transpose("chain", "draw", "obs").values, sampled

    y_rep, sampled = predictive(idata)
    # defect caught: dims/coords/constant data that differ from the model make PyMC treat mu as volatile
    # and redraw it from the prior ("Sampling: [mu, y]")
    assert sampled == ["Sampling: [y]"]
    # defect caught: y_rep not drawn from the given draws (mu redrawn, or draws mixed up between chains):
    # given mu[c, d], the mean of the N_OBS replicated observations is exactly N(mu[c, d], SIGMA^2 / N_OBS),
    # so the standardised differences are i.i.d. N(0, 1) over the chains * draws values
    z = (y_rep.mean(axis=-1) - mu) / (SIGMA / np.sqrt(N_OBS))
    n = z.size
    assert abs(z.mean()) < 4 / np.sqrt(n)
    assert abs(z.std() - 1) < 4 / np.sqrt(2 * n)
    # overall: the y_rep mean equals the posterior mean of mu within the Monte Carlo error of the draws
    assert abs(y_rep.mean() - post_mean) < 4 * np.sqrt(post_sd**2 / n + SIGMA**2 / (n * N_OBS))

    # the control shows the check above can fail: PyMC redraws mu from the prior for a bare posterior
    y_rep_bare, sampled_bare = predictive(bare)
    assert sampled_bare == ["Sampling: [mu, y]"]
    z_bare = (y_rep_bare.mean(axis=-1) - mu) / (SIGMA / np.sqrt(N_OBS))
    assert z_bare.std() > 2


def test_posterior_predictive_with_dims_uses_the_given_draws(schools, caplog):
    model, y, sigma, reference = schools
    problem = stand_in_problem(model)
    idata = build_inference_data(problem, flat_draws(problem, reference.posterior))
    bare = az.from_dict(posterior={n: reference.posterior[n].values for n in problem.layout.names})

    def predictive(result):
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="pymc"), model, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyMC warns that the Potential is ignored in predictive sampling
            pp = pm.sample_posterior_predictive(result, random_seed=12, progressbar=False)
        sampled = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Sampling:")]
        return pp.posterior_predictive["y"].transpose("chain", "draw", "school").values, sampled

    y_rep, sampled = predictive(idata)
    # defect caught: posterior dims other than the model's ("eta_dim_0" for "school") make PyMC redraw eta
    assert sampled == ["Sampling: [y]"]
    # defect caught: y_rep not from the given draws: (y_rep - theta) / sigma is exactly N(0, 1) given theta
    z = (y_rep - reference.posterior["theta"].values) / sigma
    assert abs(z.mean()) < 4 / np.sqrt(z.size) and abs(z.std() - 1) < 4 / np.sqrt(2 * z.size)
    # control: the bare posterior gets eta redrawn from the prior
    assert predictive(bare)[1] == ["Sampling: [eta, y]"]


# ------------------------------------------------------------------------------------------ equal to pm.sample's own result
def test_groups_equal_pm_sample_groups_for_the_same_draws(schools):
    model, y, sigma, reference = schools
    problem = stand_in_problem(model)
    before = model_snapshot(model)
    stats_in = {"lp": reference.sample_stats["lp"].values, "diverging": reference.sample_stats["diverging"].values}
    idata = build_inference_data(problem, flat_draws(problem, reference.posterior), sample_stats=stats_in,
                                 attrs={"engine": "test"})

    # defects caught: missing Deterministic (theta), wrong dims/coords, wrong data, a log-likelihood
    # including the Potential or summed over observations, Deterministics computed from the wrong draws
    for group in ("posterior", "log_likelihood", "observed_data", "constant_data"):
        assert_same_group(idata, reference, group)
    # defect caught: Deterministic values not computed by the model's formula
    post = idata.posterior
    np.testing.assert_allclose(post["theta"].values, (post["mu"] + post["tau"] * post["eta"]).values, rtol=1e-12)
    np.testing.assert_array_equal(idata.observed_data["y"].values, y)
    np.testing.assert_array_equal(idata.constant_data["sigma"].values, sigma)
    assert list(idata.posterior["school"].values) == SCHOOLS
    # defect caught: sample_stats or attrs lost
    np.testing.assert_array_equal(idata.sample_stats["lp"].values, stats_in["lp"])
    assert idata.attrs["engine"] == "test" and idata.attrs["log_likelihood"].startswith("computed")
    # defect caught: the builder adds variables to, or changes, the user's model
    after = model_snapshot(model)
    assert {k: v for k, v in after.items() if k != "data"} == {k: v for k, v in before.items() if k != "data"}
    assert all(np.array_equal(after["data"][k], before["data"][k]) for k in before["data"])

    # defect caught: a log_likelihood that az.loo cannot use or that differs from PyMC's
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pareto k warnings: 8 schools, 200 draws
        ours, theirs = az.loo(idata), az.loo(reference)
    assert abs(ours.elpd_loo - theirs.elpd_loo) < 1e-8
    summary = az.summary(idata)
    assert {"mu", "tau", "eta[Alder]", "theta[Hazel]"} <= set(summary.index)
    axes = az.plot_trace(idata, var_names=["mu", "theta"])
    assert axes.shape == (2, 2)
    plt.close("all")


def test_multivariate_variables_and_2d_deterministic_equal_pymc():
    # NUTS on this model takes 3-20 s on the shared 2-core machine; draws from the prior (0.1 s) serve as
    # well: PyMC's prior group comes from the converter pm.sample uses (same dims, coords, Deterministics),
    # and pm.compute_log_likelihood is what pm.sample calls for its log_likelihood group
    model, counts, points = multivariate_model()
    with model:
        prior = pm.sample_prior_predictive(draws=100, random_seed=30)
    reference = az.InferenceData(
        posterior=prior.prior, observed_data=prior.observed_data,
        log_likelihood=pm.compute_log_likelihood(az.InferenceData(posterior=prior.prior), model=model,
                                                 extend_inferencedata=False, progressbar=False),
    )
    problem = stand_in_problem(model)
    assert problem.layout.shapes == ((3,), (2,))
    idata = build_inference_data(problem, flat_draws(problem, reference.posterior))
    # defects caught: Dirichlet/MvNormal draws split wrongly, event dims of the multivariate
    # log-likelihoods kept (Multinomial: one value per draw; MvNormal: one per point), 2-D dims lost
    for group in ("posterior", "log_likelihood", "observed_data"):
        assert_same_group(idata, reference, group)
    assert idata.log_likelihood["counts"].dims == ("chain", "draw")
    assert idata.log_likelihood["points"].dims == ("chain", "draw", "obs")
    assert idata.posterior["residual"].dims == ("chain", "draw", "obs", "axis")
    residual = points[None, None] - idata.posterior["centre"].values[:, :, None, :]
    np.testing.assert_allclose(idata.posterior["residual"].values, residual, rtol=1e-12)
    np.testing.assert_allclose(idata.posterior["p"].sum("category").values, 1.0, rtol=1e-12)
    # defect caught: a pointwise log-likelihood that is not the model's density (Multinomial by SciPy)
    p = idata.posterior["p"].values
    expected = stats.multinomial.logpmf(counts, 60, p.reshape(-1, 3)).reshape(p.shape[:2])
    np.testing.assert_allclose(idata.log_likelihood["counts"].values, expected, rtol=1e-10)
    assert "constant_data" not in idata.groups()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # prior draws: Pareto k warnings
        assert np.isfinite(az.loo(idata, var_name="points").elpd_loo)


# ------------------------------------------------------------------------------------------ more model kinds
def test_discrete_parameter_stored_as_integer_and_log_likelihood_equals_pymc():
    model, y = switchpoint_model()
    problem = stand_in_problem(model)
    rng = np.random.default_rng(40)
    k = rng.integers(0, 11, size=(2, 50)) + rng.uniform(-0.3, 0.3, size=(2, 50))  # engines' floats, to be rounded
    samples = np.stack([k, rng.normal(1, 0.2, (2, 50)), rng.normal(4, 0.2, (2, 50))], axis=-1)
    idata = build_inference_data(problem, samples)
    # defect caught: discrete parameters kept as (unrounded) floats
    assert idata.posterior["k"].dtype == np.int64
    np.testing.assert_array_equal(idata.posterior["k"].values, np.rint(k))
    # defect caught: Deterministic not evaluated at each draw's own switch point
    kk, early, late = (idata.posterior[v].values[..., None] for v in ("k", "early", "late"))
    np.testing.assert_array_equal(idata.posterior["rate"].values, np.where(np.arange(10) < kk, early, late))
    np.testing.assert_allclose(idata.posterior["residual"].values, y - idata.posterior["rate"].values, rtol=1e-12)
    # defect caught: vectorised log-likelihood differing from PyMC's own, draw-by-draw computation
    reference = pm.compute_log_likelihood(idata, model=model, extend_inferencedata=False, progressbar=False)
    np.testing.assert_allclose(idata.log_likelihood["y"].values, reference["y"].values, rtol=0, atol=1e-10)
    # PyMC's normal constant log(sqrt(2 pi)) differs from SciPy's by ~2e-9 (see test_problem)
    np.testing.assert_allclose(idata.log_likelihood["y"].values,
                               stats.norm.logpdf(y, idata.posterior["rate"].values, 0.5), rtol=0, atol=1e-8)


def test_model_without_observed_variables():
    model = prior_only_model()
    problem = stand_in_problem(model)
    samples = np.random.default_rng(50).normal(size=(2, 30, 5))
    idata = build_inference_data(problem, samples, log_likelihood=True)
    # defect caught: empty or failing groups for a model without data
    assert set(idata.groups()) == {"posterior"}
    assert "no observed variables" in idata.attrs["log_likelihood"]
    assert idata.posterior["x"].dims == ("chain", "draw", "k")
    assert idata.posterior["total"].dims == ("chain", "draw")
    assert idata.posterior["v"].dims == ("chain", "draw", "v_dim_0")
    np.testing.assert_array_equal(idata.posterior["v"].values, samples[..., 3:])
    np.testing.assert_allclose(idata.posterior["total"].values, samples[..., :3].sum(axis=-1), rtol=1e-12)
    # defect caught: a Deterministic that does not depend on the draws left without (chain, draw) dims
    assert idata.posterior["weights"].dims == ("chain", "draw", "k")
    np.testing.assert_array_equal(idata.posterior["weights"].values, np.broadcast_to([0.2, 0.3, 0.5], (2, 30, 3)))
    assert "x[b]" in az.summary(idata, var_names=["x", "total"]).index


def test_problem_without_pymc_model_is_today_behaviour():
    problem = Problem(priors={"mu": stats.norm(0, 1), "w": (stats.norm(0, 1), 2)},
                      log_likelihood=lambda p: -0.5 * (p["mu"] ** 2 + (p["w"] ** 2).sum(axis=1)))
    samples = np.random.default_rng(60).normal(size=(2, 20, 3))
    lp = np.random.default_rng(61).normal(size=(2, 20))
    idata = build_inference_data(problem, samples, sample_stats={"lp": lp}, attrs={"engine": "metropolis"})
    today = to_inference_data(samples, problem.layout, sample_stats={"lp": lp}, attrs={"engine": "metropolis"})
    assert set(idata.groups()) == set(today.groups()) == {"posterior", "sample_stats"}
    assert_same_group(idata, today, "posterior", atol=0)
    assert_same_group(idata, today, "sample_stats", atol=0)
    assert idata.posterior["w"].dims == ("chain", "draw", "w_dim_0")
    assert idata.attrs["engine"] == "metropolis"
    assert "not one value per observation" in idata.attrs["log_likelihood"]
    with pytest.raises(ValueError, match="log_likelihood=True needs a Problem built from PyMC"):
        build_inference_data(problem, samples, log_likelihood=True)


# ------------------------------------------------------------------------------------------ options and errors
def test_log_likelihood_option_and_size_limit(monkeypatch):
    model, *_ = conjugate_model()
    problem = stand_in_problem(model)
    samples = np.random.default_rng(70).normal(3, 0.5, size=(2, 10, 1))
    assert "log_likelihood" in build_inference_data(problem, samples).groups()
    off = build_inference_data(problem, samples, log_likelihood=False)
    assert "log_likelihood" not in off.groups() and off.attrs["log_likelihood"] == "not computed: log_likelihood=False"
    # 2 chains * 10 draws * 12 observations = 240 values: above a limit of 239, skipped unless forced
    monkeypatch.setattr(results, "LOG_LIKELIHOOD_MAX_VALUES", 239)
    skipped = build_inference_data(problem, samples)
    assert "log_likelihood" not in skipped.groups()
    assert "240 values" in skipped.attrs["log_likelihood"] and "log_likelihood=True" in skipped.attrs["log_likelihood"]
    forced = build_inference_data(problem, samples, log_likelihood=True)
    assert forced.log_likelihood["y"].shape == (2, 10, N_OBS)
    monkeypatch.setattr(results, "LOG_LIKELIHOOD_MAX_VALUES", 240)
    assert "log_likelihood" in build_inference_data(problem, samples).groups()
    with pytest.raises(TypeError, match="log_likelihood must be None, True or False"):
        build_inference_data(problem, samples, log_likelihood="yes")


@pytest.mark.parametrize("shape", [(10, 1), (2, 10, 2), (2, 10)])
def test_wrong_samples_shape_names_the_expected_shape(shape):
    model, *_ = conjugate_model()
    with pytest.raises(ValueError, match=r"samples must have shape \(chain, draw, 1\)"):
        build_inference_data(stand_in_problem(model), np.zeros(shape))


# ------------------------------------------------------------------------------------------ completing PyMC results
def test_complete_pm_sample_result_and_bare_posterior(schools):
    model, y, sigma, reference = schools
    without = reference.copy()
    del without["log_likelihood"]
    completed = complete_pymc_inference_data(model, without)
    # defect caught: existing groups dropped, or the added log_likelihood differing from PyMC's
    assert set(completed.groups()) == set(reference.groups())
    for group in ("posterior", "log_likelihood", "observed_data", "constant_data"):
        assert_same_group(completed, reference, group)
    assert_same_group(completed, reference, "sample_stats", atol=0)
    assert "log_likelihood" not in without.groups()  # the input is not modified

    # a bare posterior (free variables only, default dims): everything else is added
    problem = stand_in_problem(model)
    bare = to_inference_data(flat_draws(problem, reference.posterior), problem.layout)
    completed = complete_pymc_inference_data(problem, bare)
    for group in ("posterior", "log_likelihood", "observed_data", "constant_data"):
        assert_same_group(completed, reference, group)
    with pytest.raises(ValueError, match=r"lacks the free variables \['tau'\]"):
        complete_pymc_inference_data(problem, az.from_dict(posterior={"mu": np.zeros((1, 5)), "eta": np.zeros((1, 5, 8))}))


def test_complete_advi_result(caplog):
    model, y, post_mean, post_sd = conjugate_model()
    with caplog.at_level(logging.WARNING, logger="pymc"), model:
        approx = pm.fit(n=2000, progressbar=False, random_seed=90)
        idata = approx.sample(400, random_seed=91)
    completed = complete_pymc_inference_data(model, idata)
    # defect caught: ADVI results without log_likelihood, so no LOO for the variational fit
    assert completed.log_likelihood["y"].dims == ("chain", "draw", "obs")
    mu = completed.posterior["mu"].values[..., None]
    np.testing.assert_allclose(completed.log_likelihood["y"].values, stats.norm.logpdf(y, mu, SIGMA), rtol=0, atol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one chain of ADVI draws: Pareto k warnings
        assert np.isfinite(az.loo(completed).elpd_loo)


def test_problem_must_be_a_problem():
    model, *_ = conjugate_model()
    with pytest.raises(TypeError, match="problem must be a bayeskit.Problem"):
        build_inference_data(model, np.zeros((1, 5, 1)))
    with pytest.raises(ValueError, match="needs a Problem built from PyMC or a pm.Model"):
        complete_pymc_inference_data(SimpleNamespace(pymc_model=None), az.from_dict(posterior={"mu": np.zeros((1, 5))}))
