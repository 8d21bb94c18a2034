"""Notebook 05's helpers (bayeskit.course.nested_demos) against independent computations."""

import numpy as np
import pytest
from scipy import integrate, special, stats

from bayeskit import segments
from bayeskit.course import nested_demos as nd

COUNTS = np.array([4, 5, 3, 6, 1, 0, 2, 1])
T = np.arange(1, len(COUNTS) + 1)


def test_counting_likelihood_records_batches():
    f = nd.CountingLikelihood(lambda x: -(x**2).sum(axis=1))
    f(np.zeros((3, 2)))
    f(np.ones((5, 2)))
    g = nd.CountingLikelihood(lambda x: -(x**2).sum(axis=1), vectorized=False)
    assert g(np.ones(2)) == -2.0
    s = f.summary()
    assert (s["likelihood calls"], s["points evaluated"], s["largest call"]) == (2, 8, 5)
    assert s["mean points per call"] == 4.0 and s["calls of more than one point"] == 2
    assert g.summary()["calls of more than one point"] == 0


def test_count_hops_with_hysteresis():
    # wiggles across 0 that stay between -1 and 1 are not hops; each passage from below -1 to above 1 (or back) is one
    x = np.array([-2, -0.5, 0.5, -0.5, -2, 0.5, 2, 0.9, -0.9, 2, -1.5, 1.5])
    assert nd.count_hops(x, -1.0, 1.0) == 3
    assert nd.count_hops(np.full(10, -2.0), -1.0, 1.0) == 0
    with pytest.raises(ValueError, match="low must be below high"):
        nd.count_hops(x, 1.0, -1.0)


def test_max_log_likelihood_ratio_by_brute_force():
    def ll(seg):
        return stats.poisson.logpmf(seg, seg.mean()).sum() if seg.mean() > 0 else 0.0
    best = max(ll(COUNTS[:k]) + ll(COUNTS[k:]) for k in range(1, len(COUNTS)))
    assert nd.poisson_max_log_likelihood_ratio(COUNTS) == pytest.approx(best - ll(COUNTS))


def test_lindley_limits_and_identities():
    table = nd.lindley_table(T, COUNTS, [1.0, 1e3, 1e30])
    bf = table["log BF (one switchpoint vs none)"]
    # P(s = last) = 1 / (T BF): the no-change model is the one value s = t[-1] of the switchpoint model
    np.testing.assert_allclose(table["P(s = last year)"], 1 / (len(COUNTS) * np.exp(bf)), rtol=1e-10)
    # with an ever wider prior the two-rate terms vanish like 1 / m against the one-rate term: log BF -> -log T
    assert bf.iloc[-1] == pytest.approx(-np.log(len(COUNTS)), abs=1e-6)
    m = nd.log_bf_sign_change(T, COUNTS, (0.0, 30.0))
    one = segments.one_switchpoint(T, COUNTS, segments.PoissonSegmentPrior(1.0, 1 / m)).log_evidence
    none = segments.no_switchpoint(T, COUNTS, segments.PoissonSegmentPrior(1.0, 1 / m)).log_evidence
    assert one - none == pytest.approx(0.0, abs=1e-6)


def test_median_rate_after_by_quadrature():
    prior = segments.PoissonSegmentPrior(1.0, 0.5)
    post = segments.one_switchpoint(T, COUNTS, prior)
    median = nd.lindley_table(T, COUNTS, [2.0])["posterior median rate after"].iloc[0]
    # the later rate's posterior: mixture over s of Gamma(1 + later counts, 0.5 + later length)
    after_total = COUNTS.sum() - np.cumsum(COUNTS)
    after_n = len(COUNTS) - np.arange(1, len(COUNTS) + 1)
    pdf = lambda x: sum(p * stats.gamma.pdf(x, 1 + a, scale=1 / (0.5 + n)) for p, a, n in zip(post.pmf, after_total, after_n))
    assert integrate.quad(pdf, 0, median, points=[1, 3])[0] == pytest.approx(0.5, abs=1e-7)


def test_exact_loo_by_explicit_sums():
    prior = segments.PoissonSegmentPrior(1.0, 1.0)
    loo = nd.exact_loo_poisson(COUNTS, prior)

    def seg_log_ml(c):  # one segment's marginal likelihood, written out
        c = np.asarray(c, float)
        a, b = 1.0 + c.sum(), 1.0 + len(c)
        return special.gammaln(a) - a * np.log(b) - special.gammaln(c + 1).sum()

    def log_z(mask):  # evidence of the data where mask is True, s uniform over all times
        none = seg_log_ml(COUNTS[mask])
        terms = [seg_log_ml(COUNTS[: k + 1][mask[: k + 1]]) + seg_log_ml(COUNTS[k + 1:][mask[k + 1:]]) for k in range(len(COUNTS))]
        return none, special.logsumexp(terms) - np.log(len(COUNTS))

    full = log_z(np.ones(len(COUNTS), bool))
    for i in range(len(COUNTS)):
        mask = np.ones(len(COUNTS), bool)
        mask[i] = False
        without = log_z(mask)
        assert loo["no change"][i] == pytest.approx(full[0] - without[0], abs=1e-10)
        assert loo["one switchpoint"][i] == pytest.approx(full[1] - without[1], abs=1e-10)
    # no change: the leave-one-out predictive is negative binomial, in closed form
    rest = COUNTS.sum() - COUNTS
    nb = stats.nbinom.logpmf(COUNTS, 1 + rest, (1 + len(COUNTS) - 1) / (1 + len(COUNTS)))
    np.testing.assert_allclose(loo["no change"], nb, atol=1e-10)


def test_switch_year_loo_shift_by_explicit_sums():
    prior = segments.PoissonSegmentPrior(1.0, 0.5)
    shift = nd.switch_year_loo_shift(COUNTS, prior)

    def seg_log_ml(c):  # one segment's marginal likelihood under Gamma(1, 0.5), written out
        c = np.asarray(c, float)
        a, b = 1.0 + c.sum(), 0.5 + len(c)
        return np.log(0.5) + special.gammaln(a) - a * np.log(b) - special.gammaln(c + 1).sum() if len(c) else 0.0

    def switch_pmf(mask):  # P(s = t_k | the data where mask is True), s uniform over all times
        terms = np.array([seg_log_ml(COUNTS[: k + 1][mask[: k + 1]]) + seg_log_ml(COUNTS[k + 1:][mask[k + 1:]])
                          for k in range(len(COUNTS))])
        return np.exp(terms - special.logsumexp(terms))

    full = switch_pmf(np.ones(len(COUNTS), bool))
    for i in range(len(COUNTS)):
        mask = np.ones(len(COUNTS), bool)
        mask[i] = False
        assert shift[i] == pytest.approx(0.5 * np.abs(switch_pmf(mask) - full).sum(), abs=1e-12)


def test_no_change_models_build():
    pytest.importorskip("pymc")
    assert set(nd.poisson_no_change_model(COUNTS).named_vars) >= {"rate", "counts"}
    assert set(nd.normal_no_change_model(COUNTS.astype(float)).named_vars) >= {"mu", "sigma", "y"}


def test_ultranest_slice_run_reports_the_insertion_test():
    pytest.importorskip("ultranest")
    from bayeskit.models.benchmarks import gaussian_mixture

    problem, exact = gaussian_mixture([[0.0, 0.0, 0.0]], [1.0], sd=0.5, half_width=5)
    run = nd.ultranest_slice_run(problem, nsteps=12, n_live=100, popsize=25, seed=1)
    assert set(run) >= {"log Z", "error", "likelihood calls", "insertion test passed", "shortest run", "samples"}
    # a single Gaussian in 3-D with 12 slice steps (4 per dimension): log Z within 3 of its reported errors
    # (a biased slice sampler, or a transform off the prior, would shift it)
    assert abs(run["log Z"] - exact["log_evidence"]) < 3 * run["error"]
    assert run["samples"].shape[1] == 3 and run["shortest run"] > 0
