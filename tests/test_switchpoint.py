"""Switchpoint models in PyMC against the exact segment posteriors (bayeskit.models.switchpoint)."""

import numpy as np
import pytest
from scipy import special, stats

import bayeskit as bk
from bayeskit import segments
from bayeskit.models import switchpoint as sw

T = np.arange(1, 31)
Y = np.concatenate([np.random.default_rng(2).normal(-1, 1, 12), np.random.default_rng(3).normal(3, 1.5, 18)])


def test_discrete_model_log_posterior_matches_hand_computation():
    problem = bk.Problem.from_pymc(sw.normal_switchpoint_model(T, Y, mu_sd=10, sigma_sd=5))
    assert problem.names == ("mu_before", "mu_after", "sigma_before", "sigma_after", "switchpoint")
    x = np.array([[-1.0, 3.0, 1.0, 1.5, 12], [0.0, 2.0, 2.0, 1.0, 29]])
    expected = []
    for m1, m2, s1, s2, s in x:
        before = T <= s
        expected.append(stats.norm.logpdf([m1, m2], 0, 10).sum() + stats.halfnorm.logpdf([s1, s2], scale=5).sum()
                        - np.log(len(T)) + stats.norm.logpdf(Y, np.where(before, m1, m2), np.where(before, s1, s2)).sum())
    np.testing.assert_allclose(problem.log_posterior(x), expected, atol=1e-6)  # PyMC's log sqrt(2 pi): ~2e-9 a term


def test_marginalized_model_sums_the_switchpoint_out():
    problem = bk.Problem.from_pymc(sw.normal_switchpoint_model(T, Y, marginalized=True))
    assert "switchpoint" not in problem.names
    theta = np.array([[-1.0, 3.0, 1.0, 1.5], [0.5, 0.5, 3.0, 0.7]])
    for row, value in zip(theta, problem.log_likelihood(theta)):
        per_s = [stats.norm.logpdf(Y, np.where(T <= s, row[0], row[1]), np.where(T <= s, row[2], row[3])).sum() for s in T]
        assert value == pytest.approx(special.logsumexp(per_s) - np.log(len(T)), abs=1e-6)


def test_rao_blackwellised_switchpoint_posterior_matches_exact():
    # Coal-like counts; metropolis on the summed-out model, then p(s | theta, y) averaged over draws.
    # TV against the exact pmf below the McDiarmid bound for the draws' smallest ESS (alpha = 1e-4).
    counts = np.concatenate([np.random.default_rng(7).poisson(3, 15), np.random.default_rng(8).poisson(1, 15)])
    model = sw.poisson_switchpoint_model(T, counts, marginalized=True)
    idata = bk.sample(bk.Problem.from_pymc(model), "metropolis", draws=2000, chains=4, seed=1, progressbar=False)
    exact = segments.one_switchpoint(T, counts, segments.PoissonSegmentPrior(1.0, 1.0))
    pmf = sw.switchpoint_pmf(model, idata, T)
    n_eff = min(bk.diagnostics.ess_bulk(idata.posterior[v].values) for v in ("rate_before", "rate_after"))
    assert 0.5 * np.abs(pmf - exact.pmf).sum() < segments.tv_tolerance(exact.pmf, n_eff)
    table = bk.compare({"m": idata}, exact.reference())
    assert table["error_mcse"].abs().max() < 4


def test_switchpoint_conditional_is_a_pmf_per_draw_and_averages_to_switchpoint_pmf():
    import arviz as az

    model = sw.normal_switchpoint_model(T, Y, marginalized=True)
    post = {"mu_before": np.array([[-1.0, 0.0]]), "mu_after": np.array([[3.0, 2.0]]),
            "sigma_before": np.array([[1.0, 2.0]]), "sigma_after": np.array([[1.5, 1.0]])}
    idata = az.from_dict(posterior=post)
    cond = sw.switchpoint_conditional(model, idata, T)
    assert cond.shape == (1, 2, len(T))
    np.testing.assert_allclose(cond.sum(axis=-1), 1.0, atol=1e-12)
    # each draw's conditional by hand: p(s | theta, y) proportional to the likelihood with the split at s
    for d in range(2):
        m1, m2, s1, s2 = (post[k][0, d] for k in ("mu_before", "mu_after", "sigma_before", "sigma_after"))
        ll = np.array([stats.norm.logpdf(Y, np.where(T <= s, m1, m2), np.where(T <= s, s1, s2)).sum() for s in T])
        np.testing.assert_allclose(cond[0, d], np.exp(ll - special.logsumexp(ll)), atol=1e-9)
    np.testing.assert_allclose(sw.switchpoint_pmf(model, idata, T), cond[0].mean(axis=0), atol=1e-15)
    with pytest.raises(ValueError, match="switchpoint values"):
        sw.switchpoint_conditional(model, idata, T[:-1])


def test_reversion_model_prior_on_the_pair():
    problem = bk.Problem.from_pymc(sw.reversion_model(T, Y))
    names = problem.names
    base = {"mu_base": 0.0, "mu_episode": 0.0, "sigma_base": 1.0, "sigma_episode": 1.0}
    def point(s1, s2):
        return np.array([[{**base, "switch_1": s1, "switch_2": s2}[n] for n in names]])
    # p(s1, s2) = 1/T * 1/(T - s1 + 1) on s1 <= s2; zero otherwise
    lp = lambda s1, s2: problem.log_prior(point(s1, s2))[0]  # noqa: E731
    assert lp(5, 9) - lp(20, 25) == pytest.approx(-np.log(30 - 5 + 1) + np.log(30 - 20 + 1), abs=1e-9)
    assert lp(9, 5) == -np.inf


def test_sigmoid_fit_finds_the_change_from_a_good_start_and_stalls_from_a_bad_one():
    good = sw.sigmoid_fit(T, Y, tau0=15.0)
    assert good["tau"] == pytest.approx(12.5, abs=1.0) and good["converged"]
    bad = sw.sigmoid_fit(T, Y, tau0=-40.0, width=1.0)  # the sigmoid is flat over the data: no gradient in tau
    assert abs(bad["tau"] - (-40.0)) < 1.0 and bad["log_likelihood"] < good["log_likelihood"] - 10
    # the compiled objective is reused across data sets: another series gives its own answer
    other = sw.sigmoid_fit(T, Y[::-1] * -1.0, tau0=15.0)
    assert other["tau"] == pytest.approx(len(T) - 12 + 0.5, abs=1.5)
    with pytest.raises(ValueError, match="width"):
        sw.sigmoid_fit(T, Y, tau0=15.0, width=0.0)


def test_bad_inputs():
    with pytest.raises(ValueError, match="increasing"):
        sw.normal_switchpoint_model(T[::-1], Y)
    with pytest.raises(ValueError, match="counts"):
        sw.poisson_switchpoint_model(T, Y)
    with pytest.raises(ValueError, match="marginalized=True"):
        sw.switchpoint_pmf(sw.normal_switchpoint_model(T, Y), None, T)
