"""NUTS (bayeskit.samplers.nuts) and the "nuts" and "hmc" engines: exactness, calibration, divergences, results.

Tolerances as in tests/test_hmc.py: means and sds within K_MCSE = 4 Monte Carlo standard errors (probability
6e-5 per quantity for a correct sampler; 0.6% over the 100 quantities of the 50-D Gaussian); exact tests at
level ALPHA = 0.001, each paired with a planted defect the same test must reject; the posteriordb comparison
uses tests/test_posteriordb.py's rule (4 combined MCSE, split R-hat <= 1.01). Seeds are fixed.
"""

import functools
import os
import warnings

import numpy as np
import pytest
from scipy import stats

import bayeskit as bk
from bayeskit import Problem, diagnostics
from bayeskit.engines import ConvergenceWarning
from bayeskit.models import four_gift_model
from bayeskit.models.posteriordb import eight_schools_noncentered, posteriordb_reference
from bayeskit.samplers import hmc as H
from bayeskit.samplers import nuts as N

ALPHA = 0.001
MAX_RHAT = 1.01

SLOW = pytest.mark.skipif(not os.environ.get("BAYESKIT_SLOW_TESTS"),
                          reason="slow (a minute): set BAYESKIT_SLOW_TESTS=1 to run it")


from _gradient_targets import K_MCSE, assert_moments, correlated_gaussian_50d, gaussian, gumbel  # noqa: E402



def eight_schools_centered():
    """The centred eight schools (posteriordb's eight_schools_centered): theta_j ~ N(mu, tau) directly, a funnel
    between tau and theta whose neck HMC cannot enter with one step size."""
    import pymc as pm

    d = bk.data.load("eight_schools")
    with pm.Model(coords={"school": list("ABCDEFGH")}) as model:
        mu = pm.Normal("mu", 0.0, 5.0)
        tau = pm.HalfCauchy("tau", 5.0)
        theta = pm.Normal("theta", mu, tau, dims="school")
        pm.Normal("y", theta, np.asarray(d["sigma"], float), observed=np.asarray(d["y"], float), dims="school")
    return model


EIGHT_Y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
EIGHT_SIGMA = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])


def _hyperprior(z):
    """log N(mu | 0, 5) + log half-Cauchy(tau | 5) + log tau (Jacobian of tau = exp(s)), its gradient in (mu, s)."""
    mu, s = z[:, 0], z[:, 1]
    tau = np.exp(s)
    u = tau**2 / 25.0
    return -0.5 * mu**2 / 25.0 - np.log1p(u) + s, -mu / 25.0, 1.0 - 2.0 * u / (1.0 + u), tau


def eight_schools_centred_numpy(z):
    """The centred model on PyMC's unconstrained space z = (mu, log tau, theta_1..8), with its gradient: the same
    numbers as Problem.from_pymc(eight_schools_centered()) up to a constant, 20 times faster per call."""
    lp, d_mu, d_s, tau = _hyperprior(z)
    dev = z[:, 2:] - z[:, :1]
    resid = EIGHT_Y - z[:, 2:]
    lp = lp + np.sum(-0.5 * dev**2 / tau[:, None] ** 2 - 0.5 * resid**2 / EIGHT_SIGMA**2, axis=1) - 8 * z[:, 1]
    grad = np.column_stack([d_mu + np.sum(dev, axis=1) / tau**2, d_s + np.sum(dev**2, axis=1) / tau**2 - 8.0,
                            -dev / tau[:, None] ** 2 + resid / EIGHT_SIGMA**2])
    return lp, grad


def eight_schools_noncentred_numpy(z):
    """The non-centred model, z = (mu, log tau, theta_tilde_1..8) with theta = mu + tau theta_tilde."""
    lp, d_mu, d_s, tau = _hyperprior(z)
    tt = z[:, 2:]
    w = (EIGHT_Y - z[:, :1] - tau[:, None] * tt) / EIGHT_SIGMA**2
    lp = lp + np.sum(-0.5 * tt**2 - 0.5 * w**2 * EIGHT_SIGMA**2, axis=1)
    grad = np.column_stack([d_mu + np.sum(w, axis=1), d_s + tau * np.sum(w * tt, axis=1), -tt + w * tau[:, None]])
    return lp, grad


@functools.cache
def problem(name: str) -> Problem:
    model = {"centered": eight_schools_centered, "noncentered": eight_schools_noncentered,
             "gift": lambda: four_gift_model(noise_sd=0.5).pymc_model()}[name]()
    return Problem.from_pymc(model)


# ------------------------------------------------------------------------------------------------ exactness
N_INVARIANCE = 5000


def one_transition_from_the_target(metric_factor: float = 1.0) -> float:
    """KS p-value of the positions after one NUTS transition (step size 1, about 3 leapfrog steps) of 5000
    chains started from exact Gumbel draws: if the kernel leaves the target invariant they are Gumbel draws.
    ``metric_factor`` != 1 plants a defect: momenta drawn with sd ``metric_factor``, kinetic energy for sd 1."""
    rng = np.random.default_rng(7)
    state = H.init(gumbel, rng.gumbel(size=(N_INVARIANCE, 1)))
    metric = H.Metric(np.ones((N_INVARIANCE, 1)), False, np.full((N_INVARIANCE, 1), metric_factor))
    state, info = N.step(state, gumbel, rng, 1.0, metric)
    assert info["tree_depth"].max() >= 2  # trajectories long enough to exercise the sub-tree sampling
    return stats.kstest(state.position[:, 0], stats.gumbel_r.cdf).pvalue


def test_one_transition_leaves_the_target_invariant(monkeypatch):
    """Exact invariance test, KS at ALPHA. Power: at n = 5000 the critical distance is 1.95 / sqrt(n) = 0.028;
    two planted defects must be rejected: inconsistent momenta, and multinomial sampling with the wrong
    weights (a subtree weighted by its heaviest point instead of the sum over its points, which favours the
    newer half)."""
    assert one_transition_from_the_target() > ALPHA
    assert one_transition_from_the_target(metric_factor=1.5) < 1e-6
    monkeypatch.setattr(N, "_logaddexp", max)
    assert one_transition_from_the_target() < 1e-6


def test_one_dimensional_gaussian():
    idata = N.nuts(gaussian(np.array([1.0]), np.array([[4.0]])), np.zeros((4, 1)), draws=1000, tune=1000, seed=1,
                   progressbar=False)
    assert_moments(idata.posterior["x"].values, [1.0], [2.0])


def test_correlated_50d_gaussian_with_a_dense_mass_matrix():
    mean, cov = correlated_gaussian_50d()
    start = mean + np.random.default_rng(0).normal(size=(2, 50)) * np.sqrt(np.diag(cov))
    run = N.sample_nuts(gaussian(mean, cov), start, draws=600, tune=400, chains=2, seed=3, mass_matrix="dense",
                        progressbar=False)
    assert_moments(run.draws, mean, np.sqrt(np.diag(cov)))


def test_tree_depth_is_capped():
    """With max_treedepth = 2 no transition takes more than 3 leapfrog steps, and hitting the cap is reported."""
    f = gaussian(np.zeros(2), np.diag([1.0, 1e4]))
    run = N.sample_nuts(f, np.ones((1, 2)), draws=50, tune=0, chains=1, seed=0, step_size=0.1, max_treedepth=2,
                        progressbar=False)
    assert run.stats["n_steps"].max() <= 3
    assert run.stats["reached_max_treedepth"].mean() > 0.5


# ------------------------------------------------------------------------------------------------ calibration
N_SIM, N_OBS, L, THIN = 500, 5, 9, 4


def sbc_counts(likelihood_weight: float = 1.0) -> np.ndarray:
    """Simulation-based calibration (Talts et al. 2018), as tests/test_sbc.py: mu ~ N(0, 1), y_i ~ N(mu, 1),
    i = 1..5; one chain per simulated data set, warm-up 60 (Stan's windows in their short-warm-up proportions),
    then L = 9 draws thinned by 4 (NUTS draws on this target are nearly independent), and the rank of the true
    mu among them. ``likelihood_weight`` != 1 makes the sampler target a wrong posterior."""
    rng = np.random.default_rng(2018)
    ranks = []
    for _ in range(N_SIM):
        mu_true = rng.normal()
        y = rng.normal(mu_true, 1.0, size=N_OBS)

        def f(z, y=y):
            resid = y[None, :] - z
            return (-0.5 * z[:, 0] ** 2 - 0.5 * likelihood_weight * np.sum(resid**2, axis=1),
                    -z + likelihood_weight * resid.sum(axis=1, keepdims=True))

        run = N.sample_nuts(f, rng.normal(size=(1, 1)), draws=L * THIN, tune=60, chains=1, seed=rng,
                            progressbar=False)
        ranks.append(int(np.sum(run.draws[0, THIN - 1::THIN, 0] < mu_true)))
    return np.bincount(ranks, minlength=L + 1)


@SLOW
def test_sbc_ranks_are_uniform():
    """Chi-square on 10 rank bins (50 expected per bin) at ALPHA. Power: against a sampler that counts the
    likelihood twice (posterior sd 1/sqrt(11) instead of 1/sqrt(6)) this design (500 data sets, 9 draws each)
    rejects with probability 0.99 (computed on exact draws from that wrong posterior, 300 repetitions), and the
    sampler run on that wrong target must be rejected here. Slow (500 NUTS runs, one chain each, not batched):
    the default run checks NUTS by the exact invariance test above, and calibration of the shared warm-up and
    driver by tests/test_hmc.py's batched SBC."""
    counts = sbc_counts()
    assert stats.chisquare(counts).pvalue > ALPHA, counts.tolist()
    assert stats.chisquare(sbc_counts(likelihood_weight=2.0)).pvalue < ALPHA


# ------------------------------------------------------------------------------------------------ the engines
def test_posteriordb_eight_schools_reference():
    """posteriordb's eight_schools (non-centred) reference (Stan, 10 x 1000 draws), with tests/test_posteriordb.py's
    rule: every reported quantity (mu, tau, theta[0..7]) within 4 combined MCSE, split R-hat <= 1.01."""
    with warnings.catch_warnings():
        # a few divergences are tolerated here (counted in the next test): the rule below is about the means
        warnings.simplefilter("ignore", ConvergenceWarning)
        idata = bk.sample(problem("noncentered"), "nuts", draws=400, tune=400, chains=4, seed=1, progressbar=False)
    reference, ref_mcse = posteriordb_reference("eight_schools")
    failures = []
    for label in reference.mean:
        name, _, index = label.partition("[")
        draws = idata.posterior[name].values
        draws = draws[..., int(index.rstrip("]"))] if index else draws
        error = (draws.mean() - reference.mean[label]) / np.hypot(ref_mcse[label], diagnostics.mcse_mean(draws))
        rhat = diagnostics.rhat(draws)
        if abs(error) > K_MCSE or rhat > MAX_RHAT:
            failures.append(f"{label}: {error:+.1f} combined MCSE, R-hat {rhat:.4f}")
    assert not failures, failures


def test_numpy_eight_schools_are_the_pymc_models():
    """Regression check of the numpy versions used below: same log-density up to a constant, same gradient."""
    z = np.random.default_rng(0).normal(size=(5, 10))
    for name, fn in [("centered", eight_schools_centred_numpy), ("noncentered", eight_schools_noncentred_numpy)]:
        lp, grad = fn(z)
        lp_pymc, grad_pymc = problem(name).log_density_and_grad(z)
        assert np.ptp(lp - lp_pymc) < 1e-10 and np.abs(grad - grad_pymc).max() < 1e-10, name


def test_the_funnels_neck_diverges_only_when_centred():
    """Start 100 chains in the neck of the funnel (tau = e^-3 = 0.05, theta within tau of mu) and take one NUTS
    transition with a step size that suits the bulk (0.2, about what warm-up finds on the centred model). In the
    centred parameterisation theta's scale there is tau = 0.05, a quarter of the step, where leapfrog is unstable
    (it needs step < 2 x scale): nearly every trajectory's energy error passes 1000 within a step or two
    (measured 99.5%). The non-centred model at the same point has theta_tilde of scale 1: no divergence. The
    test fails if divergences are not detected (fraction 0), or detected where the energy stays bounded."""
    rng = np.random.default_rng(0)
    n = 100
    z = np.zeros((n, 10))
    z[:, 0], z[:, 1] = 4.0, -3.0
    fraction = {}
    for name, fn, theta in [("centred", eight_schools_centred_numpy, 4.0 + np.exp(-3.0) * rng.normal(size=(n, 8))),
                            ("non-centred", eight_schools_noncentred_numpy, rng.normal(size=(n, 8)))]:
        z[:, 2:] = theta
        _, info = N.step(H.init(fn, z), fn, rng, 0.2, H.Metric.identity(n, 10))
        fraction[name] = info["diverging"].mean()
    assert fraction["centred"] > 0.9 and fraction["non-centred"] == 0, fraction


@SLOW
def test_divergences_on_the_centred_funnel_not_on_the_non_centred_model():
    """Whole runs (4 chains x (1000 + 1000), target_accept 0.8): the centred eight schools diverges, in bursts
    whose size varies a lot between seeds (49, 526, 49 and 119 of 4000 transitions with seeds 1-4 on the numpy
    version above); the non-centred one almost never does (0, 1, 1, 0 of 4000). Required: at least 20 of 4000
    (0.5%) centred, at most 4 (0.1%) non-centred, and a warning on the centred run."""
    with pytest.warns(ConvergenceWarning, match="diverged"):
        centred = bk.sample(problem("centered"), "nuts", draws=1000, tune=1000, chains=4, seed=1, progressbar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a divergence or two is tolerated, counted below
        plain = bk.sample(problem("noncentered"), "nuts", draws=1000, tune=1000, chains=4, seed=1, progressbar=False)
    n_centred = int(centred.sample_stats["diverging"].values.sum())
    n_plain = int(plain.sample_stats["diverging"].values.sum())
    assert n_centred >= 20 and n_plain <= 4, (n_centred, n_plain)
    assert centred.attrs["n_divergences"] == n_centred


@pytest.mark.filterwarnings("ignore::bayeskit.engines.record.ConvergenceWarning")  # 30-transition warm-ups
def test_the_result_is_complete_and_seeded():
    """Everything every engine gives (dims, coords, Deterministics, log_likelihood, observed data), sample_stats
    under ArviZ's names, run facts; the same seed gives the same draws, another seed other draws."""
    gift = problem("gift")
    for engine, extra in [("nuts", {"tree_depth", "reached_max_treedepth", "max_energy_error"}),
                          ("hmc", {"accepted"})]:
        before = gift.n_evaluations
        idata = bk.sample(gift, engine, draws=30, tune=30, chains=2, seed=5, progressbar=False)
        assert {"posterior", "log_likelihood", "sample_stats", "observed_data"} <= set(idata.groups())
        assert idata.posterior["w"].dims == ("chain", "draw", "w_dim_0")
        names = {"lp", "acceptance_rate", "diverging", "energy", "energy_error", "n_steps", "step_size"} | extra
        assert names <= set(idata.sample_stats.data_vars), engine
        assert idata.sample_stats["diverging"].dtype == bool
        attrs = idata.attrs
        assert attrs["engine"] == engine and attrs["seed"] == 5 and attrs["tune"] == 30
        # gradient evaluations: at least one per leapfrog step recorded, and all counted by the Problem
        assert attrs["n_evaluations"] >= int(idata.sample_stats["n_steps"].sum())
        assert gift.n_evaluations - before >= attrs["n_evaluations"]
        again = bk.sample(gift, engine, draws=30, tune=30, chains=2, seed=5, progressbar=False)
        np.testing.assert_array_equal(idata.posterior["w"].values, again.posterior["w"].values)
        other = bk.sample(gift, engine, draws=30, tune=30, chains=2, seed=6, progressbar=False)
        assert not np.array_equal(idata.posterior["w"].values, other.posterior["w"].values)


@pytest.mark.parametrize("engine", ["nuts", "hmc"])
def test_engines_match_the_exact_gift_posterior(engine):
    model = four_gift_model(noise_sd=0.5)
    idata = bk.sample(problem("gift"), engine, draws=800, tune=400, chains=2, seed=3, progressbar=False,
                      mass_matrix="dense")
    x = idata.posterior["w"].values
    assert_moments(x, model.exact.mean, model.exact.sd)


# ------------------------------------------------------------------------------------------------ refusals
def test_problems_without_a_gradient_are_refused_with_the_alternatives():
    scipy_problem = Problem({"mu": stats.norm(0, 1)}, lambda p: -0.5 * (p["mu"] - 0.5) ** 2)
    for engine in ("nuts", "hmc"):
        with pytest.raises(ValueError, match=r"gradient.*'metropolis' or 'emcee'"):
            bk.sample(scipy_problem, engine, seed=1, progressbar=False)


@pytest.mark.parametrize("engine, options, error, match", [
    ("nuts", dict(max_treedepth=0), ValueError, "max_treedepth must be >= 1"),
    ("nuts", dict(mass_matrix="full"), ValueError, "mass_matrix must be 'diag'"),
    ("nuts", dict(target_accept=1.0), ValueError, r"target_accept must be in \(0, 1\)"),
    ("nuts", dict(target_accept="high"), TypeError, "target_accept must be a number"),
    ("nuts", dict(n_steps=10), ValueError, "has no option 'n_steps'"),
    ("nuts", dict(step_size=-0.1), ValueError, "step_size must be a positive"),
    ("hmc", dict(jitter=1.0), ValueError, r"jitter must be in \[0, 1\)"),
    ("hmc", dict(max_treedepth=5), ValueError, "has no option 'max_treedepth'"),
    ("hmc", dict(n_steps=0), ValueError, "n_steps must be >= 1"),
    ("hmc", dict(path_length=0.0), ValueError, "path_length must be a positive"),
    ("hmc", dict(init_jitter=-1.0), ValueError, "init_jitter must be a non-negative"),
])
def test_bad_options_are_refused(engine, options, error, match):
    with pytest.raises(error, match=match):
        bk.sample(problem("gift"), engine, draws=10, seed=1, progressbar=False, **options)


def test_starting_points_are_given_on_the_constrained_space_and_checked():
    """``initial`` as for metropolis: (chains, ndim) or one point for all chains, checked with the same messages.
    With tune = 0 and one tiny step per transition the chains stay next to where they started (regression check)."""
    gift = problem("gift")
    idata = bk.sample(gift, "hmc", draws=3, tune=0, chains=2, seed=1, progressbar=False, step_size=1e-4, n_steps=1,
                      initial=np.array([5.0, 6.0, 4.0, 5.0]))
    np.testing.assert_allclose(idata.posterior["w"].values, np.broadcast_to([5.0, 6.0, 4.0, 5.0], (2, 3, 4)),
                               atol=0.01)
    with pytest.raises(ValueError, match=r"initial must have shape \(chains, ndim\) = \(2, 4\)"):
        bk.sample(gift, "hmc", draws=3, chains=2, seed=1, progressbar=False, initial=np.zeros((3, 4)))


def test_hmc_refuses_both_a_step_count_and_a_path_length():
    with pytest.raises(ValueError, match="give n_steps or path_length, not both"):
        bk.sample(problem("gift"), "hmc", draws=10, seed=1, progressbar=False, n_steps=5, path_length=1.0)


def test_kernel_arguments_are_checked():
    f = gaussian(np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match=r"initial must have shape \(ndim,\) or \(chains=4, ndim\)"):
        N.nuts(f, np.zeros((3, 2)), progressbar=False)
    with pytest.raises(ValueError, match="must return shapes"):
        N.nuts(lambda z: (np.zeros(len(z)), np.zeros((len(z), 3))), np.zeros((4, 2)), progressbar=False)
    with pytest.raises(ValueError, match="initial point of chain 1"):
        N.nuts(lambda z: (np.where(z[:, 0] > 0, -np.inf, 0.0), -z), np.array([[0.0, 0], [1, 0], [0, 0], [0, 0]]),
               progressbar=False)
    with pytest.raises(ValueError, match="mass_matrix must be one of"):
        H.hmc(f, np.zeros(2), mass_matrix="full", progressbar=False)
