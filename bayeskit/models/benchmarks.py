"""Test problems for evidence and multimodality, with exact answers.

* :func:`gaussian_shells` - two thin spherical shells (Feroz & Hobson 2008) under a uniform prior on
  ``[-6, 6]^d``; :func:`gaussian_shells_log_evidence` is the analytic log-evidence and
  :func:`gaussian_shells_radius_pdf` the exact posterior of a draw's distance to its shell's centre.
* :func:`gaussian_mixture` - well separated isotropic Gaussian bumps with given weights under a
  uniform prior; the evidence and the posterior weight of each mode are exact.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import integrate, special, stats

from bayeskit.problem import Problem

__all__ = ["gaussian_shells", "gaussian_shells_log_evidence", "gaussian_shells_radius_pdf", "gaussian_mixture"]

SHELL_RADIUS, SHELL_WIDTH, SHELL_OFFSET, SHELL_BOX = 2.0, 0.1, 3.5, 6.0


def gaussian_shells(d: int) -> Problem:
    """The Gaussian shells problem of Feroz & Hobson (2008) in ``d`` dimensions.

    ``L(x) = circ(x; c1) + circ(x; c2)``, ``circ(x; c) = exp(-(|x - c| - r)^2 / (2 w^2)) / sqrt(2 pi w^2)``,
    ``r = 2``, ``w = 0.1``, ``c1,2 = (-+3.5, 0, ..., 0)``, prior uniform on ``[-6, 6]^d``.

    Parameters
    ----------
    d : int
        Dimension, at least 1.

    Returns
    -------
    bayeskit.Problem
        With one parameter ``x`` of shape ``(d,)``.

    Raises
    ------
    ValueError
        ``d`` < 1.

    References
    ----------
    Feroz, F., Hobson, M. P. (2008). Multimodal nested sampling. MNRAS 384, 449-463.
    """
    if int(d) < 1:
        raise ValueError(f"d must be >= 1, got {d}")
    d = int(d)
    centres = np.zeros((2, d))
    centres[:, 0] = [-SHELL_OFFSET, SHELL_OFFSET]

    def log_likelihood(values):
        x = values["x"].reshape(len(values["x"]), d)
        radial = np.linalg.norm(x[:, None, :] - centres[None, :, :], axis=2)  # (n, 2)
        log_circ = -0.5 * ((radial - SHELL_RADIUS) / SHELL_WIDTH) ** 2 - 0.5 * np.log(2 * np.pi * SHELL_WIDTH**2)
        return np.logaddexp(log_circ[:, 0], log_circ[:, 1])

    box = stats.uniform(-SHELL_BOX, 2 * SHELL_BOX)
    return Problem(priors={"x": (box, (d,))}, log_likelihood=log_likelihood, name=f"gaussian_shells_{d}d")


@functools.lru_cache(maxsize=None)  # a pure function of d; the radius pdf divides by it on every call
def _radial_moment(d: int) -> float:
    """``E[R^(d-1)]`` for ``R ~ N(r, w^2)`` (adaptive quadrature; the mass below 0 is negligible)."""
    return integrate.quad(lambda r: r ** (d - 1) * stats.norm.pdf(r, SHELL_RADIUS, SHELL_WIDTH),
                          0, SHELL_RADIUS + 20 * SHELL_WIDTH, epsabs=0, epsrel=1e-13, limit=200)[0]


def gaussian_shells_log_evidence(d: int) -> float:
    """Analytic log-evidence of :func:`gaussian_shells`.

    ``log Z = log(2 S_{d-1} E[R^(d-1)] / 12^d)``, ``R ~ N(r, w^2)``, ``S_{d-1}`` the area of the unit sphere
    (each shell lies inside the box; the radial integral by adaptive quadrature).

    Parameters
    ----------
    d : int
        Dimension.

    Returns
    -------
    float
    """
    d = int(d)
    log_area = np.log(2) + (d / 2) * np.log(np.pi) - special.gammaln(d / 2)
    return float(np.log(2) + log_area + np.log(_radial_moment(d)) - d * np.log(2 * SHELL_BOX))


def gaussian_shells_radius_pdf(d: int, r) -> np.ndarray:
    """Posterior density of a draw's distance ``r`` to the centre of its shell.

    ``r^(d-1) N(r | 2, 0.1^2) / E[R^(d-1)]`` (the shell's profile times the area of the sphere of radius ``r``).

    Parameters
    ----------
    d : int
        Dimension.
    r : array_like
        Distances.

    Returns
    -------
    numpy.ndarray
        The density at ``r`` (0 for ``r <= 0``).
    """
    r = np.asarray(r, float)
    return np.where(r > 0, r ** (int(d) - 1) * stats.norm.pdf(r, SHELL_RADIUS, SHELL_WIDTH), 0.0) / _radial_moment(int(d))


def gaussian_mixture(centres, weights, sd: float, half_width: float) -> tuple[Problem, dict]:
    """A mixture of Gaussian bumps under a uniform prior box, with its exact evidence.

    Likelihood ``sum_k weights_k N(x | centres_k, sd^2 I)``, prior uniform on ``[-half_width, half_width]^d``.

    Parameters
    ----------
    centres : array_like, shape (k, d)
        Centres of the bumps.
    weights : array_like, shape (k,)
        Positive mixture weights summing to 1.
    sd : float
        Sd of every bump.
    half_width : float
        Half-width of the prior box.

    Returns
    -------
    problem : bayeskit.Problem
        With parameter ``x``.
    facts : dict
        ``log_evidence`` and ``mode_weights`` (posterior probability of each bump), exact up to the bumps'
        mass outside the box (checked < 1e-6).

    Raises
    ------
    ValueError
        Bad weights, or a bump with more than 1e-6 of its mass outside the box.
    """
    centres = np.atleast_2d(np.asarray(centres, float))
    weights = np.asarray(weights, float)
    k, d = centres.shape
    if weights.shape != (k,) or not np.all(weights > 0) or not np.isclose(weights.sum(), 1):
        raise ValueError(f"weights must be {k} positive numbers summing to 1, got {weights}")
    inside = stats.norm.cdf((half_width - centres) / sd) - stats.norm.cdf((-half_width - centres) / sd)
    if np.any(1 - inside.prod(axis=1) > 1e-6):
        raise ValueError("a bump is not inside the prior box (more than 1e-6 of its mass outside)")

    def log_likelihood(values):
        x = values["x"].reshape(len(values["x"]), d)
        sq = ((x[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        return special.logsumexp(np.log(weights) - 0.5 * sq / sd**2 - 0.5 * d * np.log(2 * np.pi * sd**2), axis=1)

    box = stats.uniform(-half_width, 2 * half_width)
    problem = Problem(priors={"x": (box, (d,))}, log_likelihood=log_likelihood, name="gaussian_mixture")
    return problem, {"log_evidence": float(-d * np.log(2 * half_width)), "mode_weights": weights.copy()}
