"""The pebble game of notebook 01 (Metropolis from scratch): where a re-drawing random walk goes.

A pebble walks in the square ``[-1, 1]^2`` by steps ``delta ~ Uniform(-h, h)^2``. If a step that would
leave the square is re-drawn until it lands inside, one move has the transition density

    K(x -> x') = u(x' - x) / A(x)    for x' in the square,

where ``u`` is the density of the step and ``A(x)`` the chance that a step from ``x`` lands inside. As
``u`` is symmetric, ``A(x) K(x -> x') = u(x' - x) = A(x') K(x' -> x)``: the walk satisfies detailed
balance with the density proportional to ``A``, not with the uniform one. Its estimate of pi
(4 times the fraction of time spent in the unit circle) therefore converges to

    4 * (integral of A over the circle) / (integral of A over the square),

which :func:`redraw_limit` computes by quadrature. ``A`` factorises, ``A(x, y) = a(x) a(y)``, with
``a(t)`` the fraction of the interval ``[t - h, t + h]`` that lies in ``[-1, 1]``.

References
----------
Hastings, W. K. (1970). Monte Carlo sampling methods using Markov chains and their applications.
Biometrika 57, 97-109.
"""

from __future__ import annotations

import numpy as np
from scipy import integrate

__all__ = ["stay_probability_1d", "stay_probability", "redraw_marginal_density", "redraw_limit"]


def _check_step(step) -> float:
    h = float(step)
    if not (np.isfinite(h) and h > 0):
        raise ValueError(f"step must be a positive finite half-width, got {step!r}")
    return h


def stay_probability_1d(t, step: float) -> np.ndarray:
    """Chance ``a(t)`` that ``t + Uniform(-step, step)`` stays in ``[-1, 1]``, for ``t`` in ``[-1, 1]``.

    ``a(t) = (min(1, t + h) - max(-1, t - h)) / (2 h)``: 1 at least ``h`` from both ends (when ``h <= 1``),
    1/2 at the ends, and the constant ``1 / h`` everywhere when ``h >= 2``.

    Raises
    ------
    ValueError
        ``step`` not positive, or a ``t`` outside ``[-1, 1]``.
    """
    h = _check_step(step)
    t = np.asarray(t, dtype=float)
    if np.any(np.abs(t) > 1):
        raise ValueError("t must lie in [-1, 1] (the pebble is always inside the square)")
    return (np.minimum(1.0, t + h) - np.maximum(-1.0, t - h)) / (2 * h)


def stay_probability(points, step: float) -> np.ndarray:
    """Chance ``A(x) = a(x_1) a(x_2)`` that a uniform step of half-width ``step`` from each point stays in
    the square; ``points`` has shape ``(..., 2)``, the result ``(...)``."""
    points = np.asarray(points, dtype=float)
    if points.shape[-1:] != (2,):
        raise ValueError(f"points must have shape (..., 2), got {points.shape}")
    return stay_probability_1d(points[..., 0], step) * stay_probability_1d(points[..., 1], step)


def _integral_of_a(c, h: float) -> np.ndarray:
    """``int_0^c a(t) dt`` for ``0 <= c <= 1``, in closed form (``a`` is piecewise linear)."""
    c = np.asarray(c, dtype=float)
    # int_0^c min(1, s + h) ds: s + h below 1 up to s = 1 - h, then 1
    m = np.clip(1 - h, 0, c)
    upper = m**2 / 2 + h * m + (c - m)
    # int_0^c max(-1, s - h) ds: -1 up to s = h - 1, then s - h
    b = np.clip(h - 1, 0, c)
    lower = -b + ((c - h) ** 2 - (b - h) ** 2) / 2
    return (upper - lower) / (2 * h)


def redraw_marginal_density(t, step: float) -> np.ndarray:
    """Stationary density of one coordinate of the re-drawing walk: ``a(t) / int_{-1}^{1} a``."""
    h = _check_step(step)
    return stay_probability_1d(t, h) / (2 * _integral_of_a(1.0, h))


def redraw_limit(step: float) -> float:
    """The value the re-draw rule's estimate of pi converges to: ``4 int_circle A / int_square A``.

    The inner integral (over ``y`` at fixed ``x``) is done in closed form, the outer one by adaptive
    quadrature with breakpoints where ``a`` has kinks; the result is accurate to about 1e-12.
    It equals pi only in the limits ``step -> 0`` and ``step >= 2`` (where ``A`` is constant).

    Raises
    ------
    ValueError
        ``step`` not positive and finite.
    """
    h = _check_step(step)
    # a(x) has kinks at x = +-(1 - h); the chord integral where sqrt(1 - x^2) = |1 - h|
    k = abs(1 - h)
    kinks = sorted({s * v for s in (-1, 1) for v in (k, np.sqrt(max(0.0, 1 - k * k))) if 0 < v < 1})
    square = (2 * _integral_of_a(1.0, h)) ** 2

    def column(x):  # a(x) times the integral of a(y) over the chord |y| < sqrt(1 - x^2)
        return stay_probability_1d(x, h) * 2 * _integral_of_a(np.sqrt(max(0.0, 1 - x * x)), h)

    circle, _ = integrate.quad(column, -1, 1, points=kinks or None, epsabs=1e-14, epsrel=1e-13, limit=200)
    return float(4 * circle / square)
