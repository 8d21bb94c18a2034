"""Static HMC (bayeskit.samplers.hmc): the integrator, exactness, calibration (the engines: tests/test_nuts.py).

Tolerances (fixed seeds, so each outcome is deterministic; the probabilities say how often a correct sampler
would fail with another seed):

* means and sds within K_MCSE = 4 Monte Carlo standard errors of the exact values (MCSE of the mean
  ``sd / sqrt(ESS)``, of the sd by the delta method, :func:`bayeskit.diagnostics.mcse_sd`): a |z| > 4 event
  has probability 6e-5 per quantity, 0.6% over the 100 quantities of the 50-D Gaussian;
* exact tests (KS, chi-square) at level ALPHA = 0.001, each paired with a planted defect that the same test
  must reject, so that the test is shown to have power.
"""

import numpy as np
import pytest
from scipy import stats

from bayeskit import diagnostics
from bayeskit.samplers import hmc as H

ALPHA = 0.001


from _gradient_targets import K_MCSE, assert_moments, correlated_gaussian_50d, gaussian, gumbel  # noqa: E402



# ------------------------------------------------------------------------------------------------ the integrator
def banana(z):
    """A 2-D non-Gaussian target (curved ridge) for the integrator's properties."""
    x, y = z[:, 0], z[:, 1]
    r = y - x**2
    lp = -0.5 * x**2 - 0.5 * r**2 / 0.25
    grad = np.column_stack([-x + 2 * x * r / 0.25, -r / 0.25])
    return lp, grad


def integrate(f, z, p, eps, n, metric):
    lp, g = f(z)
    for _ in range(n):
        z, p, lp, g = H.leapfrog(f, z, p, g, eps, metric)
    return z, p, lp


def test_leapfrog_is_reversible():
    """Negate the momentum, integrate as long again, negate: back at the start, to rounding (1e-10 after 50
    steps). An asymmetric kick (a full step where a half belongs) breaks this at the order of eps."""
    metric = H.Metric.from_inverse(np.array([[1.0, 0.5]]))
    z0, p0 = np.array([[0.3, 0.2]]), np.array([[0.7, -1.1]])
    z1, p1, _ = integrate(banana, z0, p0, 0.05, 50, metric)
    z2, p2, _ = integrate(banana, z1, -p1, 0.05, 50, metric)
    np.testing.assert_allclose(z2, z0, atol=1e-10)
    np.testing.assert_allclose(-p2, p0, atol=1e-10)


def test_leapfrog_preserves_volume():
    """The Jacobian determinant of 20 leapfrog steps, by central differences (error ~h^2 = 1e-10 times the
    third derivatives), is 1 within 1e-6; Euler's method (p and z updated from the old point) is not."""
    metric = H.Metric.identity(1, 2)

    def flow(u, leap=True):
        z, p = u[None, :2], u[None, 2:]
        if leap:
            z, p, _ = integrate(banana, z, p, 0.05, 20, metric)
        else:
            for _ in range(20):
                _, g = banana(z)
                z, p = z + 0.05 * p, p + 0.05 * g
        return np.concatenate([z[0], p[0]])

    u0, h = np.array([0.3, 0.2, 0.7, -1.1]), 1e-5
    for leap, close in [(True, True), (False, False)]:
        jac = np.column_stack([(flow(u0 + h * e, leap) - flow(u0 - h * e, leap)) / (2 * h) for e in np.eye(4)])
        assert (abs(np.linalg.det(jac) - 1) < 1e-6) == close, (leap, np.linalg.det(jac))


def test_energy_error_is_second_order_and_bounded():
    """Leapfrog's energy error is O(eps^2) uniformly in time (it conserves a nearby "shadow" Hamiltonian):
    halving eps divides the largest error over a fixed duration by 4 (1 + O(eps^2); within 10% here, eps 0.1),
    and over 100 times longer it grows by less than 50%. Euler's error grows with time instead."""
    metric = H.Metric.identity(1, 1)

    def max_error(eps, duration, euler=False):
        z, p = np.array([[0.5]]), np.array([[1.3]])
        lp, g = gumbel(z)
        h0 = -lp[0] + 0.5 * p[0, 0] ** 2
        worst = 0.0
        for _ in range(int(round(duration / eps))):
            if euler:
                z, p = z + eps * p, p + eps * g
                lp, g = gumbel(z)
            else:
                z, p, lp, g = H.leapfrog(gumbel, z, p, g, eps, metric)
            worst = max(worst, abs(-lp[0] + 0.5 * p[0, 0] ** 2 - h0))
        return worst

    ratio = max_error(0.1, 10) / max_error(0.05, 10)
    assert 3.6 < ratio < 4.4, ratio
    assert max_error(0.1, 1000) < 1.5 * max_error(0.1, 10)
    assert max_error(0.1, 100, euler=True) > 10 * max_error(0.1, 10, euler=True)


# ------------------------------------------------------------------------------------------------ exactness
N_INVARIANCE = 20_000


def one_transition_from_the_target(metric_factor: float = 1.0, accept: bool = True) -> float:
    """KS p-value of the positions after one HMC transition (step 1.2, 3 steps, acceptance ~0.73) of 20 000
    chains started from exact Gumbel draws. If the kernel leaves the target invariant, they are Gumbel draws.

    Planted defects: ``metric_factor`` != 1 draws momenta with sd ``metric_factor`` while the kinetic energy
    assumes sd 1 (a mass matrix applied inconsistently); ``accept=False`` keeps every leapfrog end point."""
    rng = np.random.default_rng(2024)
    x0 = rng.gumbel(size=(N_INVARIANCE, 1))
    state = H.init(gumbel, x0)
    metric = H.Metric(np.ones((N_INVARIANCE, 1)), False, np.full((N_INVARIANCE, 1), metric_factor))
    if accept:
        state, _ = H.step(state, gumbel, rng, 1.2, metric, 3)
        x = state.position
    else:
        x, _, _ = integrate(gumbel, x0, metric.sample_momentum(rng), 1.2, 3, metric)
    return stats.kstest(x[:, 0], stats.gumbel_r.cdf).pvalue


def test_one_transition_leaves_the_target_invariant():
    """Exact test of invariance (hence of the accept step and the integrator together), KS at ALPHA = 0.001.

    Power: with n = 20 000 the KS critical distance at that level is 1.95 / sqrt(n) = 0.014, so any distortion of
    the CDF by more than ~0.02 is rejected with probability > 0.95; the two planted defects must be rejected."""
    assert one_transition_from_the_target() > ALPHA
    assert one_transition_from_the_target(metric_factor=1.5) < 1e-10
    assert one_transition_from_the_target(accept=False) < 1e-10


def test_one_dimensional_gaussian():
    f = gaussian(np.array([1.0]), np.array([[4.0]]))
    idata = H.hmc(f, np.zeros((4, 1)), draws=1000, tune=1000, seed=1, progressbar=False)
    assert_moments(idata.posterior["x"].values, [1.0], [2.0])
    assert 0.6 < idata.attrs["acceptance_rate"] <= 1


def test_correlated_50d_gaussian_with_a_dense_mass_matrix():
    mean, cov = correlated_gaussian_50d()
    start = mean + np.random.default_rng(0).normal(size=(4, 50)) * np.sqrt(np.diag(cov))
    run = H.sample_hmc(gaussian(mean, cov), start, draws=1000, tune=600, seed=3, mass_matrix="dense",
                       path_length=2.0, jitter=0.2, progressbar=False)
    assert_moments(run.draws, mean, np.sqrt(np.diag(cov)))


# ------------------------------------------------------------------------------------------------ calibration
N_SIM, N_OBS, L = 500, 5, 19


def sbc_counts(likelihood_weight: float = 1.0) -> np.ndarray:
    """Simulation-based calibration (Talts et al. 2018), as tests/test_sbc.py does for Metropolis: mu ~ N(0, 1),
    y_i ~ N(mu, 1), i = 1..5; L = 19 independent chains per simulated data set (their last draws are 19 posterior
    draws), rank of the true mu among them. All 500 x 19 chains run as one vectorised batch: chain c of
    simulation s sees data set s. ``likelihood_weight`` != 1 makes the sampler target a wrong posterior."""
    rng = np.random.default_rng(2018)
    mu_true = rng.normal(size=N_SIM)
    y = rng.normal(mu_true[:, None], 1.0, size=(N_SIM, N_OBS))
    data = np.repeat(y, L, axis=0)  # one row per chain

    def f(z):  # HMC evaluates every chain in every call, in chain order
        mu = z[:, 0]
        resid = data - mu[:, None]
        lp = -0.5 * mu**2 - 0.5 * likelihood_weight * np.sum(resid**2, axis=1)
        return lp, (-mu + likelihood_weight * resid.sum(axis=1))[:, None]

    run = H.sample_hmc(f, rng.normal(size=(N_SIM * L, 1)), draws=1, tune=150, chains=N_SIM * L, seed=rng,
                       n_steps=3, jitter=0.3, progressbar=False)
    last = run.draws[:, -1, 0].reshape(N_SIM, L)
    ranks = np.sum(last < mu_true[:, None], axis=1)
    return np.bincount(ranks, minlength=L + 1)


def test_sbc_ranks_are_uniform():
    """Chi-square on 20 rank bins (25 expected per bin) at ALPHA; power: the same test rejects a sampler whose
    target counts the likelihood twice (posterior sd 1/sqrt(11) instead of 1/sqrt(6))."""
    assert stats.chisquare(sbc_counts()).pvalue > ALPHA, sbc_counts().tolist()
    assert stats.chisquare(sbc_counts(likelihood_weight=2.0)).pvalue < ALPHA
