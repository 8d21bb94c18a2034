"""Santa's gift distributions: sampling recipes, CDFs, and bag scores by two independent methods."""

import numpy as np
import pytest
from scipy import integrate, stats

from bayeskit.models.santa import bag_score_exact, bag_score_mc, bag_weight_distribution, gift_types


@pytest.mark.parametrize("name", sorted(gift_types()))
def test_sampler_matches_exact_moments_and_cdf(name):
    gift = gift_types()[name]
    x = gift.sample(np.random.default_rng(sum(name.encode())), 200_000)
    se = np.sqrt(gift.exact_var / x.size)
    assert abs(x.mean() - gift.exact_mean) < 4 * se
    # The clipped normals have a point mass at 0: test its probability (binomial, 4 standard errors)
    # and the continuous part with Kolmogorov-Smirnov against the conditional CDF (level 1e-3;
    # KS assumes a continuous distribution). Fixed seed: deterministic.
    atom = float(gift.cdf(0.0))
    assert abs(np.mean(x == 0) - atom) <= 4 * np.sqrt(atom * (1 - atom) / x.size) + 1e-12
    positive = x[x > 0]
    assert stats.kstest(positive, lambda v: (gift.cdf(v) - atom) / (1 - atom)).pvalue > 1e-3


def test_convolution_bounds_bracket_quadrature():
    """Two bikes: P(X1 + X2 > 50) by 1-D quadrature over the clipped normals, independently of the FFT."""
    bike = stats.norm(20, 10)
    inner = integrate.quad(lambda x: bike.pdf(x) * bike.sf(50 - x), 0, 50, epsabs=1e-12)[0]
    exact = inner + bike.sf(50) + bike.cdf(0) * bike.sf(50)  # second bike > 50 alone; first at the point mass 0
    res = bag_score_exact({"bike": 2})
    assert res["p_overweight_lower"] <= exact <= res["p_overweight_upper"]
    assert res["p_overweight_upper"] - res["p_overweight_lower"] < 1e-3
    assert res["mass_check"] == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("composition", [{"horse": 3, "book": 4, "doll": 2}, {"coal": 1, "blocks": 2},
                                         {"train": 4, "horse": 1}, {"gloves": 5, "ball": 10}])
def test_monte_carlo_agrees_with_convolution(composition):
    mc = bag_score_mc(composition, 200_000, seed=3)
    ex = bag_score_exact(composition)
    for key in ("p_overweight", "expected_score"):
        lo, hi = ex[f"{key}_lower"], ex[f"{key}_upper"]
        # within 4 standard errors of the bracketing interval
        assert lo - 4 * mc[f"{key}_se"] - 1e-12 <= mc[key] <= hi + 4 * mc[f"{key}_se"] + 1e-12, key


def test_bad_compositions():
    with pytest.raises(ValueError, match="unknown gift type 'pony'"):
        bag_score_mc({"pony": 1})
    with pytest.raises(ValueError, match="count of 'horse' must be a non-negative integer, got 1.5"):
        bag_score_exact({"horse": 1.5})
    with pytest.raises(ValueError, match="the bag is empty"):
        bag_score_mc({"horse": 0})


def test_weight_distribution_is_normalised_and_has_the_right_mean():
    grid, pmf = bag_weight_distribution({"doll": 3, "book": 2}, h=0.001)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
    # discretising down by at most h per gift: E[W_h] in (E[W] - 5h, E[W]]
    exact_mean = 3 * 5.0 + 2 * 2.0
    assert exact_mean - 5 * 0.001 < np.sum(grid * pmf) <= exact_mean + 1e-9


def test_bag_reference_matches_quadrature_on_the_parameters_own_axes():
    # One bag holding a horse and a book: a thin diagonal ridge (sd 0.07 across) cut off where either
    # weight reaches 0. Independent check: Simpson on a rectangular grid over the weights themselves,
    # whose edges are the supports' edges, so it converges fast (n = 451 and 901 agree to 1e-9).
    # bag_reference's grid is tilted: the edges cut it and its error is O(spacing along the ridge),
    # which at the default 601 points over +-7 sd of its Gaussian approximation is about 0.03 lb.
    import bayeskit as bk
    from bayeskit.exact import grid_posterior
    from bayeskit.models.santa import bag_model, bag_reference

    gifts, bags = ["horse", "book"], [[0, 1]]
    problem = bk.Problem.from_pymc(bag_model(gifts, bags, [3.0], noise_sd=0.1))
    box = grid_posterior(problem.log_posterior, [(0.0, 3.6), (0.0, 3.6)], n=451)
    types = gift_types()
    approx_sd = np.sqrt((types["horse"].exact_var * types["book"].exact_var) / (types["horse"].exact_var + types["book"].exact_var) + 0.1**2 / 4)
    for n_wide in (601, 2001):
        spacing = 2 * 7 * approx_sd * np.sqrt(2) / (n_wide - 1)  # generous: the ridge axis is at 45 degrees
        ref = bag_reference(problem, gifts, bags, n_wide=n_wide)
        np.testing.assert_allclose(list(ref.mean.values()), box.mean, atol=spacing)
        np.testing.assert_allclose(list(ref.sd.values()), box.sd, atol=spacing)
        assert ref.log_evidence == pytest.approx(box.log_evidence, abs=spacing)
    with pytest.raises(ValueError, match="do not match"):
        bag_reference(problem, ["horse", "doll"], bags)


def test_chain_reference_is_exact_for_normal_priors():
    # Four gifts in a chain of three bags with normal priors N(20, 3) (truncated at 0, which removes a mass of
    # ~1e-11): a linear-Gaussian model, whose posterior and evidence are known in closed form. Defect caught:
    # a message sent from the wrong side, with the wrong sign of the bag equation, or a missing factor of h.
    # The midpoint rule on a smooth integrand converges like h^2; at h = 0.002 against a posterior sd of
    # ~0.07 across the ridge the error is far below the tolerance (1e-6 lb and 1e-6 in log Z).
    from bayeskit.exact import LinearGaussian
    from bayeskit.models.santa import bag_chain_reference

    y = np.array([41.0, 38.5, 43.2])
    A = np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]], float)
    exact = LinearGaussian.from_arrays(A, y, 0.1, 20.0, prior_sd=3.0)
    priors = [stats.truncnorm(-20 / 3, np.inf, loc=20, scale=3)] * 4
    ref = bag_chain_reference(["horse", "book", "doll", "blocks"], y, noise_sd=0.1, h=0.002, priors=priors)
    np.testing.assert_allclose(list(ref.mean.values()), exact.mean, atol=1e-6)
    np.testing.assert_allclose(list(ref.sd.values()), exact.sd, atol=1e-6)
    assert ref.log_evidence == pytest.approx(exact.log_evidence, abs=1e-6)
    # the marginal densities integrate to 1 and match the exact normal marginal of the middle gifts
    v = np.linspace(0, 40, 400_001)
    for j, name in enumerate(ref.marginal_pdf):
        assert integrate.trapezoid(ref.marginal_pdf[name](v), v) == pytest.approx(1.0, abs=1e-4)
    np.testing.assert_allclose(ref.marginal_pdf["g1_book"](v), stats.norm.pdf(v, exact.mean[1], exact.sd[1]),
                               atol=1e-4 * stats.norm.pdf(0, 0, exact.sd[1]))


def test_chain_reference_matches_quadrature_on_the_parameters_own_axes():
    # The one-bag case of test_bag_reference_matches_quadrature_on_the_parameters_own_axes, with the competition's
    # priors (a jump at 0 for both): Simpson on the weights' own box agrees with itself to 1e-9 there. The chain
    # rule puts those jumps on cell boundaries, so its error is O(h^2), ~1e-6 at h = 0.002. Defect caught: a prior
    # other than the model's (e.g. the clipped normal's moments for the horse), or edges handled to O(h).
    import bayeskit as bk
    from bayeskit.exact import grid_posterior
    from bayeskit.models.santa import bag_chain_reference, bag_model

    problem = bk.Problem.from_pymc(bag_model(["horse", "book"], [[0, 1]], [3.0], noise_sd=0.1))
    box = grid_posterior(problem.log_posterior, [(0.0, 3.6), (0.0, 3.6)], n=451)
    ref = bag_chain_reference(["horse", "book"], [3.0], noise_sd=0.1, h=0.002)
    np.testing.assert_allclose(list(ref.mean.values()), box.mean, atol=1e-5)
    np.testing.assert_allclose(list(ref.sd.values()), box.sd, atol=1e-5)
    assert ref.log_evidence == pytest.approx(box.log_evidence, abs=1e-5)
    with pytest.raises(ValueError, match="needs 1 finite bag weights"):
        bag_chain_reference(["horse", "book"], [3.0, 4.0])


@pytest.mark.parametrize("name", ["horse", "book", "doll", "blocks", "bike"])
def test_model_prior_is_the_pymc_prior(name):
    # Defect caught: the scipy prior (used by bag_chain_reference) and the PyMC one (used by the samplers) differ,
    # e.g. the clipped normal's density instead of the truncated normal's, or a gamma rate for a scale.
    import pymc as pm

    from bayeskit.models.santa import model_prior, pymc_prior

    gift = gift_types()[name]
    with pm.Model():
        rv = pymc_prior(gift, "w")
    x = np.array([0.3, 2.0, 6.0, 11.0, 19.0, 30.0])
    # PyTensor's and scipy's log densities differ by up to 1.3e-8 relative (measured: their special functions and
    # constants); a wrong family or parameter is off by more than 1e-2 at some of these points
    np.testing.assert_allclose(pm.logp(rv, x).eval(), model_prior(gift).logpdf(x), rtol=1e-7, atol=0)


def test_single_type_scores_are_the_separate_scores():
    # one pass of convolutions, scored on the way, must give exactly the numbers of separate calls (the same
    # convolutions in the same order). Defect caught: an off-by-one in the count or the slack n h of the bounds.
    from bayeskit.models.santa import single_type_scores

    cases = [("gloves", [3, 7, 8, 20], 0.005), ("horse", range(3, 11), 0.002), ("bike", [1, 2, 3], 0.01)]
    for name, counts, h in cases:
        together = single_type_scores(name, counts, h=h)
        assert sorted(together) == sorted(counts)
        for n in counts:
            assert together[n] == bag_score_exact({name: n}, h=h), (name, n)
    with pytest.raises(ValueError, match="positive integers"):
        single_type_scores("horse", [0, 3])
