"""The unconstrained view of a Problem: PyMC's value transforms, Jacobians and gradients, constraints
that live only in a transform, and a user's model left as it was.

References are PyMC's own compiled functions (``model.compile_logp``, ``compile_dlogp``) evaluated one
point at a time, finite differences, and one-dimensional quadrature.
"""

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest
from scipy import integrate, stats

from bayeskit import Problem


def _models():
    rng = np.random.default_rng(0)
    with pm.Model() as ordered:
        pm.Normal("x", [-0.3, 0.3], 1.0, shape=2, transform=pm.distributions.transforms.ordered)
    with pm.Model() as simplex_and_ordered:  # a two-component mixture, the classic held-out case
        w = pm.Dirichlet("w", np.ones(2))
        mu = pm.Normal("mu", [-1.0, 1.0], 2.0, transform=pm.distributions.transforms.ordered)
        pm.NormalMixture("y", w, mu, 1.0, observed=np.r_[rng.normal(-2, 1, 30), rng.normal(2, 1, 30)])
    with pm.Model() as lkj:
        chol, _, _ = pm.LKJCholeskyCov("c", n=3, eta=2.0, sd_dist=pm.Exponential.dist(1.0, shape=3))
        pm.MvNormal("y", np.zeros(3), chol=chol, observed=rng.normal(size=(10, 3)))
    with pm.Model(coords={"group": ["a", "b", "c"]}) as zero_sum:
        a = pm.ZeroSumNormal("a", sigma=1.0, dims="group")
        sigma = pm.HalfNormal("sigma", 1.0)
        pm.Normal("y", a, sigma, observed=[1.0, 0.0, -1.0], dims="group")
    with pm.Model() as bounded:  # interval transform whose bounds depend on another parameter
        lo = pm.Normal("lo", 0.0, 1.0)
        u = pm.Uniform("u", lo, lo + 2.0)
        pm.Normal("y", u, pm.Gamma("s", 2.0, 2.0), observed=[0.3, 0.9])
    return {"ordered": ordered, "simplex_and_ordered": simplex_and_ordered, "lkj": lkj, "zero_sum": zero_sum,
            "bounded": bounded}


MODELS = _models()


@pytest.fixture(scope="module", params=sorted(MODELS))
def case(request):
    model = MODELS[request.param]
    return model, Problem.from_pymc(model)


def _points(problem, n=6, seed=1):
    rng = np.random.default_rng(seed)
    return problem._compiled.initial_z[None, :] + rng.normal(scale=0.7, size=(n, problem.unconstrained_ndim))


def test_density_and_gradient_equal_pymc(case):
    """log_density is PyMC's logp with the Jacobian, its gradient PyMC's dlogp, at random points (1e-8 relative);
    the constrained log_posterior is PyMC's logp without the Jacobian. Catches a lost Jacobian, a wrong
    transform, gradients of the wrong rows in a batch, and a batch that mixes its points."""
    model, problem = case
    z = _points(problem)
    lp, grad = problem.log_density_and_grad(z)
    logp, dlogp, logp_nojac = model.compile_logp(), model.compile_dlogp(), model.compile_logp(jacobian=False)
    points = [problem.unconstrained_layout.split(row) for row in z]
    np.testing.assert_allclose(lp, [logp(p) for p in points], rtol=1e-8)
    np.testing.assert_allclose(problem.log_density(z), lp, rtol=1e-12)
    expected = np.array([dlogp(p) for p in points])
    np.testing.assert_allclose(grad, expected, rtol=1e-8, atol=1e-8 * np.abs(expected).max())
    x = problem.to_constrained(z)
    np.testing.assert_allclose(problem.log_posterior(x), [logp_nojac(p) for p in points], rtol=1e-8)
    # the maps invert each other (regression check of the forward transforms)
    np.testing.assert_allclose(problem.to_unconstrained(x), z, rtol=1e-9, atol=1e-9)


def test_gradient_matches_finite_differences(case):
    """Central differences with step h have error O(h^2) ~ 1e-8 here: relative 1e-5 is far from a wrong gradient."""
    _, problem = case
    z = _points(problem, n=2, seed=2)
    _, grad = problem.log_density_and_grad(z)
    h = 1e-5
    for j in range(problem.unconstrained_ndim):
        step = np.zeros_like(z)
        step[:, j] = h
        fd = (problem.log_density(z + step) - problem.log_density(z - step)) / (2 * h)
        np.testing.assert_allclose(grad[:, j], fd, rtol=1e-5, atol=1e-5)


def test_constraints_that_live_in_transforms_are_kept():
    """Before: the bridge dropped value transforms, so unsorted points under `ordered` and points off the
    simplex or off the zero-sum plane had a finite prior density (engines then sampled the wrong posterior)."""
    ordered = Problem.from_pymc(MODELS["ordered"])
    assert ordered.log_prior(np.array([[1.0, -1.0]]))[0] == -np.inf
    assert np.isfinite(ordered.log_prior(np.array([[-1.0, 1.0]]))[0])
    mix = Problem.from_pymc(MODELS["simplex_and_ordered"])
    assert mix.log_posterior(np.array([[0.3, 0.6, -1.0, 1.0]]))[0] == -np.inf  # w sums to 0.9
    assert np.isfinite(mix.log_posterior(np.array([[0.4, 0.6, -1.0, 1.0]]))[0])
    zero_sum = Problem.from_pymc(MODELS["zero_sum"])
    assert zero_sum.log_prior(np.array([[0.5, 0.0, 0.0, 1.0]]))[0] == -np.inf
    assert np.isfinite(zero_sum.log_prior(np.array([[0.5, 0.0, -0.5, 1.0]]))[0])
    with pytest.raises(ValueError, match="outside the support"):
        ordered.to_unconstrained(np.array([[1.0, -1.0]]))


def test_prior_transform_refuses_what_it_cannot_honour():
    """An inverse CDF cannot produce sorted draws, nor LKJ or zero-sum draws: refuse by name, never sample
    the wrong prior (before: UltraNest sampled the unsorted prior of an ordered vector)."""
    for name, variable in [("ordered", "x"), ("simplex_and_ordered", "mu"), ("lkj", "c"), ("zero_sum", "a")]:
        problem = Problem.from_pymc(MODELS[name])
        with pytest.raises(NotImplementedError, match=f"variable '{variable}'"):
            problem.prior_transform(np.full((1, problem.ndim), 0.5))


def _scan_model():
    y = np.random.default_rng(3).normal(size=15).cumsum()
    with pm.Model() as model:
        rho = pm.Uniform("rho", -1.0, 1.0)
        sigma = pm.HalfNormal("sigma", 1.0)
        mean, _ = pytensor.scan(lambda prev_y, prev_mean, r: r * prev_y + 0.1 * prev_mean,
                                sequences=[pt.as_tensor(np.r_[0.0, y[:-1]])],
                                outputs_info=[pt.as_tensor(np.float64(0.0))], non_sequences=[rho])
        pm.Normal("y", mean, sigma, observed=y)
    return model


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_from_pymc_leaves_a_scan_model_as_it_was():
    """Before: compiling a vectorised copy rewrote the model's own Scan op in place, after which PyMC assigned
    Slice instead of NUTS and ADVI failed with 'grad is not implemented for Composite'."""
    from pymc.sampling.mcmc import assign_step_methods

    model = _scan_model()
    problem = Problem.from_pymc(model)
    z = np.array([[0.1, -0.2], [0.5, 0.3]])
    lp, grad = problem.log_density_and_grad(z)
    logp, dlogp = model.compile_logp(), model.compile_dlogp()
    points = [problem.unconstrained_layout.split(row) for row in z]
    np.testing.assert_allclose(lp, [logp(p) for p in points], rtol=1e-10)
    np.testing.assert_allclose(grad, [dlogp(p) for p in points], rtol=1e-8)
    problem.log_posterior(problem.to_constrained(z))
    with model:
        _, assigned = assign_step_methods(model)
        assert [m.__name__ for m in assigned] == ["NUTS"]
        pm.fit(n=20, progressbar=False, random_seed=1)  # needs the gradient through the scan


def test_initval_is_accepted_and_used():
    """Before: initval= on any variable raised NotImplementedError in from_pymc."""
    with pm.Model() as model:
        s = pm.HalfNormal("s", 1.0, initval=0.7)
        m = pm.Normal("m", 0.0, 1.0, initval=0.3)
        pm.Normal("y", m, s, observed=[0.1, 0.5])
    problem = Problem.from_pymc(model)
    np.testing.assert_allclose(problem._compiled.initial_z, [np.log(0.7), 0.3], rtol=1e-12)
    assert model.rvs_to_initial_values[s] == 0.7  # the model keeps its own


def test_scipy_priors_get_support_transforms():
    """Each support gets its transform and Jacobian: integrating exp(log_density) over z must give the
    same evidence as integrating exp(log_posterior) over x (quadrature to 1e-8). A missing or wrong Jacobian
    changes the integral by O(1)."""
    cases = [stats.gamma(2.0, scale=1.5), stats.uniform(-1.0, 3.0), stats.norm(1.0, 2.0), stats.beta(2, 3)]
    for dist in cases:
        problem = Problem({"t": dist}, lambda p: -0.5 * (p["t"] - 0.4) ** 2)
        lo, hi = dist.support()
        in_x = integrate.quad(lambda t: np.exp(problem.log_posterior(np.array([[t]]))[0]), lo, hi, epsabs=1e-12)[0]
        in_z = integrate.quad(lambda z: np.exp(problem.log_density(np.array([[z]]))[0]), -np.inf, np.inf,
                              epsabs=1e-12)[0]
        assert abs(in_x - in_z) < 1e-8 * in_x, (dist.dist.name, in_x, in_z)
        z = np.linspace(-3, 3, 7)[:, None]
        np.testing.assert_allclose(problem.to_unconstrained(problem.to_constrained(z)), z, atol=1e-9)
    with pytest.raises(NotImplementedError, match="Problem.from_pymc"):
        problem.log_density_and_grad(np.zeros((1, 1)))
