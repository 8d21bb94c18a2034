"""The pebble game of notebook 01 (Metropolis from scratch): where a re-drawing random walk goes.

A pebble walks in the square ``[-1, 1]^2`` by steps ``delta ~ Uniform(-h, h)^2``. If a step that would
leave the square is re-drawn until it lands inside, one move has the transition density

    K(x -> x') = u(x' - x) / A(x)    for x' in the square,

where ``u`` is the density of the step and ``A(x)`` the chance that a step from ``x`` lands inside. As
``u`` is symmetric, ``A(x) K(x -> x') = u(x' - x) = A(x') K(x' -> x)``: the walk satisfies detailed
balance with the density proportional to ``A``, not with the uniform one. Its estimate of pi
(4 times the fraction of time spent in the unit circle) therefore converges to

    4 * (integral of A over the circle) / (integral of A over the square),

which :func:`redraw_limit` computes by quadrature (:func:`redraw_integrals` gives the two integrals).
``A`` factorises, ``A(x, y) = a(x) a(y)``, with ``a(t)`` the fraction of the interval ``[t - h, t + h]``
that lies in ``[-1, 1]``. The Metropolis-Hastings correction of the re-draw rule accepts with
``min(1, A(x) / A(x'))``; :func:`hastings_rejection_share` gives the share of its proposals it rejects at
stationarity.

The *clamp* rule (a step that would leave the square ends on its edge) moves each coordinate by an
independent one-dimensional walk whose stationary distribution has point masses at -1 and 1;
:func:`clamp_stationary_1d` computes it on a grid and :func:`clamp_limit` the value its estimate of pi
converges to.

References
----------
Hastings, W. K. (1970). Monte Carlo sampling methods using Markov chains and their applications.
Biometrika 57, 97-109.
"""

from __future__ import annotations

import numpy as np
from scipy import integrate

__all__ = ["stay_probability_1d", "stay_probability", "redraw_marginal_density", "redraw_integrals", "redraw_limit",
           "hastings_rejection_share", "clamp_stationary_1d", "clamp_limit"]


def _check_step(step) -> float:
    h = float(step)
    if not (np.isfinite(h) and h > 0):
        raise ValueError(f"step must be a positive finite half-width, got {step!r}")
    return h


def stay_probability_1d(t, step: float) -> np.ndarray:
    """Chance ``a(t)`` that ``t + Uniform(-step, step)`` stays in ``[-1, 1]``, for ``t`` in ``[-1, 1]``.

    ``a(t) = (min(1, t + h) - max(-1, t - h)) / (2 h)``: 1 at least ``h`` from both ends (when ``h <= 1``),
    1/2 at the ends, and the constant ``1 / h`` everywhere when ``h >= 2``.

    Parameters
    ----------
    t : array_like
        Positions in ``[-1, 1]``.
    step : float
        Half-width ``h`` of the uniform step, positive.

    Returns
    -------
    numpy.ndarray
        ``a(t)``, same shape as ``t``.

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
    the square; ``points`` has shape ``(..., 2)``, the result ``(...)``.

    Parameters
    ----------
    points : array_like, shape (..., 2)
        Points of the square.
    step : float
        Half-width ``h`` of the uniform step, positive.

    Returns
    -------
    numpy.ndarray, shape (...)

    Raises
    ------
    ValueError
        ``points`` not of shape ``(..., 2)``, a coordinate outside ``[-1, 1]``, or ``step`` not positive.
    """
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
    """Stationary density of one coordinate of the re-drawing walk: ``a(t) / int_{-1}^{1} a``.

    Parameters
    ----------
    t : array_like
        Positions in ``[-1, 1]``.
    step : float
        Half-width ``h`` of the uniform step, positive.

    Returns
    -------
    numpy.ndarray
        The density at ``t``.

    Raises
    ------
    ValueError
        ``step`` not positive, or a ``t`` outside ``[-1, 1]``.
    """
    h = _check_step(step)
    return stay_probability_1d(t, h) / (2 * _integral_of_a(1.0, h))


def redraw_integrals(step: float) -> tuple[float, float]:
    """``(int_circle A, int_square A)``: the weight the re-draw walk's stationary density ``A`` gives the unit
    circle and the whole square ``[-1, 1]^2`` (the uniform density would give them pi and 4).

    The inner integral (over ``y`` at fixed ``x``) is done in closed form, the outer one by adaptive
    quadrature with breakpoints where ``a`` has kinks; the result is accurate to about 1e-12. The square's
    integral is exact: ``(int a)^2``.

    Parameters
    ----------
    step : float
        Half-width ``h`` of the uniform step, positive.

    Returns
    -------
    circle, square : float

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
    return float(circle), float(square)


def redraw_limit(step: float) -> float:
    """The value the re-draw rule's estimate of pi converges to: ``4 int_circle A / int_square A``.

    Accurate to about 1e-12 (see :func:`redraw_integrals`). It equals pi only in the limits
    ``step -> 0`` and ``step >= 2`` (where ``A`` is constant).

    Parameters
    ----------
    step : float
        Half-width ``h`` of the uniform step, positive.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        ``step`` not positive and finite.
    """
    circle, square = redraw_integrals(step)
    return 4 * circle / square


def hastings_rejection_share(step: float, n: int = 1_000_000, seed: int = 0) -> tuple[float, float]:
    """Share of re-drawn proposals that the Hastings test ``min(1, A(x) / A(x'))`` rejects, at stationarity
    (the pebble uniform on the square), and the Monte Carlo standard error of that share.

    A re-drawn proposal has density ``u(x' - x) / A(x)`` on the square, so with ``x`` uniform the share is
    ``(1/4) int int u(x' - x) max(0, 1 / A(x) - 1 / A(x')) dx dx'`` over pairs of points of the square.
    Exchanging ``x`` and ``x'`` (``u`` is symmetric) turns it into half the same integral of
    ``|1 / A(x) - 1 / A(x')|``, which has the smaller variance. It is estimated from ``n`` independent
    uniform points ``x`` and plain steps ``x' = x + delta``, each scoring ``|1 / A(x) - 1 / A(x')| / 2`` if
    ``x'`` is inside (0 otherwise); the standard error is ``sd / sqrt(n)`` of these independent scores. The
    share is 0 when ``step >= 2`` (``A`` constant).

    Parameters
    ----------
    step : float
        Half-width ``h`` of the uniform step, positive.
    n : int, default 1000000
        Monte Carlo points.
    seed : int, default 0
        Seed of the points.

    Returns
    -------
    share, standard_error : float

    Raises
    ------
    ValueError
        ``step`` not positive and finite, or ``n < 2``.
    """
    h = _check_step(step)
    if int(n) < 2:
        raise ValueError(f"n must be at least 2, got {n!r}")
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(int(n), 2))
    x_new = x + rng.uniform(-h, h, size=x.shape)
    inside = np.all(np.abs(x_new) <= 1, axis=1)
    score = np.zeros(len(x))
    score[inside] = 0.5 * np.abs(1 / stay_probability(x[inside], h) - 1 / stay_probability(x_new[inside], h))
    return float(score.mean()), float(score.std(ddof=1) / np.sqrt(len(score)))


def clamp_stationary_1d(step: float, n_cells: int = 1000) -> tuple[np.ndarray, np.ndarray, float]:
    """Stationary distribution of one coordinate of the clamp walk, ``t' = clip(t + Uniform(-step, step), -1, 1)``.

    ``[-1, 1]`` is cut into ``n_cells`` equal cells, plus two states for the point masses at -1 and 1; a move
    from a cell starts at its centre and its transition probabilities are the exact overlaps of
    ``[t - h, t + h]`` with the cells and with the two sides beyond the edges. The stationary vector solves
    ``pi P = pi`` (a dense linear solve: ``n_cells`` of a few thousand at most). The error falls quickly
    with ``n_cells``: at ``step = 0.3`` :func:`clamp_limit` gives 2.579109, 2.579111 and 2.579108 with 500,
    1000 and 2000 cells.

    Parameters
    ----------
    step : float
        Half-width ``h`` of the uniform step, positive.
    n_cells : int, default 1000
        Cells of ``[-1, 1]``.

    Returns
    -------
    edges : array, shape (n_cells + 1,)
        Cell edges.
    cell_mass : array, shape (n_cells,)
        Stationary probability of each cell (the continuous part).
    edge_mass : float
        Stationary probability of each point mass (the same at -1 and 1, by symmetry).

    Raises
    ------
    ValueError
        ``step`` not positive and finite, or ``n_cells < 2``.
    """
    h = _check_step(step)
    m = int(n_cells)
    if m < 2:
        raise ValueError(f"n_cells must be at least 2, got {n_cells!r}")
    edges = np.linspace(-1.0, 1.0, m + 1)
    start = np.concatenate([(edges[:-1] + edges[1:]) / 2, [-1.0, 1.0]])   # cell centres, then the two edges
    low, high = start - h, start + h
    P = np.empty((m + 2, m + 2))
    P[:, :m] = np.clip(np.minimum(edges[1:], high[:, None]) - np.maximum(edges[:-1], low[:, None]), 0, None)
    P[:, m] = np.maximum(0.0, -1.0 - low)     # steps ending below -1 are clamped to -1
    P[:, m + 1] = np.maximum(0.0, high - 1.0)  # steps ending above 1 are clamped to 1
    P /= 2 * h
    system = P.T - np.eye(m + 2)
    system[-1] = 1.0                            # replace one (redundant) balance equation by sum(pi) = 1
    rhs = np.zeros(m + 2)
    rhs[-1] = 1.0
    pi = np.linalg.solve(system, rhs)
    return edges, pi[:m], float((pi[m] + pi[m + 1]) / 2)


def clamp_limit(step: float, n_cells: int = 1000) -> float:
    """The value the clamp rule's estimate of pi converges to: ``4 P(X_1^2 + X_2^2 < 1)`` with ``X_1, X_2``
    independent draws of :func:`clamp_stationary_1d` (the point masses lie outside the open disc).

    The inner probability ``P(|X_2| < sqrt(1 - x^2))`` interpolates the cumulative cell masses linearly.

    Parameters
    ----------
    step : float
        Half-width ``h`` of the uniform step, positive.
    n_cells : int, default 1000
        Cells of ``[-1, 1]`` (see :func:`clamp_stationary_1d`).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        ``step`` not positive and finite, or ``n_cells < 2``.
    """
    edges, cell_mass, _ = clamp_stationary_1d(step, n_cells)
    centres = (edges[:-1] + edges[1:]) / 2
    cdf = np.concatenate([[0.0], np.cumsum(cell_mass)])
    half_chord = np.sqrt(1 - centres**2)
    inner = np.interp(half_chord, edges, cdf) - np.interp(-half_chord, edges, cdf)
    return float(4 * np.sum(cell_mass * inner))
