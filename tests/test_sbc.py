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


def test_ranks_are_uniform():
    rng = np.random.default_rng(2018)
    ranks = []
    for _ in range(N_SIM):
        mu_true = rng.normal()
        y = rng.normal(mu_true, 1, size=N_OBS)

        def log_density(x, y=y):
            mu = x[:, 0]
            return -0.5 * mu**2 - 0.5 * ((y[None, :] - mu[:, None]) ** 2).sum(axis=1)

        idata = metropolis(log_density, rng.normal(size=(L, 1)), draws=100, tune=100, chains=L,
                           seed=rng, progressbar=False)
        # last draw of each of the L independent chains: L independent posterior draws
        draws = idata.posterior["x"].values[:, -1, 0]
        ranks.append(int(np.sum(draws < mu_true)))
    counts = np.bincount(ranks, minlength=L + 1)
    # 20 bins, expected 15 per bin
    result = stats.chisquare(counts)
    assert result.pvalue > ALPHA, f"ranks not uniform: counts {counts.tolist()}, p = {result.pvalue:.2g}"


def test_sbc_detects_a_biased_sampler():
    """The same test must fail for a sampler that targets the wrong posterior (likelihood tempered by 2)."""
    rng = np.random.default_rng(2018)
    ranks = []
    for _ in range(N_SIM):
        mu_true = rng.normal()
        y = rng.normal(mu_true, 1, size=N_OBS)

        def wrong(x, y=y):
            mu = x[:, 0]
            return -0.5 * mu**2 - 1.0 * ((y[None, :] - mu[:, None]) ** 2).sum(axis=1)

        idata = metropolis(wrong, rng.normal(size=(L, 1)), draws=100, tune=100, chains=L, seed=rng, progressbar=False)
        ranks.append(int(np.sum(idata.posterior["x"].values[:, -1, 0] < mu_true)))
    assert stats.chisquare(np.bincount(ranks, minlength=L + 1)).pvalue < ALPHA
