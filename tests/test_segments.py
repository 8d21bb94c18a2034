"""Exact switchpoint posteriors from segment marginal likelihoods (bayeskit.segments)."""

import numpy as np
import pytest
from scipy import integrate, special, stats

from bayeskit.segments import (NormalSegmentPrior, PoissonSegmentPrior, SegmentStats, no_switchpoint,
                               one_switchpoint, tv_distance, tv_tolerance, two_switchpoints_reversion)

PRIOR = NormalSegmentPrior(mu_mean=0.5, mu_sd=3.0, sigma_sd=2.0)


def brute_normal_segment(y, prior):
    """log p(y), E[mu], E[sigma] by nested adaptive quadrature (scipy quad): mu numerically inside,
    over +-15 conditional sds around its conditional mean, then sigma."""
    def inner(sigma, g):
        prec = len(y) / sigma**2 + 1 / prior.mu_sd**2
        centre = (y.sum() / sigma**2 + prior.mu_mean / prior.mu_sd**2) / prec
        half = 15 / np.sqrt(prec)
        const = -len(y) * np.log(np.sqrt(2 * np.pi) * sigma) - np.log(np.sqrt(2 * np.pi) * prior.mu_sd)

        def f(mu):
            return np.exp(const - 0.5 * (((y - mu) / sigma) ** 2).sum() - 0.5 * ((mu - prior.mu_mean) / prior.mu_sd) ** 2) * g(mu, sigma)
        return integrate.quad(f, centre - half, centre + half, epsabs=0, epsrel=1e-12, limit=200)[0] \
            * np.sqrt(2 / np.pi) / prior.sigma_sd * np.exp(-0.5 * (sigma / prior.sigma_sd) ** 2)
    outer = lambda g: integrate.quad(lambda s: inner(s, g), 0, 12 * prior.sigma_sd, epsabs=0, epsrel=1e-11,  # noqa: E731
                                     limit=400, points=[0.1, 1.0])[0]
    z = outer(lambda mu, s: 1.0)
    return np.log(z), outer(lambda mu, s: mu) / z, outer(lambda mu, s: s) / z


@pytest.mark.parametrize("y", [np.array([1.3]), np.array([0.2, -0.7, 1.9]), np.array([4.0, 4.5, 3.8, 5.1, 4.4])])
def test_normal_segment_matches_two_dimensional_quadrature(y):
    log_ml, m = PRIOR.integrate(SegmentStats.cumulative(y).take(np.array([len(y)])))
    ref_log_ml, ref_mu, ref_sigma = brute_normal_segment(y, PRIOR)
    # adaptive quadrature at relative tolerance ~1e-11 and an exponentially accurate trapezoid rule in
    # log sigma: agreement to 1e-7 leaves room for quad's error estimate being optimistic
    assert log_ml[0] == pytest.approx(ref_log_ml, abs=1e-7)
    assert m["mu"][0] == pytest.approx(ref_mu, abs=1e-7)
    assert m["sigma"][0] == pytest.approx(ref_sigma, abs=1e-7)


def test_an_empty_segment_has_likelihood_one_and_the_prior_moments():
    log_ml, m = PRIOR.integrate(SegmentStats.cumulative(np.array([1.0])).take(np.array([0])))
    assert log_ml[0] == pytest.approx(0.0, abs=1e-10)
    assert m["mu"][0] == pytest.approx(PRIOR.mu_mean)
    assert m["mu2"][0] == pytest.approx(PRIOR.mu_mean**2 + PRIOR.mu_sd**2)
    assert m["sigma"][0] == pytest.approx(PRIOR.sigma_sd * np.sqrt(2 / np.pi), rel=1e-9)
    assert m["sigma2"][0] == pytest.approx(PRIOR.sigma_sd**2, rel=1e-9)


def test_poisson_segment_closed_form_matches_quadrature():
    prior = PoissonSegmentPrior(shape=2.0, rate=0.5)
    counts = np.array([3, 0, 5, 2])
    log_ml, m = prior.integrate(SegmentStats.cumulative(counts).take(np.array([4])))
    f = lambda r: np.prod(stats.poisson.pmf(counts, r)) * stats.gamma.pdf(r, 2.0, scale=2.0)  # noqa: E731
    z = integrate.quad(f, 0, 60, epsabs=0, epsrel=1e-12)[0]
    assert log_ml[0] == pytest.approx(np.log(z), abs=1e-9)
    assert m["rate"][0] == pytest.approx(integrate.quad(lambda r: r * f(r), 0, 60, epsrel=1e-12)[0] / z, rel=1e-9)


def brute_one_switchpoint(t, y, prior):
    """Enumerate s; each segment by the single-segment routine (already checked against dblquad)."""
    logs = []
    for s in t:
        a, b = y[t <= s], y[t > s]
        la = PRIOR_SEG(a, prior)
        lb = PRIOR_SEG(b, prior)
        logs.append(la + lb - np.log(len(t)))
    logs = np.array(logs)
    return np.exp(logs - special.logsumexp(logs)), special.logsumexp(logs)


def PRIOR_SEG(y, prior):
    if len(y) == 0:
        return 0.0
    return prior.integrate(SegmentStats.cumulative(y).take(np.array([len(y)])))[0][0]


def test_one_switchpoint_equals_enumeration_and_finds_the_change():
    rng = np.random.default_rng(4)
    t = np.arange(1, 31)
    y = np.concatenate([rng.normal(-1, 1, 18), rng.normal(4, 1, 12)])
    post = one_switchpoint(t, y, PRIOR)
    pmf, log_z = brute_one_switchpoint(t, y, PRIOR)
    np.testing.assert_allclose(post.pmf, pmf, atol=1e-12)
    assert post.log_evidence == pytest.approx(log_z, abs=1e-10)
    assert post.mode() == 18 and post.pmf.sum() == pytest.approx(1.0)
    lo, hi = post.interval(0.94)
    assert lo <= 18 <= hi
    assert post.mean["mu_before"] == pytest.approx(-1, abs=0.6) and post.mean["mu_after"] == pytest.approx(4, abs=0.8)


def test_two_switchpoints_reduce_to_enumeration():
    rng = np.random.default_rng(5)
    t = np.arange(3, 15)
    y = np.concatenate([rng.normal(0, 1, 4), rng.normal(5, 1, 4), rng.normal(0, 1, 4)])
    post = two_switchpoints_reversion(t, y, PRIOR)
    logs = {}
    for a in t:
        for b in t[t >= a]:
            episode = (t > a) & (t <= b)
            logs[(a, b)] = PRIOR_SEG(y[~episode], PRIOR) + PRIOR_SEG(y[episode], PRIOR) - np.log(len(t)) - np.log(np.sum(t >= a))
    keys = list(logs)
    values = np.array([logs[k] for k in keys])
    log_z = special.logsumexp(values)
    assert post.log_evidence == pytest.approx(log_z, abs=1e-10)
    lookup = {tuple(p): q for p, q in zip(post.switchpoints.tolist(), post.pmf)}
    np.testing.assert_allclose([lookup[k] for k in keys], np.exp(values - log_z), atol=1e-12)
    assert (post.mode(0), post.mode(1)) == (6, 10)


def test_no_switchpoint_evidence_is_the_single_segment():
    y = np.array([0.3, 1.2, -0.4])
    assert no_switchpoint(np.arange(3), y, PRIOR).log_evidence == pytest.approx(PRIOR_SEG(y, PRIOR))


def test_tv_tolerance_holds_for_independent_draws():
    # The bound should be exceeded with probability < 1e-4; in 2000 repetitions with n = 500 draws
    # it must never be (and the expected TV alone should be exceeded often: the bound is not vacuous).
    rng = np.random.default_rng(0)
    values = np.arange(10)
    pmf = rng.dirichlet(np.ones(10))
    bound = tv_tolerance(pmf, 500)
    tvs = np.array([tv_distance(rng.choice(values, 500, p=pmf), values, pmf) for _ in range(2000)])
    assert tvs.max() < bound
    assert tvs.max() > bound / 3
    assert tv_distance(np.array([3, 3, 99]), values, np.eye(10)[3]) == pytest.approx(1 / 3)


def test_bad_series_are_refused():
    with pytest.raises(ValueError, match="increasing"):
        one_switchpoint(np.array([1, 1, 2]), np.zeros(3), PRIOR)
    with pytest.raises(ValueError, match="counts"):
        one_switchpoint(np.arange(3), np.array([1.0, 0.5, 2.0]), PoissonSegmentPrior())
    with pytest.raises(TypeError, match="NormalSegmentPrior"):
        one_switchpoint(np.arange(3), np.zeros(3), prior="normal")
    with pytest.raises(ValueError, match="mu_sd"):
        NormalSegmentPrior(mu_sd=0)
