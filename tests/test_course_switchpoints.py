"""bayeskit.course.switchpoints: the simulated series, the enumeration Gibbs step, R-hat's tolerance, the exact Poisson
predictive and the log helpers (notebook 04)."""

import functools
import logging

import numpy as np
import pytest
from scipy import special, stats

from bayeskit.course import switchpoints as cs


def test_simulate_one_change_is_seeded_and_changes_where_asked():
    t, y = cs.simulate_one_change(n=100, change=60, before=(-1.0, 1.0), after=(5.0, 2.0), seed=3)
    t2, y2 = cs.simulate_one_change(n=100, change=60, before=(-1.0, 1.0), after=(5.0, 2.0), seed=3)
    assert np.array_equal(t, np.arange(1, 101)) and np.array_equal(y, y2)
    # segment means within 4 standard errors of the levels asked for (catches a change at the wrong index)
    assert abs(y[:60].mean() + 1.0) < 4 * 1.0 / np.sqrt(60)
    assert abs(y[60:].mean() - 5.0) < 4 * 2.0 / np.sqrt(40)
    with pytest.raises(ValueError, match="change"):
        cs.simulate_one_change(n=10, change=10)
    with pytest.raises(ValueError, match="sds"):
        cs.simulate_one_change(after=(0.0, -1.0))


def test_excursions_counts_entries_and_time_away():
    draws = np.array([[5, 5, 4, 4, 5, 6, 5], [5, 5, 5, 5, 5, 5, 5], [3, 5, 5, 5, 5, 5, 4]])
    assert cs.excursions(draws, 5) == {"draws_off": 5, "excursions": 4, "chains_never_off": 1}


def test_pymc_log_messages_collects_and_restores():
    logger = logging.getLogger("pymc")
    before = (logger.handlers[:], logger.propagate)
    with cs.pymc_log_messages() as messages:
        logger.warning("a warning %d", 1)
        logger.info("progress")            # below the level collected
    assert messages == ["a warning 1"]
    assert (logger.handlers, logger.propagate) == before


def test_quiet_pymc_progress_hides_info_only_and_restores_the_level(caplog):
    logger = logging.getLogger("pymc")
    level = logger.level
    with caplog.at_level(logging.DEBUG), cs.quiet_pymc_progress():
        logger.info("Sampling: [y]")
        logger.warning("a real warning")
    assert "a real warning" in caplog.text and "Sampling" not in caplog.text
    assert logger.level == level


def test_enumeration_gibbs_draws_from_the_exact_conditional():
    # s ~ DiscreteUniform(0, 4), y_obs = 2.3 ~ Normal(s, 1): with no other variable, each Gibbs update is an
    # independent draw from p(s | y); counts within 4 binomial sds of the exact probabilities (catches a
    # conditional that ignores the likelihood or the prior, or an off-by-one between values and indices)
    import pymc as pm

    with pm.Model() as model:
        s = pm.DiscreteUniform("s", 0, 4)
        pm.Normal("y", mu=s, sigma=1.0, observed=2.3)
        step = cs.EnumerationGibbs([s], values=np.arange(-2, 7))   # a superset: -2, -1, 5, 6 have probability 0
        idata = pm.sample(draws=2000, tune=0, chains=2, step=step, random_seed=1, progressbar=False,
                          compute_convergence_checks=False)
    draws = idata.posterior["s"].values.ravel()
    values = np.arange(5)
    logp = stats.norm.logpdf(2.3, values, 1.0)
    exact = np.exp(logp - special.logsumexp(logp))
    counts = np.array([(draws == v).sum() for v in values])
    n = draws.size
    assert counts.sum() == n
    assert np.all(np.abs(counts - n * exact) < 4 * np.sqrt(n * exact * (1 - exact)) + 1)
    assert idata.sample_stats["moved"].values.mean() > 0.5


def test_enumeration_gibbs_respects_a_support_that_depends_on_another_variable():
    import pymc as pm

    with pm.Model() as model:
        s1 = pm.DiscreteUniform("s1", 1, 6)
        s2 = pm.DiscreteUniform("s2", s1, 6)
        step = cs.EnumerationGibbs([s1, s2], values=np.arange(1, 7))
        idata = pm.sample(draws=300, tune=0, chains=1, step=step, random_seed=2, progressbar=False,
                          compute_convergence_checks=False)
    post = idata.posterior
    assert (post["s2"].values >= post["s1"].values).all()
    # the prior of the pair: P(s1 = 6) = 1/6 (then s2 = 6); many draws land there, none below s1
    assert 0 < (post["s1"].values == 6).mean() < 0.5


def test_enumeration_gibbs_refuses_continuous_variables():
    import pymc as pm

    with pm.Model():
        x = pm.Normal("x")
        with pytest.raises(ValueError, match="scalar discrete"):
            cs.EnumerationGibbs([x], values=np.arange(3))
        s = pm.DiscreteUniform("s", 0, 3)
        with pytest.raises(ValueError, match="at least two"):
            cs.EnumerationGibbs([s], values=[1])


def _ar1_chains(rng, rho, chains, n):
    # stationary AR(1) chains with unit variance: every chain samples the same N(0, 1)
    x = np.empty((chains, n))
    x[:, 0] = rng.normal(size=chains)
    noise = rng.normal(size=(chains, n)) * np.sqrt(1 - rho**2)
    for i in range(1, n):
        x[:, i] = rho * x[:, i - 1] + noise[:, i]
    return x


def test_rhat_tolerance_is_rarely_exceeded_by_agreeing_chains_and_not_vacuous():
    from bayeskit import diagnostics

    # 100 runs of 4 agreeing AR(1) chains (ESS about 450): at alpha = 0.01 at most 1 exceedance is expected
    # (measured: the bound is conservative, 0 in 300 runs); 5 is 4 Poisson sds above 1. At alpha = 0.5 the
    # bound must still bite (measured 0.21 in 300 runs; 0.04 is 4 binomial sds below): catches a bound so
    # loose that it would pass anything, or one computed with the wrong number of split chains
    rng = np.random.default_rng(11)
    rhats, esss = [], []
    for _ in range(100):
        x = _ar1_chains(rng, 0.8, 4, 1000)
        rhats.append(diagnostics.rhat(x))
        esss.append(diagnostics.ess_bulk(x))
    strict = sum(r > cs.rhat_tolerance(4, e, alpha=0.01) for r, e in zip(rhats, esss))
    loose = np.mean([r > cs.rhat_tolerance(4, e, alpha=0.5) for r, e in zip(rhats, esss)])
    assert strict <= 5
    assert loose >= 0.04
    # values quoted in the docstring (regression check)
    assert abs(cs.rhat_tolerance(4, 4000) - 1.004) < 0.001 and abs(cs.rhat_tolerance(4, 700) - 1.025) < 0.001
    with pytest.raises(ValueError, match="2 chains"):
        cs.rhat_tolerance(1, 100)
    with pytest.raises(ValueError, match="ess"):
        cs.rhat_tolerance(4, 0)


def test_poisson_predictive_pmf_matches_direct_integration():
    # a tiny series, every switchpoint and rate integral done directly by quadrature (no conjugate formula):
    # P(new count at t_i = d | data) = p(data, d) / p(data), each a sum over s of products of 1-D integrals.
    # Catches a wrong negative-binomial parameterisation or a time put in the wrong segment (t_i <= s)
    from scipy import integrate

    t, counts, shape, rate = np.arange(1, 5), np.array([3, 1, 0, 2]), 2.0, 0.5
    got = cs.poisson_predictive_pmf(t, counts, shape=shape, rate=rate, max_count=8)

    @functools.lru_cache(maxsize=None)
    def integral(seg_counts, extra):
        def f(r):
            log_f = (special.xlogy(np.array(seg_counts), r).sum() - r * len(seg_counts)
                     - special.gammaln(np.array(seg_counts) + 1).sum() + stats.gamma.logpdf(r, shape, scale=1 / rate))
            if extra is not None:
                log_f += extra * np.log(r) - r - special.gammaln(extra + 1)
            return np.exp(log_f)
        return integrate.quad(f, 0, np.inf, epsabs=0, epsrel=1e-10)[0]

    def segment_integral(seg_counts, extra=None):
        return integral(tuple(int(c) for c in seg_counts), extra)

    T = len(t)
    evidence = sum(segment_integral(counts[:k]) * segment_integral(counts[k:]) for k in range(1, T + 1))
    for i in range(T):
        for d in range(3):
            joint = sum(segment_integral(counts[:k], d if i < k else None)
                        * segment_integral(counts[k:], None if i < k else d) for k in range(1, T + 1))
            assert got[i, d] == pytest.approx(joint / evidence, rel=1e-7)
    # with the default range of counts the mass left above it is negligible
    assert np.allclose(cs.poisson_predictive_pmf(t, counts, shape=shape, rate=rate).sum(axis=1), 1, atol=1e-9)


def test_count_band_gives_the_quantiles_and_the_mass_outside():
    d = np.arange(40)
    pmf = np.vstack([stats.poisson.pmf(d, 3.0), stats.poisson.pmf(d, 0.4)])
    lower, upper, p_out = cs.count_band(pmf, 0.9)
    for row, mu in enumerate([3.0, 0.4]):
        assert lower[row] == stats.poisson.ppf(0.05, mu) and upper[row] == stats.poisson.ppf(0.95, mu)
        expected = stats.poisson.cdf(lower[row] - 1, mu) + stats.poisson.sf(upper[row], mu)
        assert p_out[row] == pytest.approx(expected, rel=1e-9, abs=1e-15)
    assert (p_out <= 0.1 + 1e-12).all()
    with pytest.raises(ValueError, match="prob"):
        cs.count_band(pmf, 1.0)
