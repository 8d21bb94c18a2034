"""Coverage of predictive intervals on held-out data, with binomial error bars; and the review rule.

If a model's central ``level`` predictive intervals are right, each held-out point falls inside its
interval with probability ``level``; over ``n`` independent held-out points the fraction covered has
standard error ``sqrt(level (1 - level) / n)``. A calibration curve plots that fraction against the
nominal level: a calibrated model stays within the binomial error bars of the diagonal.

References
----------
Gneiting, T., Balabdaoui, F. and Raftery, A. E. (2007). Probabilistic forecasts, calibration and sharpness. JRSS B.
Kuleshov, V., Fenner, N. and Ermon, S. (2018). Accurate uncertainties for deep learning using calibrated regression. ICML.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["CoverageCurve", "ReviewCounts", "coverage_curve", "review_counts"]


@dataclass(frozen=True)
class CoverageCurve:
    """Observed coverage of central intervals at each nominal level, over ``n`` held-out points."""

    levels: np.ndarray  # (k,)
    covered: np.ndarray  # (k, n) booleans

    @property
    def n(self) -> int:
        return self.covered.shape[1]

    @property
    def coverage(self) -> np.ndarray:
        return self.covered.mean(axis=1)

    @property
    def se(self) -> np.ndarray:
        """Binomial standard error of each coverage if the intervals are calibrated: ``sqrt(l (1 - l) / n)``."""
        return np.sqrt(self.levels * (1 - self.levels) / self.n)

    def z(self) -> np.ndarray:
        """``(coverage - level) / se``: about standard normal at each level for calibrated intervals."""
        return (self.coverage - self.levels) / self.se

    def within(self, z: float = 3.0) -> np.ndarray:
        """Whether each level's coverage is within ``z`` binomial standard errors of the level."""
        return np.abs(self.z()) <= z


def coverage_curve(y, ppf: Callable[[float], np.ndarray], levels=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
                   ) -> CoverageCurve:
    """Coverage of central predictive intervals of held-out ``y`` at several nominal levels.

    Parameters
    ----------
    y
        ``(n,)`` held-out observations, independent given the predictive distributions.
    ppf
        ``q -> (n,)`` predictive quantiles of each held-out point at probability ``q`` (e.g. the ``ppf`` of a
        frozen scipy distribution, or ``lambda q: np.quantile(draws, q, axis=0)``).
    levels
        Nominal levels of the central intervals ``[ppf((1 - l) / 2), ppf((1 + l) / 2)]``, each in (0, 1).

    Returns
    -------
    CoverageCurve

    Raises
    ------
    ValueError
        If ``y`` is not a non-empty finite 1-d array, a level is outside (0, 1), or ``ppf`` returns the wrong shape
        or non-finite quantiles.
    """
    y = np.asarray(y, float)
    if y.ndim != 1 or len(y) == 0 or not np.all(np.isfinite(y)):
        raise ValueError(f"y must be a non-empty, finite 1-d array of held-out observations, got shape {y.shape}")
    levels = np.atleast_1d(np.asarray(levels, float))
    if levels.ndim != 1 or not np.all((levels > 0) & (levels < 1)):
        raise ValueError(f"levels must be probabilities strictly between 0 and 1, got {levels}")
    covered = np.empty((len(levels), len(y)), bool)
    for k, level in enumerate(levels):
        lo = np.asarray(ppf((1 - level) / 2), float)
        hi = np.asarray(ppf((1 + level) / 2), float)
        for name, q in (("lower", lo), ("upper", hi)):
            if q.shape != y.shape or not np.all(np.isfinite(q)):
                raise ValueError(f"ppf must return {y.shape} finite quantiles (one per held-out point); the {name} "
                                 f"end at level {level} has shape {q.shape}")
        covered[k] = (lo <= y) & (y <= hi)
    return CoverageCurve(levels=levels, covered=covered)


@dataclass(frozen=True)
class ReviewCounts:
    """The review rule's outcome: out-of-distribution inputs caught, in-distribution inputs flagged."""

    threshold: float
    caught: int  # out-of-distribution inputs flagged
    n_ood: int
    false_flags: int  # in-distribution inputs flagged
    n_in: int

    @property
    def caught_rate(self) -> float:
        return self.caught / self.n_ood if self.n_ood else float("nan")

    @property
    def false_flag_rate(self) -> float:
        return self.false_flags / self.n_in if self.n_in else float("nan")


def review_counts(epistemic_sd, is_ood, threshold: float) -> ReviewCounts:
    """Flag inputs whose epistemic sd exceeds ``threshold`` ("route to human review") and count the outcome.

    Parameters
    ----------
    epistemic_sd
        ``(n,)`` epistemic sd at each input.
    is_ood
        ``(n,)`` booleans: True where the input is truly out of distribution.
    threshold
        Flag where ``epistemic_sd > threshold``; finite and non-negative.

    Returns
    -------
    ReviewCounts

    Raises
    ------
    ValueError
        On mismatched shapes, non-finite or negative sds, or a bad threshold.
    """
    sd = np.asarray(epistemic_sd, float)
    ood = np.asarray(is_ood)
    if sd.ndim != 1 or ood.shape != sd.shape:
        raise ValueError(f"epistemic_sd and is_ood must be 1-d of the same length, got shapes {sd.shape} and {ood.shape}")
    if ood.dtype != bool:
        raise ValueError(f"is_ood must be booleans (True = out of distribution), got dtype {ood.dtype}")
    if not np.all(np.isfinite(sd)) or np.any(sd < 0):
        raise ValueError("epistemic_sd must be finite and non-negative")
    if not (np.isfinite(threshold) and threshold >= 0):
        raise ValueError(f"threshold must be finite and non-negative, got {threshold!r}")
    flagged = sd > threshold
    return ReviewCounts(threshold=float(threshold), caught=int((flagged & ood).sum()), n_ood=int(ood.sum()),
                        false_flags=int((flagged & ~ood).sum()), n_in=int((~ood).sum()))
