"""The law of total variance on posterior predictive draws: aleatoric plus epistemic.

For draws ``theta_s`` from the posterior, each giving a predictive mean ``mu_s(x)`` and a noise sd
``sigma_s(x)``, the predictive variance of a new observation splits as::

    Var[y | x, D] = E_s[sigma_s(x)^2]  +  Var_s[mu_s(x)]
                    aleatoric (noise)     epistemic (what the parameters do not pin down)

More data shrink the epistemic part (like 1/n for a regular model); the aleatoric part stays.

References
----------
Kendall, A. and Gal, Y. (2017). What uncertainties do we need in Bayesian deep learning for computer vision? NeurIPS.
Depeweg, S. et al. (2018). Decomposition of uncertainty in Bayesian deep learning. ICML.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["VarianceSplit", "variance_decomposition"]


@dataclass(frozen=True)
class VarianceSplit:
    """Aleatoric and epistemic variance at each input (arrays of the inputs' shape)."""

    aleatoric: np.ndarray
    epistemic: np.ndarray

    @property
    def total(self) -> np.ndarray:
        return self.aleatoric + self.epistemic

    @property
    def epistemic_sd(self) -> np.ndarray:
        return np.sqrt(self.epistemic)

    @property
    def total_sd(self) -> np.ndarray:
        return np.sqrt(self.total)


def variance_decomposition(mean_draws, noise_sd_draws) -> VarianceSplit:
    """Split predictive variance into ``E[sigma^2]`` (aleatoric) and ``Var[mu]`` (epistemic).

    Parameters
    ----------
    mean_draws
        ``(S, ...)`` predictive means, one row per posterior draw (or ensemble member, or dropout mask).
    noise_sd_draws
        Noise sd of each draw: shape ``(S,)`` (constant noise) or the same shape as ``mean_draws``.

    Returns
    -------
    VarianceSplit
        ``aleatoric = mean over draws of sigma^2`` and ``epistemic = variance over draws of mu``
        (divisor ``S``, so that the two add up to the variance of draws ``y_s ~ N(mu_s, sigma_s^2)``
        in expectation).

    Raises
    ------
    ValueError
        If fewer than two draws, shapes that do not match, non-finite values or a negative noise sd.
    """
    mu = np.asarray(mean_draws, float)
    sd = np.asarray(noise_sd_draws, float)
    if mu.ndim < 1 or mu.shape[0] < 2:
        raise ValueError(f"mean_draws needs at least two draws along axis 0, got shape {mu.shape}")
    if sd.shape == (mu.shape[0],):
        sd = sd.reshape((-1,) + (1,) * (mu.ndim - 1))
    elif sd.shape != mu.shape:
        raise ValueError(f"noise_sd_draws must have shape ({mu.shape[0]},) or {mu.shape} (as mean_draws), got {sd.shape}")
    if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(sd))):
        raise ValueError("mean_draws and noise_sd_draws must be finite (no NaN or infinite values)")
    if np.any(sd < 0):
        raise ValueError("noise_sd_draws must be non-negative (they are standard deviations)")
    aleatoric = np.broadcast_to((sd**2).mean(axis=0), mu.shape[1:]).copy()
    return VarianceSplit(aleatoric=aleatoric, epistemic=mu.var(axis=0))
