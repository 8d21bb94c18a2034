"""Closed forms of ``ppf`` and ``logpdf`` for the commonest frozen SciPy priors.

A frozen ``scipy.stats`` distribution spends about 50-100 microseconds per call checking and
broadcasting its arguments, whatever the batch size. Nested samplers call the prior transform
and the likelihood tens of thousands of times on small batches, so that overhead can be half of a
run. For the uniform and the normal distribution the same numbers (to rounding) come from one line
of NumPy; every other distribution keeps SciPy's own methods.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy import special, stats

Array = np.ndarray
_HALF_LOG_2PI = 0.5 * np.log(2 * np.pi)


def prior_functions(dist) -> tuple[Callable[[Array], Array], Callable[[Array], Array]]:
    """``(ppf, log_density)`` of a frozen SciPy distribution: closed forms for uniform and normal,
    SciPy's methods otherwise (``logpmf`` for a discrete distribution)."""
    name = getattr(dist.dist, "name", None)
    if name == "uniform":
        low, high = (float(v) for v in dist.support())
        width, log_density = high - low, -np.log(high - low)

        def ppf(u):
            return low + width * u

        def logpdf(x):
            return np.where((x >= low) & (x <= high), log_density, -np.inf)

        return ppf, logpdf
    if name == "norm":
        mean, sd = float(dist.mean()), float(dist.std())
        log_norm = -np.log(sd) - _HALF_LOG_2PI

        def ppf(u):
            return mean + sd * special.ndtri(u)

        def logpdf(x):
            return log_norm - 0.5 * ((x - mean) / sd) ** 2

        return ppf, logpdf
    if isinstance(dist.dist, stats.rv_discrete):
        return dist.ppf, dist.logpmf
    return dist.ppf, dist.logpdf
