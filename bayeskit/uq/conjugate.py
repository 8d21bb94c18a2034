"""Bayesian linear regression with the conjugate Normal-inverse-gamma prior: exact posterior and predictive.

The model (``w_i`` a known positive noise shape, 1 for constant noise)::

    sigma^2 ~ InverseGamma(a0, b0)
    beta | sigma^2 ~ N(m0, sigma^2 V0)
    y_i | beta, sigma^2 ~ N(x_i beta, sigma^2 w_i^2)

The posterior is again Normal-inverse-gamma, with (``W = diag(1 / w_i^2)``)::

    V_n^-1 = V0^-1 + X^T W X,      m_n = V_n (V0^-1 m0 + X^T W y),
    a_n = a0 + n / 2,              b_n = b0 + (y^T W y + m0^T V0^-1 m0 - m_n^T V_n^-1 m_n) / 2,

``beta`` is marginally a multivariate Student t with ``2 a_n`` degrees of freedom, location ``m_n`` and
shape ``(b_n / a_n) V_n``, and a new observation at ``x`` with noise shape ``w`` has the Student-t
predictive with ``2 a_n`` degrees of freedom, location ``x m_n`` and squared scale
``(b_n / a_n) (w^2 + x V_n x^T)``.

References
----------
Murphy, K. P. (2007). Conjugate Bayesian analysis of the Gaussian distribution, section 9 (linear regression).
Bishop, C. M. (2006). Pattern Recognition and Machine Learning, section 3.3 and exercise 3.12-3.13.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayeskit._checks import SeedLike, as_rng, check_positive_int

__all__ = ["NIGPosterior", "nig_posterior"]


def _design(X, p: int | None = None, name: str = "X") -> np.ndarray:
    X = np.asarray(X, float)
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-d design matrix (n, p), got shape {X.shape}")
    if p is not None and X.shape[1] != p:
        raise ValueError(f"{name} must have {p} columns (one per coefficient), got {X.shape[1]}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} must be finite (no NaN or infinite values)")
    return X


def _noise_shape(noise_scale, n: int, name: str = "noise_scale") -> np.ndarray:
    if noise_scale is None:
        return np.ones(n)
    w = np.broadcast_to(np.asarray(noise_scale, float), (n,)) if np.ndim(noise_scale) == 0 else np.asarray(noise_scale, float)
    if w.shape != (n,):
        raise ValueError(f"{name} must be a scalar or have shape ({n},), one per row, got shape {w.shape}")
    if not (np.all(np.isfinite(w)) and np.all(w > 0)):
        raise ValueError(f"{name} must be finite and positive (it scales the noise sd of each row)")
    return w


def _level(level: float) -> float:
    if not (isinstance(level, (float, int, np.floating)) and 0 < level < 1):
        raise ValueError(f"level must be a probability strictly between 0 and 1, got {level!r}")
    return float(level)


@dataclass(frozen=True)
class NIGPosterior:
    """A Normal-inverse-gamma distribution over ``(beta, sigma^2)``: ``sigma^2 ~ IG(a, b)``,
    ``beta | sigma^2 ~ N(mean, sigma^2 V)``. Used for the prior and for the posterior."""

    mean: np.ndarray  # (p,)
    V: np.ndarray  # (p, p)
    a: float
    b: float

    @property
    def p(self) -> int:
        return len(self.mean)

    # --- parameters ---------------------------------------------------------------------------------------
    @property
    def sigma2_mean(self) -> float:
        """``E[sigma^2] = b / (a - 1)`` (needs ``a > 1``)."""
        if self.a <= 1:
            raise ValueError(f"E[sigma^2] is infinite for a <= 1 (a = {self.a})")
        return self.b / (self.a - 1)

    @property
    def sigma_mean(self) -> float:
        """``E[sigma] = sqrt(b) Gamma(a - 1/2) / Gamma(a)``."""
        from scipy import special

        return float(np.sqrt(self.b) * np.exp(special.gammaln(self.a - 0.5) - special.gammaln(self.a)))

    @property
    def sigma_sd(self) -> float:
        """Posterior sd of ``sigma``, from ``E[sigma^2]`` and ``E[sigma]``."""
        return float(np.sqrt(self.sigma2_mean - self.sigma_mean**2))

    @property
    def beta_cov(self) -> np.ndarray:
        """Marginal covariance of ``beta``: ``E[sigma^2] V``."""
        return self.sigma2_mean * self.V

    @property
    def beta_sd(self) -> np.ndarray:
        return np.sqrt(np.diag(self.beta_cov))

    # --- predictions at new inputs ------------------------------------------------------------------------
    def _new(self, X_new, noise_scale) -> tuple[np.ndarray, np.ndarray]:
        X_new = _design(X_new, self.p, "X_new")
        return X_new, _noise_shape(noise_scale, X_new.shape[0])

    def mean_function(self, X_new) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and sd of the regression line ``x beta`` at each row of ``X_new``.

        The sd is the epistemic one: ``sqrt(E[sigma^2] x V x^T)``."""
        X_new, _ = self._new(X_new, None)
        quad = np.einsum("ij,jk,ik->i", X_new, self.V, X_new)
        return X_new @ self.mean, np.sqrt(self.sigma2_mean * quad)

    def predictive(self, X_new, noise_scale=None):
        """The Student-t posterior predictive of new observations at the rows of ``X_new``.

        Parameters
        ----------
        X_new
            ``(m, p)`` design matrix of the new inputs.
        noise_scale
            Noise shape ``w`` of each new row (scalar or ``(m,)``); None for constant noise.

        Returns
        -------
        scipy.stats frozen ``t`` distribution with ``df = 2 a``, ``loc = X_new mean`` and
        ``scale = sqrt((b / a) (w^2 + x V x^T))`` (vectorised over the ``m`` rows).
        """
        from scipy import stats

        X_new, w = self._new(X_new, noise_scale)
        quad = np.einsum("ij,jk,ik->i", X_new, self.V, X_new)
        return stats.t(df=2 * self.a, loc=X_new @ self.mean, scale=np.sqrt(self.b / self.a * (w**2 + quad)))

    def predictive_variance(self, X_new, noise_scale=None) -> tuple[np.ndarray, np.ndarray]:
        """Exact aleatoric and epistemic parts of the predictive variance at each new row.

        Returns
        -------
        aleatoric, epistemic
            ``E[sigma^2] w^2`` and ``Var[x beta] = E[sigma^2] x V x^T``; their sum is the variance of the
            Student-t predictive, ``(b / a) (w^2 + x V x^T) * df / (df - 2)``.
        """
        X_new, w = self._new(X_new, noise_scale)
        quad = np.einsum("ij,jk,ik->i", X_new, self.V, X_new)
        return self.sigma2_mean * w**2, self.sigma2_mean * quad

    def predictive_interval(self, X_new, level: float = 0.9, noise_scale=None) -> tuple[np.ndarray, np.ndarray]:
        """Central ``level`` predictive interval (lower, upper) at each row of ``X_new``."""
        level = _level(level)
        dist = self.predictive(X_new, noise_scale)
        return dist.ppf((1 - level) / 2), dist.ppf((1 + level) / 2)

    def sample(self, n: int, seed: SeedLike = None) -> tuple[np.ndarray, np.ndarray]:
        """``n`` independent draws ``(beta (n, p), sigma2 (n,))``: ``sigma^2`` from IG(a, b), then ``beta``."""
        n = check_positive_int("n", n)
        rng = as_rng(seed)
        sigma2 = self.b / rng.gamma(self.a, size=n)
        chol = np.linalg.cholesky(self.V)
        beta = self.mean + np.sqrt(sigma2)[:, None] * rng.standard_normal((n, self.p)) @ chol.T
        return beta, sigma2


def nig_posterior(X, y, prior_mean=None, prior_V=None, a0: float = 2.0, b0: float = 1.0,
                  noise_scale=None) -> NIGPosterior:
    """The exact Normal-inverse-gamma posterior of Bayesian linear regression.

    Parameters
    ----------
    X, y
        ``(n, p)`` design matrix (include a column of ones for an intercept) and ``(n,)`` responses.
    prior_mean, prior_V
        ``m0`` (default zeros) and ``V0`` (default the identity): ``beta | sigma^2 ~ N(m0, sigma^2 V0)``.
    a0, b0
        ``sigma^2 ~ InverseGamma(a0, b0)`` (shape, scale), both positive.
    noise_scale
        Known noise shape ``w_i > 0`` per row (``sd_i = sigma w_i``); None for constant noise.

    Returns
    -------
    NIGPosterior

    Raises
    ------
    ValueError
        On shapes that do not match, non-finite data, a ``V0`` that is not symmetric positive definite,
        or non-positive ``a0``, ``b0`` or noise scales.

    References
    ----------
    Murphy, K. P. (2007). Conjugate Bayesian analysis of the Gaussian distribution, section 9.
    """
    X = _design(X)
    n, p = X.shape
    y = np.asarray(y, float)
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},), one response per row of X, got {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError("y must be finite (no NaN or infinite values)")
    m0 = np.zeros(p) if prior_mean is None else np.asarray(prior_mean, float)
    if m0.shape != (p,):
        raise ValueError(f"prior_mean must have shape ({p},), got {m0.shape}")
    V0 = np.eye(p) if prior_V is None else np.asarray(prior_V, float)
    if V0.shape != (p, p) or not np.allclose(V0, V0.T):
        raise ValueError(f"prior_V must be a symmetric ({p}, {p}) matrix, got shape {V0.shape}")
    try:
        np.linalg.cholesky(V0)
    except np.linalg.LinAlgError:
        raise ValueError("prior_V must be positive definite") from None
    for name, value in (("a0", a0), ("b0", b0)):
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be positive and finite (inverse-gamma shape and scale), got {value!r}")
    w2inv = 1.0 / _noise_shape(noise_scale, n) ** 2
    P0 = np.linalg.inv(V0)
    Pn = P0 + X.T @ (w2inv[:, None] * X)
    Vn = np.linalg.inv(Pn)
    Vn = 0.5 * (Vn + Vn.T)
    mn = Vn @ (P0 @ m0 + X.T @ (w2inv * y))
    bn = b0 + 0.5 * float(y @ (w2inv * y) + m0 @ P0 @ m0 - mn @ Pn @ mn)
    return NIGPosterior(mean=mn, V=Vn, a=float(a0 + n / 2), b=float(bn))
