"""Input checks shared by the package: clear errors naming the argument and what was expected."""

from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["as_rng", "check_positive_int", "evaluate_batch"]


def as_rng(seed) -> np.random.Generator:
    """Normalise ``seed`` (None, int, SeedSequence or Generator) to a Generator, once."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and not isinstance(seed, (int, np.integer, np.random.SeedSequence)):
        raise TypeError(f"seed must be None, an int, a SeedSequence or a numpy Generator, got {type(seed).__name__}")
    return np.random.default_rng(seed)


def seed_for_attrs(seed):
    """A value describing ``seed`` that fits in InferenceData attrs."""
    return int(seed) if isinstance(seed, (int, np.integer)) else ("generator" if seed is not None else "none")


def check_positive_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def evaluate_batch(fn: Callable, x: np.ndarray, what: str = "log_density") -> np.ndarray:
    """Call a vectorised density on ``x`` of shape ``(n, ndim)`` and check its answer.

    The answer must be a float array of shape ``(n,)`` with no NaN and no ``+inf``;
    ``-inf`` (zero density) is allowed.
    """
    out = np.asarray(fn(x), dtype=float)
    n = x.shape[0]
    if out.shape != (n,):
        if out.shape == (n, 1):
            out = out[:, 0]
        else:
            raise ValueError(
                f"{what} must return one value per point: shape ({n},) for input of shape {x.shape}, got {out.shape}"
            )
    bad = np.flatnonzero(np.isnan(out) | (out == np.inf))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{what} returned {out[i]} at batch index {i} (point {x[i].tolist()}); "
            "return -inf for points outside the support, never NaN or +inf"
        )
    return out
