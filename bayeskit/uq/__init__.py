"""Uncertainty quantification: the exact conjugate regression, the aleatoric/epistemic split, coverage checks.

Three small modules, one idea each:

* :mod:`bayeskit.uq.conjugate`: Bayesian linear regression with a Normal-inverse-gamma prior, its exact
  posterior and its Student-t posterior predictive (optionally with noise whose sd has a known shape in x);
* :mod:`bayeskit.uq.decomposition`: the law of total variance on posterior predictive draws, the split of
  predictive variance into aleatoric (noise) and epistemic (parameter) parts;
* :mod:`bayeskit.uq.coverage`: coverage of predictive intervals on held-out data at several levels, with
  binomial standard errors, and the review rule "flag inputs whose epistemic sd exceeds a threshold".
"""

from bayeskit.uq.conjugate import NIGPosterior, nig_posterior
from bayeskit.uq.coverage import CoverageCurve, ReviewCounts, coverage_curve, review_counts
from bayeskit.uq.decomposition import VarianceSplit, variance_decomposition

__all__ = ["CoverageCurve", "NIGPosterior", "ReviewCounts", "VarianceSplit", "coverage_curve", "nig_posterior",
           "review_counts", "variance_decomposition"]
