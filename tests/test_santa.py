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
