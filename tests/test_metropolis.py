"""Statistical tests of the from-scratch Metropolis sampler, with fixed seeds.

Tolerances: a correct sampler puts the mean within 4 Monte Carlo standard errors of the truth
(a |z| > 4 event has probability 6e-5 per coordinate), and with >= 1000 effective draws the sample
sd has a relative standard error of about 1/sqrt(2 ESS) <= 2.2%, so 10% is more than 4 of them.
"""

import numpy as np
import pytest
from scipy import stats

from bayeskit import diagnostics, metropolis
from bayeskit.models import ten_gift_model


def gaussian_log_density(mean, cov):
    precision = np.linalg.inv(cov)

    def log_density(x):
        z = x - mean
        return -0.5 * np.einsum("ni,ij,nj->n", z, precision, z)

    return log_density


def assert_matches(idata, mean, sd, name="x"):
    x = idata.posterior[name].values
    x = x.reshape(x.shape[0], x.shape[1], -1)
    for k in range(x.shape[-1]):
        ess = diagnostics.ess_bulk(x[..., k])
        assert ess > 400, f"coordinate {k}: bulk ESS {ess:.0f} too small for the tolerances"
        z = (x[..., k].mean() - mean[k]) / diagnostics.mcse_mean(x[..., k])
        assert abs(z) < 4, f"coordinate {k}: mean off by {z:.1f} MCSE"
        assert x[..., k].std() == pytest.approx(sd[k], rel=0.10), f"coordinate {k}: sd"
        assert diagnostics.rhat(x[..., k]) < 1.02


def test_standard_normal_in_two_dimensions():
    idata = metropolis(gaussian_log_density(np.zeros(2), np.eye(2)), np.zeros((4, 2)) + [[3, -3]],
                       draws=3000, tune=1000, chains=4, seed=11, progressbar=False)
    assert_matches(idata, np.zeros(2), np.ones(2))
    assert 0.15 < idata.attrs["acceptance_rate"] < 0.45


def test_strongly_correlated_ten_dimensional_gaussian():
    rng = np.random.default_rng(5)
    ndim = 10
    a = rng.normal(size=(ndim, ndim))
    corr = a @ a.T
    corr /= np.sqrt(np.outer(np.diag(corr), np.diag(corr)))
    scales = np.logspace(-2, 1, ndim)  # sds from 0.01 to 10
    cov = (0.97 * corr + 0.03 * np.eye(ndim)) * np.outer(scales, scales)
    assert np.linalg.cond(cov) > 1e5  # badly conditioned: hopeless without covariance adaptation
    mean = np.arange(ndim, dtype=float)
    start = mean + rng.normal(size=(8, ndim)) * scales
    # tune=6000: with 3000 warm-up steps the learned covariance is still rough; the min ESS (167-721) or the
    # R-hat (up to 1.058) missed this test's bounds on 5 of seeds 0-7 with the sampler as it was before the
    # block draws, and on 4 of them after. With 6000, all 16 runs gave min ESS 801-1121 and R-hat < 1.013.
    idata = metropolis(gaussian_log_density(mean, cov), start, draws=5000, tune=6000, chains=8, seed=2,
                       progressbar=False)
    assert_matches(idata, mean, np.sqrt(np.diag(cov)))


def test_ten_gift_posterior_matches_exact():
    model = ten_gift_model()
    exact = model.exact
    idata = metropolis(model.log_posterior, exact.mean + np.random.default_rng(0).normal(size=(8, 10)),
                       draws=4000, tune=2000, chains=8, seed=3, progressbar=False)
    assert_matches(idata, exact.mean, exact.sd)


def test_discrete_parameter_takes_integer_steps():
    # A Poisson(4.5) target on the integers: compare frequencies with the pmf.
    def log_density(x):
        k = x[:, 0]
        return np.where(k >= 0, stats.poisson.logpmf(np.maximum(k, 0), 4.5), -np.inf)

    idata = metropolis(log_density, np.full((4, 1), 2.0), draws=5000, tune=1000, chains=4, seed=9,
                       integer=[0], progressbar=False)
    k = idata.posterior["x"].values[..., 0]
    assert k.dtype.kind == "i"
    assert k.mean() == pytest.approx(4.5, abs=4 * diagnostics.mcse_mean(k))
    freq = np.bincount(k.ravel(), minlength=15)[:15] / k.size
    # each frequency's standard error is below sqrt(p(1-p)/ESS) <~ 0.015 here
    np.testing.assert_allclose(freq, stats.poisson.pmf(np.arange(15), 4.5), atol=0.03)


def test_same_seed_same_draws_and_different_seed_different_draws():
    f = gaussian_log_density(np.zeros(3), np.eye(3))
    a = metropolis(f, np.ones((2, 3)), draws=200, tune=200, chains=2, seed=42, progressbar=False)
    b = metropolis(f, np.ones((2, 3)), draws=200, tune=200, chains=2, seed=42, progressbar=False)
    c = metropolis(f, np.ones((2, 3)), draws=200, tune=200, chains=2, seed=43, progressbar=False)
    np.testing.assert_array_equal(a.posterior["x"].values, b.posterior["x"].values)
    assert not np.array_equal(a.posterior["x"].values, c.posterior["x"].values)


def test_result_layout_and_attrs():
    idata = metropolis(gaussian_log_density(np.zeros(2), np.eye(2)), np.zeros(2), draws=50, tune=10, chains=3,
                       seed=1, var_names=["a", "b"], progressbar=False)
    assert idata.posterior["a"].dims == ("chain", "draw")
    assert idata.posterior["a"].shape == (3, 50)
    assert set(idata.sample_stats.data_vars) == {"accepted", "lp"}
    assert idata.attrs["n_evaluations"] == 3 * (1 + 10 + 50)
    assert idata.attrs["engine"] == "metropolis" and idata.attrs["seed"] == 1


def test_minus_infinity_is_rejected_never_visited():
    # Half-normal target: the chain must never be recorded at x < 0.
    def log_density(x):
        return np.where(x[:, 0] > 0, -0.5 * x[:, 0] ** 2, -np.inf)

    idata = metropolis(log_density, np.ones((4, 1)), draws=2000, tune=500, chains=4, seed=4, progressbar=False)
    x = idata.posterior["x"].values
    assert x.min() > 0
    assert x.mean() == pytest.approx(np.sqrt(2 / np.pi), abs=4 * diagnostics.mcse_mean(x[..., 0]))


def test_clear_errors():
    f = gaussian_log_density(np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="initial point of chain 1 has log-density -inf"):
        metropolis(lambda x: np.where(x[:, 0] > 0, 0.0, -np.inf), [[1.0, 0], [-1.0, 0]], chains=2, progressbar=False)
    with pytest.raises(ValueError, match="returned nan at batch index"):
        metropolis(lambda x: np.full(len(x), np.nan), np.zeros(2), chains=2, progressbar=False)
    with pytest.raises(ValueError, match=r"one value per point: shape \(2,\)"):
        metropolis(lambda x: np.zeros((len(x), 2)), np.zeros(2), chains=2, progressbar=False)
    with pytest.raises(ValueError, match=r"initial must have shape"):
        metropolis(f, np.zeros((3, 2)), chains=2, progressbar=False)
    with pytest.raises(ValueError, match="draws must be >= 1"):
        metropolis(f, np.zeros(2), draws=0, progressbar=False)
    with pytest.raises(ValueError, match="integer-valued but chain 0 starts at 0.5"):
        metropolis(f, [0.5, 0.0], chains=1, integer=[0], progressbar=False)


def test_driver_is_the_textbook_chain_on_its_own_random_numbers():
    # Regression check (exact, no tolerance): the driver draws its random numbers in blocks of steps and
    # builds each proposal in its row of the record. Replaying the same numbers through a plain
    # one-chain-at-a-time Metropolis loop must give the same draws, log-densities and acceptances. Catches a
    # block's numbers used at the wrong step, a rejected chain not copied back, a record one step off, the
    # acceptance test reversed, and an integer coordinate not rounded.
    from bayeskit.samplers.metropolis import _block_size

    def log_density(x):
        return -0.5 * (x[:, 0] ** 2 + (x[:, 1] - 1) ** 2 / 4) - np.abs(x[:, 2] - 2)

    chains, ndim, draws, sd = 3, 3, 150, np.array([0.8, 1.5, 1.2])
    start = np.array([[0.0, 1.0, 2.0], [1.0, -1.0, 0.0], [-1.0, 2.0, 5.0]])
    idata = metropolis(log_density, start, draws=draws, tune=0, chains=chains, seed=7, proposal_sd=sd,
                       integer=[2], progressbar=False)
    rng = np.random.default_rng(7)
    size = _block_size(chains, ndim)
    x, lp = start.copy(), log_density(start)
    want_x, want_lp, want_acc = [], [], []
    for a in range(0, draws, size):
        n = min(size, draws - a)
        z, u = rng.standard_normal((n, chains, ndim)), rng.random((n, chains))
        for k in range(n):
            for c in range(chains):
                step = sd * z[k, c]
                step[2] = np.rint(step[2])
                proposal = x[c] + step
                proposal_lp = log_density(proposal[None])[0]
                if u[k, c] < np.exp(min(proposal_lp - lp[c], 0.0)):
                    x[c], lp[c] = proposal, proposal_lp
                    want_acc.append(True)
                else:
                    want_acc.append(False)
            want_x.append(x.copy())
            want_lp.append(lp.copy())
    got_x = np.stack([idata.posterior[f"x{k}"].values for k in range(ndim)], axis=-1)  # x2 integer: its own variable
    np.testing.assert_allclose(got_x, np.swapaxes(want_x, 0, 1), rtol=0, atol=1e-12)
    np.testing.assert_allclose(idata.sample_stats["lp"].values, np.array(want_lp).T, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(idata.sample_stats["accepted"].values, np.array(want_acc).reshape(draws, chains).T)


# After a +inf, the run goes on to the end of its block of steps, where inf - inf can warn before the error is raised.
@pytest.mark.filterwarnings("ignore:invalid value encountered in subtract:RuntimeWarning")
@pytest.mark.parametrize("tune", [0, 200])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_plus_inf_later_in_a_run_is_an_error_naming_the_point(tune, bad):
    # The values are checked once per block of steps: the error must still come, name the value, and name the
    # point that gave it (x[0] > 2 here), not a neighbour or a later step's point. Catches a block check that
    # misses a value, or that reports the wrong step's point.
    def log_density(x):
        return np.where(x[:, 0] > 2, bad, -0.5 * np.sum(x**2, axis=1))

    with pytest.raises(ValueError, match=f"returned {bad} at batch index") as error:
        metropolis(log_density, np.zeros(2), draws=2000, tune=tune, chains=4, seed=1, progressbar=False)
    point = error.value.args[0].split("(point [")[1].split("]")[0]
    assert float(point.split(",")[0]) > 2
