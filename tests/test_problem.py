"""Problem: vectorised, batch-independent log-densities and prior transforms, from PyMC and from scipy."""

import numpy as np
import pymc as pm
import pytest
from scipy import stats

from bayeskit import Problem
from bayeskit.models import ten_gift_model

T = 90


def two_switchpoint_model():
    """Dependent priors: s2 ~ DiscreteUniform(s1, T) and a hierarchical scale."""
    rng = np.random.default_rng(0)
    with pm.Model() as model:
        s1 = pm.DiscreteUniform("s1", 1, T)
        pm.DiscreteUniform("s2", s1, T)
        tau = pm.HalfNormal("tau", 2.0)
        mu = pm.Normal("mu", 0.0, tau, shape=3)
        pm.Normal("y", mu.sum(), 1.0, observed=rng.normal(size=5))
    return model


def test_from_pymc_matches_hand_written_numpy():
    gift = ten_gift_model()
    problem = gift.problem()
    x = np.random.default_rng(1).normal(5, 2, size=(500, 10))
    # PyMC's normal log-density uses a normalising constant log(sqrt(2 pi)) that differs from SciPy's by
    # ~2e-9 (lower precision constant); 16 normal terms (10 priors, 6 bags) -> atol 16 * 1e-8.
    atol = 16 * 1e-8
    np.testing.assert_allclose(problem.log_posterior(x), gift.log_posterior(x), rtol=0, atol=atol)
    np.testing.assert_allclose(problem.log_prior(x), gift.exact.log_prior(x), rtol=0, atol=atol)
    np.testing.assert_allclose(problem.log_likelihood(x), gift.exact.log_likelihood(x), rtol=0, atol=atol)
    assert problem.layout.names == ("w",) and problem.layout.shapes == ((10,),)


def test_potentials_count_as_likelihood():
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 1.0)
        pm.Potential("soft_constraint", -0.5 * (mu - 3.0) ** 2 / 0.25)
    problem = Problem.from_pymc(model)
    x = np.array([[0.0], [2.5]])
    np.testing.assert_allclose(problem.log_likelihood(x), -0.5 * (x[:, 0] - 3.0) ** 2 / 0.25, atol=1e-12)
    np.testing.assert_allclose(problem.log_prior(x), stats.norm.logpdf(x[:, 0]), atol=1e-8)


def test_set_data_reaches_the_compiled_problem():
    with pm.Model() as model:
        y = pm.Data("y", np.array([1.0, 2.0]))
        mu = pm.Normal("mu", 0.0, 1.0)
        pm.Normal("obs", mu, 1.0, observed=y)
    problem = Problem.from_pymc(model)
    x = np.array([[0.5], [-1.0]])
    with model:
        pm.set_data({"y": np.array([3.0, -4.0])})
    expected = stats.norm(0, 1).logpdf(x[:, 0]) + stats.norm(x, 1).logpdf([3.0, -4.0]).sum(axis=1)
    np.testing.assert_allclose(problem.log_posterior(x), expected, rtol=0, atol=3 * 1e-8)  # PyMC's constant, see above
    np.testing.assert_allclose(problem.log_posterior(x), Problem.from_pymc(model).log_posterior(x), rtol=0, atol=1e-12)


def test_a_bad_point_does_not_poison_its_batch():
    problem = Problem.from_pymc(two_switchpoint_model())
    good = np.array([10, 50, 1.0, 0.2, -0.1, 0.3])
    bad_points = [
        [10, 5, 1.0, 0.2, -0.1, 0.3],     # s2 < s1: outside s2's (dependent) support
        [10, 50, -1.0, 0.2, -0.1, 0.3],   # tau < 0: the child mu ~ N(0, tau) has an invalid parameter
        [0, 50, 1.0, 0.2, -0.1, 0.3],     # s1 outside 1..T
        [10, 50.5, 1.0, 0.2, -0.1, 0.3],  # a discrete parameter at a non-integer value
    ]
    alone = problem.log_posterior(good[None, :])[0]
    assert np.isfinite(alone)
    batch = np.vstack([good] + bad_points + [good])
    out = problem.log_posterior(batch)
    assert out[0] == alone and out[-1] == alone  # bit-for-bit the same as evaluated alone
    assert np.all(out[1:-1] == -np.inf)
    assert np.all(problem.log_prior(batch)[1:-1] == -np.inf)


def test_automatic_prior_transform_matches_prior_draws():
    model = two_switchpoint_model()
    problem = Problem.from_pymc(model)
    rng = np.random.default_rng(4)
    x = problem.prior_transform(rng.uniform(size=(4000, problem.ndim)))
    prior = pm.sample_prior_predictive(draws=4000, model=model, random_seed=5).prior
    columns = {"s1": x[:, 0], "s2": x[:, 1], "tau": x[:, 2], "mu[0]": x[:, 3]}
    reference = {"s1": prior["s1"], "s2": prior["s2"], "tau": prior["tau"], "mu[0]": prior["mu"][..., 0]}
    # Two-sample KS tests at level 0.001 each (4 tests; with fixed seeds the outcome is deterministic).
    for name, values in columns.items():
        pvalue = stats.ks_2samp(values, np.asarray(reference[name]).ravel()).pvalue
        assert pvalue > 1e-3, f"{name}: transformed draws differ from prior draws (p={pvalue:.2g})"
    assert np.all(x[:, 1] >= x[:, 0])  # dependency order respected: s2 >= s1
    # a dependent prior's transform: mu[0] / tau is standard normal
    assert stats.kstest(x[:, 3] / x[:, 2], "norm").pvalue > 1e-3


def test_scipy_priors_path():
    y = np.array([4.1, 5.3, 6.0, 4.7])

    def loglik(p):
        return stats.norm.logpdf(y, p["mu"][:, None], p["sigma"][:, None]).sum(axis=1)

    problem = Problem({"mu": stats.norm(0, 10), "sigma": stats.halfnorm(scale=5)}, loglik)
    x = np.array([[5.0, 1.0], [5.0, -1.0]])
    lp = problem.log_posterior(x)
    expected = stats.norm(0, 10).logpdf(5) + stats.halfnorm(scale=5).logpdf(1) + loglik({"mu": x[:1, 0], "sigma": x[:1, 1]})[0]
    assert lp[0] == pytest.approx(expected) and lp[1] == -np.inf
    np.testing.assert_allclose(problem.prior_transform(np.array([[0.5, 0.5]])), [[0.0, stats.halfnorm(scale=5).ppf(0.5)]])


def test_scipy_discrete_prior_is_integer():
    problem = Problem({"k": stats.randint(1, 11)}, lambda p: -0.5 * (p["k"] - 3.0) ** 2)
    assert problem.has_discrete
    assert problem.log_prior(np.array([[2.5]]))[0] == -np.inf
    assert problem.prior_transform(np.array([[0.0], [0.999]])).ravel().tolist() == [1.0, 10.0]


# ----------------------------------------------------------------------------- bad input

def test_wrong_shapes_are_named():
    problem = ten_gift_model().problem()
    with pytest.raises(ValueError, match=r"x must have shape \(n, 10\).*x\[None, :\]"):
        problem.log_posterior(np.zeros(10))
    with pytest.raises(ValueError, match=r"got \(4, 3\)"):
        problem.log_posterior(np.zeros((4, 3)))


def test_non_finite_points_are_refused():
    problem = ten_gift_model().problem()
    x = np.zeros((2, 10))
    x[1, 4] = np.nan
    with pytest.raises(ValueError, match=r"non-finite value at \(row, column\) \(1, 4\)"):
        problem.log_posterior(x)


def test_non_finite_data_are_refused():
    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 1)
        pm.Normal("y", mu, 1, observed=np.array([1.0, np.inf, 2.0]))
    with pytest.raises(ValueError, match=r"observed data of 'y' contains NaN or inf at index \(1,\)"):
        Problem.from_pymc(model)


def test_transform_outside_unit_cube():
    problem = ten_gift_model().problem()
    u = np.full((2, 10), 0.5)
    u[1, 3] = 1.2
    with pytest.raises(ValueError, match=r"values in \[0, 1\]; u\[1, 3\] = 1.2"):
        problem.prior_transform(u)


def test_log_likelihood_returning_nan():
    def loglik(p):
        out = -0.5 * p["mu"] ** 2
        return np.where(p["mu"] > 20, np.nan, out)

    problem = Problem({"mu": stats.uniform(-30, 60)}, loglik)
    with pytest.raises(ValueError, match="NaN at batch index 1"):
        problem.log_posterior(np.array([[0.0], [25.0]]))


def test_log_likelihood_checked_on_entry():
    with pytest.raises(ValueError, match=r"must be vectorised.*got \(\)"):
        Problem({"mu": stats.norm(0, 1)}, lambda p: float(np.sum(p["mu"])))
    with pytest.raises(ValueError, match="returned NaN at prior draws"):
        Problem({"mu": stats.norm(0, 1)}, lambda p: np.full(len(p["mu"]), np.nan))
    with pytest.raises(TypeError, match="frozen scipy.stats distribution"):
        Problem({"mu": stats.norm}, lambda p: p["mu"])


def test_missing_inverse_cdf_names_the_variable():
    with pm.Model() as model:
        k = pm.Poisson("k", 3.0)
        pm.Normal("y", k, 1.0, observed=[2.0])
    problem = Problem.from_pymc(model)
    with pytest.raises(NotImplementedError, match=r"variable 'k' \(PoissonRV\) has no inverse CDF.*Problem\(priors="):
        problem.prior_transform(np.full((1, 1), 0.5))
    assert np.isfinite(problem.log_posterior(np.array([[2.0]])))[0]


def test_multivariate_prior_transform_is_the_prior():
    """MvNormal through its Cholesky factor, Dirichlet from normalised Gamma quantiles: the transformed
    uniform draws must have the prior's mean and covariance (before: multivariate priors were refused).
    Tolerance: 5 standard errors of a mean of 20000 draws (a wrong scale or a missing normalisation
    moves them by far more)."""
    cov = np.array([[1.0, 0.6], [0.6, 2.0]])
    alpha = np.array([1.0, 2.0, 5.0])
    with pm.Model() as model:
        pm.MvNormal("z", mu=np.array([1.0, -1.0]), cov=cov)
        pm.Dirichlet("p", alpha)
    problem = Problem.from_pymc(model)
    n = 20000
    x = problem.prior_transform(np.random.default_rng(4).uniform(size=(n, 5)))
    z, p = x[:, :2], x[:, 2:]
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-12)  # on the simplex (regression check)
    assert np.all(np.abs(z.mean(axis=0) - [1.0, -1.0]) < 5 * np.sqrt(np.diag(cov) / n))
    np.testing.assert_allclose(np.cov(z.T), cov, atol=5 * np.sqrt(2 * 2.0**2 / n))
    a0 = alpha.sum()
    mean, var = alpha / a0, alpha * (a0 - alpha) / (a0**2 * (a0 + 1))
    assert np.all(np.abs(p.mean(axis=0) - mean) < 5 * np.sqrt(var / n))
    np.testing.assert_allclose(p.var(axis=0), var, rtol=0.05)  # sd of a variance estimate ~ sqrt(2/n) = 1%
    assert np.all(np.isfinite(problem.log_prior(x[:100])))


def test_truncated_normal_transform_matches_scipy():
    """PyMC has no inverse CDF for TruncatedNormal; bayeskit's closed form must equal scipy's ppf."""
    with pm.Model() as model:
        pm.TruncatedNormal("h", 5.0, 2.0, lower=0.0)
    problem = Problem.from_pymc(model)
    u = np.linspace(0, 0.9999, 2001)[:, None]
    expected = stats.truncnorm(-2.5, np.inf, loc=5, scale=2).ppf(u[:, 0])
    np.testing.assert_allclose(problem.prior_transform(u)[:, 0], expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("dist", [stats.uniform(-6, 12), stats.uniform(loc=2.5, scale=0.5), stats.uniform(),
                                  stats.norm(3.0, 0.2), stats.norm(loc=-1, scale=10), stats.norm()])
def test_closed_form_priors_equal_scipy(dist):
    """The closed-form uniform and normal ppf/logpdf give SciPy's numbers to rounding (relative 1e-12),
    including the support's edges, points outside it and the ends of the unit interval."""
    from bayeskit._prior_forms import prior_functions

    ppf, logpdf = prior_functions(dist)
    u = np.concatenate([[0.0, 1e-300, 1e-12, 0.5, 1 - 1e-12, 1.0], np.random.default_rng(3).uniform(size=200)])
    np.testing.assert_allclose(ppf(u), dist.ppf(u), rtol=1e-12, atol=1e-12)
    low, high = dist.support()
    x = np.concatenate([dist.ppf(u[2:-1]), [low, high, dist.mean() - 100 * dist.std(), dist.mean() + 100 * dist.std()]])
    x = x[np.isfinite(x)]
    np.testing.assert_allclose(logpdf(x), dist.logpdf(x), rtol=1e-12, atol=1e-12)
    assert logpdf(x).shape == x.shape and ppf(u.reshape(-1, 2)).shape == (len(u) // 2, 2)


def test_other_priors_keep_scipy_methods():
    from bayeskit._prior_forms import prior_functions

    gamma, poisson = stats.gamma(2.0, scale=3.0), stats.poisson(4.0)
    assert prior_functions(gamma)[1](np.array([1.0])) == gamma.logpdf(np.array([1.0]))
    assert prior_functions(poisson)[1](np.array([3.0])) == poisson.logpmf(np.array([3.0]))


def test_points_outside_the_support_are_minus_inf_for_every_density_in_a_mixed_batch():
    # Regression: a fast path that skipped the support mask when the summed terms were finite returned a
    # finite log-likelihood (0.0 from a scipy Problem) at points outside the prior's support.
    import pymc as pm

    scipy_problem = Problem({"mu": stats.norm(0, 1), "sigma": stats.halfnorm(scale=1)},
                            lambda v: -0.5 * (v["mu"] / v["sigma"]) ** 2 - np.log(v["sigma"]))
    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 1)
        sigma = pm.HalfNormal("sigma", 1)
        pm.Normal("y", mu, sigma, observed=[0.3, -0.2])
    for problem in (scipy_problem, Problem.from_pymc(model)):
        x = np.array([[0.1, 0.5], [0.1, -0.5], [2.0, 1.5]])
        for method in (problem.log_prior, problem.log_likelihood, problem.log_posterior):
            out = method(x)
            assert out[1] == -np.inf, (problem, method.__name__, out)
            assert np.isfinite(out[[0, 2]]).all(), (problem, method.__name__, out)
            # one bad point never changes the others
            np.testing.assert_array_equal(out[[0, 2]], method(x[[0, 2]]))


def test_an_empty_batch_gives_empty_values():
    # Regression check: a batch of no points (a sampler's empty proposal set) gives arrays of shape (0,) on both
    # paths, instead of failing in a reshape.
    scipy_problem = Problem({"a": stats.norm(0, 1), "b": (stats.norm(0, 1), 3)}, lambda d: -0.5 * d["a"] ** 2)
    from_pymc = ten_gift_model().problem()
    for problem in (scipy_problem, from_pymc):
        empty = np.zeros((0, problem.ndim))
        for method in (problem.log_likelihood, problem.log_prior, problem.log_posterior):
            assert method(empty).shape == (0,)
    z_empty = np.zeros((0, from_pymc.unconstrained_ndim))
    value, grad = from_pymc.log_density_and_grad(z_empty)
    assert from_pymc.log_density(z_empty).shape == value.shape == (0,) and grad.shape == z_empty.shape
