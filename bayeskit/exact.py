"""Exact references: closed-form posteriors and evidences, and grid quadrature (1-2 dimensions on
the parameters' own axes, a few more on axes fitted to the posterior).

These are what every sampler in the series is checked against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Mapping, Sequence

import numpy as np
from scipy import integrate, stats

__all__ = ["Reference", "GridPosterior", "grid_posterior", "affine_grid_reference", "LinearGaussian"]

#: Points per call of a user's log-density in the grid routines: a likelihood over many observations
#: makes temporaries of ``max_batch x n_obs`` floats, so whole grids (641,601 points x 200 observations
#: is 1 GB per temporary) are evaluated in slices of this many points.
DEFAULT_MAX_BATCH = 8192


def _evaluate_in_batches(log_density: Callable[[np.ndarray], np.ndarray], points: np.ndarray,
                         max_batch: int) -> np.ndarray:
    """``log_density`` at every row of ``points``, at most ``max_batch`` rows per call, with the shape,
    NaN and +inf checks every grid routine makes."""
    if int(max_batch) < 1:
        raise ValueError(f"max_batch must be a positive number of points, got {max_batch}")
    out = np.empty(len(points))
    for start in range(0, len(points), int(max_batch)):
        chunk = points[start:start + int(max_batch)]
        logp = np.asarray(log_density(chunk), float)
        if logp.shape != (len(chunk),):
            raise ValueError(f"log_density must return shape ({len(chunk)},) for a batch of {len(chunk)} points, "
                             f"got {logp.shape}")
        if np.any(np.isnan(logp) | (logp == np.inf)):
            bad = chunk[int(np.flatnonzero(np.isnan(logp) | (logp == np.inf))[0])]
            raise ValueError(f"log_density returned NaN or +inf on the grid (at {bad.tolist()})")
        out[start:start + len(chunk)] = logp
    return out


@dataclass(frozen=True)
class Reference:
    """Exact posterior facts per scalar coordinate label (``"mu"``, ``"w[3]"``), for comparisons.

    Parameters
    ----------
    mean : mapping of str to float
        Exact posterior mean per label.
    sd : mapping of str to float
        Exact posterior sd per label.
    log_evidence : float, optional
        Exact log marginal likelihood, when known.
    marginal_pdf : mapping of str to callable, optional
        Exact marginal density per label, vectorised over an array of values (drawn by
        :func:`bayeskit.plots.plot_marginals`).
    """

    mean: Mapping[str, float]
    sd: Mapping[str, float]
    log_evidence: float | None = None
    marginal_pdf: Mapping[str, Callable[[np.ndarray], np.ndarray]] = field(default_factory=dict)


@dataclass(frozen=True)
class GridPosterior:
    """A posterior tabulated on a regular grid (1-D or 2-D), normalised by Simpson's rule.

    ``log_evidence`` is ``log of the integral of exp(log_density)``: the log-evidence when
    ``log_density`` is log-prior plus log-likelihood with both normalised. Built by :func:`grid_posterior`.

    Parameters
    ----------
    axes : tuple of numpy.ndarray
        The grid's points along each dimension.
    names : tuple of str
        A label per dimension.
    density : numpy.ndarray
        The normalised posterior density on the grid, shape ``tuple(len(ax) for ax in axes)``.
    log_evidence : float
        Log of the integral of the unnormalised density.
    """

    axes: tuple[np.ndarray, ...]
    names: tuple[str, ...]
    density: np.ndarray  # normalised posterior density on the grid, shape (len(ax) for ax in axes)
    log_evidence: float

    def _integrate(self, values: np.ndarray) -> float:
        for ax in reversed(self.axes):
            values = integrate.simpson(values, x=ax, axis=-1)
        return float(values)

    def marginal(self, i: int = 0) -> np.ndarray:
        """Marginal density along axis ``i``, on ``axes[i]``.

        Parameters
        ----------
        i : int, default 0
            The dimension to keep; the others are integrated out by Simpson's rule.

        Returns
        -------
        numpy.ndarray
            The marginal density at the points ``axes[i]``.
        """
        values = self.density
        for j in reversed(range(len(self.axes))):
            if j != i:
                values = integrate.simpson(values, x=self.axes[j], axis=j)
        return values

    def expectation(self, fn: Callable[..., np.ndarray]) -> float:
        """Posterior expectation of ``fn(*grid_coordinates)``, by Simpson's rule on the grid.

        Parameters
        ----------
        fn : callable
            Takes one array per dimension (the grid's coordinates, ``indexing="ij"``) and returns the values
            of the quantity on the grid, elementwise.

        Returns
        -------
        float
            The expectation.
        """
        mesh = np.meshgrid(*self.axes, indexing="ij")
        return self._integrate(fn(*mesh) * self.density)

    @property
    def mean(self) -> np.ndarray:
        return np.array([self.expectation(lambda *g, i=i: g[i]) for i in range(len(self.axes))])

    @property
    def sd(self) -> np.ndarray:
        m = self.mean
        return np.sqrt([self.expectation(lambda *g, i=i: (g[i] - m[i]) ** 2) for i in range(len(self.axes))])

    def reference(self) -> Reference:
        """The grid's means, sds, log-evidence and interpolated marginal densities as a :class:`Reference`.

        Returns
        -------
        Reference
            Keyed by :attr:`names`.
        """
        means, sds = self.mean, self.sd
        pdfs = {n: (lambda x, i=i: np.interp(x, self.axes[i], self.marginal(i), left=0, right=0))
                for i, n in enumerate(self.names)}
        return Reference(dict(zip(self.names, means)), dict(zip(self.names, sds)), self.log_evidence, pdfs)


def grid_posterior(
    log_density: Callable[[np.ndarray], np.ndarray],
    bounds: Sequence[tuple[float, float]],
    n: int | Sequence[int] = 401,
    names: Sequence[str] | None = None,
    max_batch: int = DEFAULT_MAX_BATCH,
) -> GridPosterior:
    """Tabulate and normalise ``exp(log_density)`` on a grid over ``bounds`` (1 or 2 dimensions).

    Parameters
    ----------
    log_density
        Vectorised ``(m, d) -> (m,)``; ``-inf`` outside the support.
    bounds
        ``[(lo, hi)]`` per dimension; the posterior mass outside must be negligible.
    n
        Grid points per dimension (odd numbers suit Simpson's rule).
    names
        Labels of the dimensions (default ``x0``, ``x1``).
    max_batch
        At most this many points per call of ``log_density``, so that memory stays bounded whatever
        the grid's size.

    Returns
    -------
    GridPosterior
        The normalised density on the grid, its log-evidence, marginals, means and sds.

    Raises
    ------
    ValueError
        More than 2 dimensions, bad bounds, or a NaN / +inf density, or mass touching the edge.
    """
    bounds = [tuple(map(float, b)) for b in bounds]
    d = len(bounds)
    if d not in (1, 2):
        raise ValueError(f"grid quadrature supports 1 or 2 dimensions, got {d}")
    for k, (lo, hi) in enumerate(bounds):
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise ValueError(f"bounds[{k}] must be finite with lo < hi, got {(lo, hi)}")
    ns = [int(n)] * d if np.isscalar(n) else [int(k) for k in n]
    axes = tuple(np.linspace(lo, hi, k) for (lo, hi), k in zip(bounds, ns))
    mesh = np.meshgrid(*axes, indexing="ij")
    points = np.stack([g.ravel() for g in mesh], axis=1)
    logp = _evaluate_in_batches(log_density, points, max_batch).reshape(mesh[0].shape)
    top = logp.max()
    if not np.isfinite(top):
        raise ValueError("log_density is -inf everywhere on the grid: widen the bounds")
    unnorm = np.exp(logp - top)
    z = unnorm
    for ax in reversed(axes):
        z = integrate.simpson(z, x=ax, axis=-1)
    density = unnorm / z
    names = tuple(names) if names is not None else tuple(f"x{i}" for i in range(d))
    return GridPosterior(axes, names, density, float(top + np.log(z)))


def affine_grid_reference(
    log_density: Callable[[np.ndarray], np.ndarray],
    center: Sequence[float],
    scale: np.ndarray,
    names: Sequence[str],
    n: int | Sequence[int] = 41,
    half_width: float | Sequence[float] = 7.0,
    edge_tol: float = 1e-9,
    max_batch: int = DEFAULT_MAX_BATCH,
) -> Reference:
    """Posterior means, sds and log-evidence by quadrature on a grid laid along the posterior's axes.

    The grid is ``x = center + scale @ z`` with ``z[k]`` on ``n[k]`` equally spaced points in
    ``[-half_width[k], half_width[k]]`` (scalars apply to every axis). Pick ``center`` and ``scale``
    from a Gaussian approximation (e.g. eigenvectors times root eigenvalues of its covariance), so
    that a thin or tilted posterior fills the box. The rule is the trapezoid rule, which converges
    exponentially for smooth densities that vanish at the edges and only like the spacing across a
    jump (a prior's support edge): give the axes that cross such edges more points, and refine and
    compare to know the error. All ``prod(n)`` points are evaluated, at most ``max_batch`` per call of
    ``log_density``.

    Parameters
    ----------
    log_density : callable
        Vectorised ``(m, d) -> (m,)`` unnormalised log posterior (log prior + log likelihood, both
        normalised, for the log-evidence to be right); ``-inf`` outside the support.
    center : sequence of float, length d
        Centre of the grid (e.g. the posterior mode or mean).
    scale : numpy.ndarray, shape (d, d)
        Non-singular matrix mapping the grid's unit axes to parameter space.
    names : sequence of str, length d
        Labels of the parameters in the returned Reference.
    n : int or sequence of int, default 41
        Points per axis (at least 3).
    half_width : float or sequence of float, default 7.0
        Half-width of the grid per axis, in units of ``scale``'s columns.
    edge_tol : float, default 1e-9
        Largest density allowed on the box's faces, relative to its peak.
    max_batch : int, default DEFAULT_MAX_BATCH
        At most this many points per call of ``log_density``.

    Returns
    -------
    Reference
        Means, sds and the log-evidence (no marginal densities).

    Raises
    ------
    ValueError
        Bad shapes, a NaN or +inf density, no mass on the grid, or density at the box's faces
        above ``edge_tol`` times its peak (widen ``half_width`` or the ``scale``).
    """
    center = np.asarray(center, float)
    scale = np.asarray(scale, float)
    d = center.size
    if center.ndim != 1 or scale.shape != (d, d) or not np.all(np.isfinite(scale)):
        raise ValueError(f"center must be a vector and scale a finite ({d}, {d}) matrix, got {center.shape}, {scale.shape}")
    if len(names) != d:
        raise ValueError(f"need {d} names, got {len(names)}")
    det = abs(np.linalg.det(scale))
    if not det > 0:
        raise ValueError("scale must be non-singular")
    ns = np.broadcast_to(np.asarray(n), (d,)).astype(int)
    widths = np.broadcast_to(np.asarray(half_width, float), (d,))
    if np.any(ns < 3) or not np.all(widths > 0):
        raise ValueError(f"need n >= 3 and half_width > 0 on every axis, got n={n}, half_width={half_width}")
    axes = [np.linspace(-w, w, k) for w, k in zip(widths, ns)]
    cell = np.prod([ax[1] - ax[0] for ax in axes])
    rest = (np.stack([g.ravel() for g in np.meshgrid(*axes[1:], indexing="ij")], axis=1)
            if d > 1 else np.zeros((1, 0)))
    slices = []
    for z0 in axes[0]:
        z = np.column_stack([np.full(len(rest), z0), rest])
        slices.append(_evaluate_in_batches(log_density, center + z @ scale.T, max_batch))
    logp = np.stack(slices)
    top = logp.max()
    if not np.isfinite(top):
        raise ValueError("log_density is -inf everywhere on the grid: check center and scale")
    weight = np.exp(logp - top).reshape(tuple(ns))
    faces = max(max(np.take(weight, 0, axis=k).max(), np.take(weight, -1, axis=k).max()) for k in range(d))
    if faces > edge_tol:
        raise ValueError(f"density at the grid's faces is {faces:.2g} of its peak (> {edge_tol:g}): widen half_width or scale")
    total = weight.sum()
    points = lambda k: np.expand_dims(axes[k], [j for j in range(d) if j != k])  # noqa: E731
    mean_z = np.array([(weight * points(k)).sum() / total for k in range(d)])
    second = np.empty((d, d))
    for i in range(d):
        for j in range(i, d):
            second[i, j] = second[j, i] = (weight * points(i) * points(j)).sum() / total
    cov_z = second - np.outer(mean_z, mean_z)
    mean = center + scale @ mean_z
    sd = np.sqrt(np.diag(scale @ cov_z @ scale.T))
    log_evidence = float(top + np.log(total * cell * det))
    return Reference(dict(zip(names, mean)), dict(zip(names, sd)), log_evidence)


@dataclass(frozen=True)
class LinearGaussian:
    """Exact posterior and evidence of the linear-Gaussian model.

    ``w ~ N(prior_mean, prior_cov)``, ``y = A w + e``, ``e ~ N(0, noise_sd**2 I)``. The posterior
    is Gaussian with precision ``P = prior_cov^-1 + A^T A / noise_sd**2`` and mean
    ``P^-1 (prior_cov^-1 prior_mean + A^T y / noise_sd**2)``; the evidence is
    ``y ~ N(A prior_mean, A prior_cov A^T + noise_sd**2 I)``. Build it with :meth:`from_arrays`, which
    checks the inputs.

    Parameters
    ----------
    A : numpy.ndarray, shape (n_obs, d)
        Design matrix.
    y : numpy.ndarray, shape (n_obs,)
        Observations.
    noise_sd : float
        Sd of the Gaussian noise, positive.
    prior_mean : numpy.ndarray, shape (d,)
        Prior mean of the weights.
    prior_cov : numpy.ndarray, shape (d, d)
        Prior covariance of the weights, positive definite.

    Examples
    --------
    >>> import numpy as np
    >>> from bayeskit.exact import LinearGaussian
    >>> model = LinearGaussian.from_arrays(np.ones((1, 1)), [2.0], noise_sd=1.0, prior_mean=0.0, prior_sd=1.0)
    >>> model.mean, model.sd  # precision 1 + 1 = 2: mean 2/2, sd sqrt(1/2)
    (array([1.]), array([0.70710678]))

    References
    ----------
    Bishop, C. M. (2006). Pattern Recognition and Machine Learning, sections 2.3.3 and 3.3.
    """

    A: np.ndarray
    y: np.ndarray
    noise_sd: float
    prior_mean: np.ndarray
    prior_cov: np.ndarray

    @classmethod
    def from_arrays(cls, A, y, noise_sd, prior_mean, prior_sd=None, prior_cov=None) -> "LinearGaussian":
        """Validate and build; ``prior_mean`` and ``prior_sd`` may be scalars (shared by all weights).

        Parameters
        ----------
        A : array_like, shape (n_obs, d)
            Design matrix (a 1-D array is one row).
        y : array_like, length n_obs
            Observations.
        noise_sd : float
            Noise sd, positive and finite.
        prior_mean : float or array_like, shape (d,)
            Prior mean of the weights.
        prior_sd : float or array_like, shape (d,), optional
            Prior sds of independent weights (used when ``prior_cov`` is not given).
        prior_cov : array_like, shape (d, d), optional
            Full prior covariance; takes precedence over ``prior_sd``.

        Returns
        -------
        LinearGaussian

        Raises
        ------
        ValueError
            ``y`` does not have one value per row of ``A``; ``A`` or ``y`` not finite; ``noise_sd`` not
            positive; neither ``prior_sd`` nor ``prior_cov`` given; ``prior_sd`` not positive; ``prior_cov`` of
            the wrong shape.
        """
        A = np.atleast_2d(np.asarray(A, float))
        y = np.asarray(y, float).ravel()
        n_obs, n_par = A.shape
        if y.shape != (n_obs,):
            raise ValueError(f"y must have one value per row of A ({n_obs}), got shape {y.shape}")
        for name, arr in (("A", A), ("y", y)):
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name} contains NaN or infinite values")
        if not (np.isfinite(noise_sd) and noise_sd > 0):
            raise ValueError(f"noise_sd must be positive and finite, got {noise_sd}")
        mean = np.broadcast_to(np.asarray(prior_mean, float), (n_par,)).copy()
        if prior_cov is None:
            if prior_sd is None:
                raise ValueError("give prior_sd or prior_cov")
            sd = np.broadcast_to(np.asarray(prior_sd, float), (n_par,))
            if np.any(~(sd > 0)):
                raise ValueError(f"prior_sd must be positive, got {prior_sd}")
            cov = np.diag(sd**2)
        else:
            cov = np.asarray(prior_cov, float)
            if cov.shape != (n_par, n_par):
                raise ValueError(f"prior_cov must have shape ({n_par}, {n_par}), got {cov.shape}")
        return cls(A, y, float(noise_sd), mean, cov)

    @property
    def precision(self) -> np.ndarray:
        return np.linalg.inv(self.prior_cov) + self.A.T @ self.A / self.noise_sd**2

    @property
    def cov(self) -> np.ndarray:
        return np.linalg.inv(self.precision)

    @property
    def mean(self) -> np.ndarray:
        rhs = np.linalg.solve(self.prior_cov, self.prior_mean) + self.A.T @ self.y / self.noise_sd**2
        return np.linalg.solve(self.precision, rhs)

    @property
    def sd(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))

    @property
    def mean_field_sd(self) -> np.ndarray:
        """Sds of the best factorised Gaussian approximation (minimising KL(q||p)): ``1/sqrt(diag P)``."""
        return 1 / np.sqrt(np.diag(self.precision))

    @property
    def log_evidence(self) -> float:
        marginal_cov = self.A @ self.prior_cov @ self.A.T + self.noise_sd**2 * np.eye(len(self.y))
        return float(stats.multivariate_normal(self.A @ self.prior_mean, marginal_cov).logpdf(self.y))

    @cached_property
    def _prior_whitening(self) -> tuple[np.ndarray, float]:
        """``(L^-1)^T`` for the prior covariance's Cholesky factor ``L``, and the prior's log normaliser."""
        chol = np.linalg.cholesky(self.prior_cov)
        d = len(self.prior_mean)
        return np.linalg.inv(chol).T, float(-np.log(np.diag(chol)).sum() - 0.5 * d * np.log(2 * np.pi))

    @cached_property
    def _likelihood_constant(self) -> float:
        n = len(self.y)
        return float(-n * np.log(self.noise_sd) - 0.5 * n * np.log(2 * np.pi))

    def log_prior(self, w: np.ndarray) -> np.ndarray:
        """Log prior density at each row of ``w``.

        A whitened quadratic form: samplers call it on every step, so the factorisation is done once.

        Parameters
        ----------
        w : array_like, shape (n, d) or (d,)
            Weight vectors, one per row.

        Returns
        -------
        numpy.ndarray, shape (n,)
            The normalised log prior density.
        """
        whiten, constant = self._prior_whitening
        r = (np.atleast_2d(w) - self.prior_mean) @ whiten
        return constant - 0.5 * np.einsum("ij,ij->i", r, r)

    def log_likelihood(self, w: np.ndarray) -> np.ndarray:
        """Gaussian log-likelihood of ``y`` at each row of ``w``.

        Parameters
        ----------
        w : array_like, shape (n, d) or (d,)
            Weight vectors, one per row.

        Returns
        -------
        numpy.ndarray, shape (n,)
            ``log N(y | A w, noise_sd**2 I)``, normalised.
        """
        resid = self.y - np.atleast_2d(w) @ self.A.T
        return self._likelihood_constant - 0.5 * np.einsum("ij,ij->i", resid, resid) / self.noise_sd**2

    def log_posterior(self, w: np.ndarray) -> np.ndarray:
        """Unnormalised log posterior (log prior + log likelihood), vectorised ``(n, d) -> (n,)``.

        Parameters
        ----------
        w : array_like, shape (n, d) or (d,)
            Weight vectors, one per row.

        Returns
        -------
        numpy.ndarray, shape (n,)
            Log prior plus log likelihood; its integral over ``w`` is the evidence.
        """
        return self.log_prior(w) + self.log_likelihood(w)

    def reference(self, name: str = "w") -> Reference:
        """The exact posterior as a :class:`Reference` with labels ``name[i]``.

        Parameters
        ----------
        name : str, default "w"
            Name of the weight vector in the results to compare with.

        Returns
        -------
        Reference
            Means, sds, the log-evidence and the exact normal marginal densities.
        """
        labels = [f"{name}[{i}]" for i in range(len(self.prior_mean))]
        mean, sd = self.mean, self.sd
        pdfs = {lab: (lambda x, m=m, s=s: stats.norm.pdf(x, m, s)) for lab, m, s in zip(labels, mean, sd)}
        return Reference(dict(zip(labels, mean)), dict(zip(labels, sd)), self.log_evidence, pdfs)


