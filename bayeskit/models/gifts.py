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
    """0/1 matrix ``A`` with ``A[b, j] = 1`` when gift ``j`` is in bag ``b``.

    Parameters
    ----------
    bags : sequence of sequence of int
        The gifts in each bag (a gift listed twice counts twice).
    n_gifts : int
        Number of gifts.

    Returns
    -------
    numpy.ndarray, shape (len(bags), n_gifts)

    Raises
    ------
    ValueError
        A bag holds a gift index outside ``0..n_gifts - 1``.
    """
    A = np.zeros((len(bags), n_gifts))
    for b, gifts in enumerate(bags):
        for j in gifts:
            if not 0 <= j < n_gifts:
                raise ValueError(f"bag {b} holds gift {j}, outside 0..{n_gifts - 1}")
            A[b, j] += 1
    return A


@dataclass(frozen=True)
class GiftModel:
    """A gift-weight model: design matrix, bag weights, noise and prior, with its exact posterior.

    Every gift has a ``Normal(prior_mean, prior_sd)`` prior; bag ``b`` weighs ``(A w)_b`` plus
    ``Normal(0, noise_sd)``. The exact posterior is ``self.exact``, a :class:`bayeskit.exact.LinearGaussian`.

    Parameters
    ----------
    A : numpy.ndarray, shape (n_bags, n_gifts)
        Design matrix (:func:`design_matrix`).
    y : numpy.ndarray, shape (n_bags,)
        Measured bag weights.
    noise_sd : float
        Sd of the scale's error.
    prior_mean : float
        Prior mean of every gift weight.
    prior_sd : float
        Prior sd of every gift weight.
    name : str, default "w"
        Name of the weight vector in PyMC and in results.

    Raises
    ------
    ValueError
        Invalid inputs, as :meth:`bayeskit.exact.LinearGaussian.from_arrays` checks them.
    """

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
        """Hand-written numpy log posterior, vectorised ``(n, n_gifts) -> (n,)``.

        Parameters
        ----------
        w : numpy.ndarray, shape (n, n_gifts)
            Gift weights, one vector per row.

        Returns
        -------
        numpy.ndarray, shape (n,)
            Log prior plus log likelihood.
        """
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
        """The exact posterior as a :class:`bayeskit.exact.Reference` (labels ``w[0]``, ``w[1]``, ...).

        Returns
        -------
        bayeskit.exact.Reference
        """
        return self.exact.reference(self.name)


def ten_gift_model(noise_sd: float = 0.5, prior_mean: float = 5.0, prior_sd: float = 2.0) -> GiftModel:
    """The ten gifts in six bags of :data:`TEN_GIFT_BAGS` (more unknowns than equations).

    Parameters
    ----------
    noise_sd : float, default 0.5
        Sd of the scale's error.
    prior_mean : float, default 5.0
        Prior mean of every gift weight.
    prior_sd : float, default 2.0
        Prior sd of every gift weight.

    Returns
    -------
    GiftModel
    """
    A = design_matrix([gifts for gifts, _ in TEN_GIFT_BAGS], 10)
    y = np.array([weight for _, weight in TEN_GIFT_BAGS])
    return GiftModel(A, y, noise_sd, prior_mean, prior_sd)


def four_gift_model(noise_sd: float = 0.01, prior_mean: float = 5.0, prior_sd: float = 2.0,
                    bag_weights=None) -> GiftModel:
    """Four gifts, three bags (:data:`FOUR_GIFT_BAGS`).

    Parameters
    ----------
    noise_sd : float, default 0.01
        Sd of the scale's error.
    prior_mean : float, default 5.0
        Prior mean of every gift weight.
    prior_sd : float, default 2.0
        Prior sd of every gift weight.
    bag_weights : array_like, shape (3,), optional
        Measured weights; by default exactly what the true weights (2, 4, 5, 6) give: 6, 11 and 11.

    Returns
    -------
    GiftModel
    """
    A = design_matrix(FOUR_GIFT_BAGS, 4)
    y = A @ np.array(FOUR_GIFT_TRUE_WEIGHTS) if bag_weights is None else np.asarray(bag_weights, float)
    return GiftModel(A, y, noise_sd, prior_mean, prior_sd)
