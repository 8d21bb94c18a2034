"""Maps between a scipy prior's support and the real line, for a Problem built from scipy priors.

Each continuous prior gets the transform its support calls for, as PyMC and Stan choose them:

* ``(-inf, inf)``: identity;
* ``(a, inf)``: ``z = log(x - a)``, ``x = a + exp(z)``, ``log|dx/dz| = z``;
* ``(-inf, b)``: ``z = log(b - x)``, ``x = b - exp(z)``, ``log|dx/dz| = z``;
* ``(a, b)``: ``z = logit((x - a) / (b - a))``, ``x = a + (b - a) sigmoid(z)``,
  ``log|dx/dz| = log(b - a) + log sigmoid(z) + log sigmoid(-z)``.

Discrete priors keep their integer values (identity).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats


@dataclass(frozen=True)
class SupportTransform:
    """The transform of one prior's support; ``kind`` is ``"identity"``, ``"lower"``, ``"upper"`` or ``"interval"``."""

    kind: str
    lower: float
    upper: float

    @classmethod
    def for_prior(cls, dist) -> "SupportTransform":
        if isinstance(dist.dist, stats.rv_discrete):
            return cls("identity", -np.inf, np.inf)
        lower, upper = (float(v) for v in dist.support())
        if np.isfinite(lower) and np.isfinite(upper):
            return cls("interval", lower, upper)
        if np.isfinite(lower):
            return cls("lower", lower, upper)
        if np.isfinite(upper):
            return cls("upper", lower, upper)
        return cls("identity", lower, upper)

    def to_constrained(self, z: np.ndarray) -> np.ndarray:
        if self.kind == "lower":
            return self.lower + np.exp(z)
        if self.kind == "upper":
            return self.upper - np.exp(z)
        if self.kind == "interval":
            return self.lower + (self.upper - self.lower) * special.expit(z)
        return z

    def to_unconstrained(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.kind == "lower":
                return np.log(x - self.lower)
            if self.kind == "upper":
                return np.log(self.upper - x)
            if self.kind == "interval":
                return special.logit((x - self.lower) / (self.upper - self.lower))
        return x

    def log_jacobian(self, z: np.ndarray) -> np.ndarray:
        """``log |dx/dz|`` elementwise."""
        if self.kind in ("lower", "upper"):
            return z
        if self.kind == "interval":
            return np.log(self.upper - self.lower) + special.log_expit(z) + special.log_expit(-z)
        return np.zeros_like(z)
