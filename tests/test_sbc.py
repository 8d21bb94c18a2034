"""Simulation-based calibration (Talts et al. 2018) of bayeskit.metropolis on a conjugate model.

Model: mu ~ Normal(0, 1), y_i ~ Normal(mu, 1), i = 1..5. For each of N_SIM simulations we draw mu
from the prior, data given mu, run the sampler, thin to L = 19 roughly independent draws and record
the rank of the true mu among them. If the sampler is correct, ranks are uniform on 0..L; we test
uniformity with a chi-square test at level alpha = 0.001 (with the fixed seed the test is
deterministic; at that level a correct sampler fails it for 1 seed in 1000).
"""

import numpy as np
from scipy import stats

from bayeskit import metropolis

N_SIM, N_OBS, L = 300, 5, 19
ALPHA = 0.001


def sbc_counts(likelihood_weight: float = 1.0) -> np.ndarray:
    """Histogram of SBC ranks. ``likelihood_weight`` != 1 makes the sampler target a wrong posterior."""
    rng = np.random.default_rng(2018)
    ranks = []
    for _ in range(N_SIM):
        mu_true = rng.normal()
        y = rng.normal(mu_true, 1, size=N_OBS)

        def log_density(x, y=y):
            mu = x[:, 0]
            return -0.5 * mu**2 - 0.5 * likelihood_weight * ((y[None, :] - mu[:, None]) ** 2).sum(axis=1)

        idata = metropolis(log_density, rng.normal(size=(L, 1)), draws=100, tune=100, chains=L,
                           seed=rng, progressbar=False)
        # last draw of each of the L independent chains: L independent posterior draws
        draws = idata.posterior["x"].values[:, -1, 0]
        ranks.append(int(np.sum(draws < mu_true)))
    return np.bincount(ranks, minlength=L + 1)


def test_ranks_are_uniform():
    counts = sbc_counts()
    result = stats.chisquare(counts)  # 20 bins, 15 expected per bin
    assert result.pvalue > ALPHA, f"ranks not uniform: counts {counts.tolist()}, p = {result.pvalue:.2g}"


def test_sbc_detects_a_biased_sampler():
    """The same test must fail for a sampler that targets the wrong posterior (likelihood counted twice)."""
    assert stats.chisquare(sbc_counts(likelihood_weight=2.0)).pvalue < ALPHA
