"""bayeskit.course.switchpoints: the simulated series, the enumeration Gibbs step and the log helpers (notebook 04)."""

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
