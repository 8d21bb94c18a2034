"""The gift-weight model: unknown gift weights, observed only as sums (weighed bags).

``w_j ~ Normal(prior_mean, prior_sd)`` for each gift, and each bag's measured weight is
``sum of its gifts + Normal(0, noise_sd)``: a linear-Gaussian model with an exact posterior.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from bayeskit.exact import LinearGaussian

__all__ = ["FOUR_GIFT_BAGS", "TEN_GIFT_BAGS", "GiftModel", "design_matrix", "four_gift_model", "ten_gift_model"]

#: Four gifts in three bags: s1 = w0 + w1, s2 = w0 + w1 + w2, s3 = w2 + w3 (true weights 2, 4, 5, 6).
FOUR_GIFT_BAGS: tuple[tuple[int, ...], ...] = ((0, 1), (0, 1, 2), (2, 3))
FOUR_GIFT_TRUE_WEIGHTS = (2.0, 4.0, 5.0, 6.0)

#: The ten-gift, six-bag system of the series: (gift indices in the bag, measured weight).
TEN_GIFT_BAGS: tuple[tuple[tuple[int, ...], float], ...] = (
    ((3, 2, 4, 9, 5, 7), 27.0),
    ((6, 7, 3, 4, 5, 8), 40.0),
    ((0, 9, 4, 6, 3, 1), 36.0),
    ((2, 7, 5, 6, 0, 4), 28.0),
    ((1, 2, 6, 5, 8, 4), 28.0),
    ((4, 0, 8, 3, 7, 6), 47.0),
)


def design_matrix(bags: Sequence[Sequence[int]], n_gifts: int) -> np.ndarray:
    """0/1 matrix ``A`` with ``A[b, j] = 1`` when gift ``j`` is in bag ``b``."""
    A = np.zeros((len(bags), n_gifts))
    for b, gifts in enumerate(bags):
        for j in gifts:
            if not 0 <= j < n_gifts:
                raise ValueError(f"bag {b} holds gift {j}, outside 0..{n_gifts - 1}")
            A[b, j] += 1
    return A


@dataclass(frozen=True)
class GiftModel:
    """A gift-weight model: design matrix, bag weights, noise and prior, with its exact posterior."""

    A: np.ndarray
    y: np.ndarray
    noise_sd: float
    prior_mean: float
    prior_sd: float
    name: str = "w"

    def __post_init__(self) -> None:  # validates everything once
        object.__setattr__(self, "exact", LinearGaussian.from_arrays(
            self.A, self.y, self.noise_sd, self.prior_mean, prior_sd=self.prior_sd))

    @property
    def n_gifts(self) -> int:
        return self.A.shape[1]

    def log_posterior(self, w: np.ndarray) -> np.ndarray:
        """Hand-written numpy log posterior, vectorised ``(n, n_gifts) -> (n,)``."""
        return self.exact.log_posterior(w)

    def pymc_model(self):
        """The same model written in PyMC."""
        import pymc as pm

        with pm.Model() as model:
            w = pm.Normal(self.name, mu=self.prior_mean, sigma=self.prior_sd, shape=self.n_gifts)
            pm.Normal("bags", mu=pm.math.dot(self.A, w), sigma=self.noise_sd, observed=self.y)
        return model

    def problem(self):
        """The model as a :class:`bayeskit.Problem` (built from the PyMC model)."""
        from bayeskit.problem import Problem

        return Problem.from_pymc(self.pymc_model())

    def reference(self):
        return self.exact.reference(self.name)


def ten_gift_model(noise_sd: float = 0.5, prior_mean: float = 5.0, prior_sd: float = 2.0) -> GiftModel:
    """The ten gifts in six bags of :data:`TEN_GIFT_BAGS` (more unknowns than equations)."""
    A = design_matrix([gifts for gifts, _ in TEN_GIFT_BAGS], 10)
    y = np.array([weight for _, weight in TEN_GIFT_BAGS])
    return GiftModel(A, y, noise_sd, prior_mean, prior_sd)


def four_gift_model(noise_sd: float = 0.01, prior_mean: float = 5.0, prior_sd: float = 2.0,
                    bag_weights=None) -> GiftModel:
    """Four gifts, three bags (:data:`FOUR_GIFT_BAGS`). By default the bags weigh exactly what the
    true weights (2, 4, 5, 6) give: 6, 11 and 11."""
    A = design_matrix(FOUR_GIFT_BAGS, 4)
    y = A @ np.array(FOUR_GIFT_TRUE_WEIGHTS) if bag_weights is None else np.asarray(bag_weights, float)
    return GiftModel(A, y, noise_sd, prior_mean, prior_sd)
