"""Input checks shared by the package: clear errors naming the argument and what was expected."""

from __future__ import annotations

from typing import Callable, Union

import numpy as np

__all__ = ["SeedLike", "as_rng", "check_positive_int", "check_seed", "check_start_points", "evaluate_batch", "int_seed",
           "seed_for_attrs"]

#: What every ``seed`` argument of the package accepts.
SeedLike = Union[None, int, np.integer, np.random.SeedSequence, np.random.Generator]

_SEED_KINDS = "None, a non-negative int, a numpy SeedSequence or a numpy Generator"


def check_seed(seed, name: str = "seed"):
    """Return ``seed`` unchanged if it is a :data:`SeedLike`, else raise.

    Raises
    ------
    TypeError
        For anything but None, an int (not a bool), a SeedSequence or a Generator (e.g. a str or a float).
    ValueError
        For a negative int (NumPy's generators take non-negative seeds only).
    """
    if seed is None or isinstance(seed, (np.random.Generator, np.random.SeedSequence)):
        return seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{name} must be {_SEED_KINDS}, got {type(seed).__name__} {seed!r}")
    if seed < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {seed}")
    return seed


def as_rng(seed: SeedLike, name: str = "seed") -> np.random.Generator:
    """Normalise ``seed`` (None, int, SeedSequence or Generator) to a Generator, once.

    A Generator is returned as it is (its state is shared with the caller, not copied).
    """
    seed = check_seed(seed, name)
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def int_seed(seed: SeedLike) -> int | None:
    """An int seed for libraries that take only ints (PyMC, UltraNest's global NumPy state).

    None and ints pass through unchanged (so an int seed gives the numbers it always gave); a Generator or
    SeedSequence gives one draw from ``[0, 2**32 - 1)``, so the same Generator state gives the same run.
    """
    seed = check_seed(seed)
    if seed is None or isinstance(seed, (int, np.integer)):
        return None if seed is None else int(seed)
    return int(as_rng(seed).integers(2**32 - 1))


def seed_for_attrs(seed):
    """A value describing ``seed`` that fits in InferenceData attrs: the int, ``"generator"`` or ``"none"``."""
    return int(seed) if isinstance(seed, (int, np.integer)) else ("generator" if seed is not None else "none")


def check_positive_int(name: str, value, minimum: int = 1) -> int:
    """``value`` as an int, if it is an integer (not a bool, not a float) of at least ``minimum``.

    Raises
    ------
    TypeError
        ``"{name} must be an integer >= {minimum}, got {value!r} ({type})"``.
    ValueError
        ``"{name} must be >= {minimum}, got {value}"``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_sampler_arguments(fn: Callable, fn_name: str, initial, draws, tune, chains) -> tuple[int, int, int, np.ndarray]:
    """The arguments every from-scratch sampler's driver shares: ``draws`` and ``chains`` positive ints, ``tune`` a
    non-negative int, ``fn`` (named ``fn_name`` in messages) callable, and ``initial`` of shape ``(ndim,)`` (shared
    by every chain) or ``(chains, ndim)``. Returns ``(draws, tune, chains, start)`` with ``start`` ``(chains, ndim)``."""
    draws = check_positive_int("draws", draws)
    tune = check_positive_int("tune", tune, minimum=0)
    chains = check_positive_int("chains", chains)
    if not callable(fn):
        raise TypeError(f"{fn_name} must be callable, got {type(fn).__name__}")
    start = np.asarray(initial, dtype=float)
    if start.ndim == 1:
        start = np.tile(start, (chains, 1))
    if start.ndim != 2 or start.shape[0] != chains:
        raise ValueError(f"initial must have shape (ndim,) or (chains={chains}, ndim), got {np.shape(initial)}")
    return draws, tune, chains, start


def evaluate_batch(fn: Callable, x: np.ndarray, what: str = "log_density", check_values: bool = True) -> np.ndarray:
    """Call a vectorised density on ``x`` of shape ``(n, ndim)`` and check its answer.

    The answer must be a float array of shape ``(n,)`` with no NaN and no ``+inf``;
    ``-inf`` (zero density) is allowed. ``check_values=False`` checks the shape only, for a caller
    that checks the values of many calls at once (the Metropolis driver, once per block of steps).
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
    if not check_values:
        return out
    total = float(np.add.reduce(out))  # one pass: NaN or +inf anywhere makes the sum NaN or +inf
    if total != total or total == np.inf:
        i = int(np.flatnonzero(np.isnan(out) | (out == np.inf))[0])
        raise ValueError(
            f"{what} returned {out[i]} at batch index {i} (point {x[i].tolist()}); "
            "return -inf for points outside the support, never NaN or +inf"
        )
    return out


def check_start_points(initial, log_density: Callable, n: int, ndim: int, unit: str = "chain",
                       spanning: bool = False) -> np.ndarray:
    """Check starting points ``initial`` of shape ``(n, ndim)`` and return them as a float array.

    Parameters
    ----------
    initial
        One row per chain (or walker).
    log_density
        Vectorised log-density ``(n, ndim) -> (n,)``; every start must have a finite value.
    n, ndim
        Expected shape.
    unit
        What a row is called in messages: ``"chain"`` or ``"walker"``.
    spanning
        Also require the starts to span all ``ndim`` dimensions (the matrix rank of the centred starts,
        after scaling each coordinate by its spread, is ``ndim``): an ensemble sampler whose moves are
        combinations of other walkers (emcee's stretch move) never leaves the affine span of its start.

    Raises
    ------
    ValueError
        Wrong shape; a non-finite coordinate; a start with log-density ``-inf`` (outside the support) or
        NaN; with ``spanning``, starts confined to a lower-dimensional subspace.
    """
    try:
        x = np.array(initial, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"initial must be an array of numbers of shape ({unit}s, ndim) = ({n}, {ndim}): {exc}") from exc
    if x.shape != (n, ndim):
        raise ValueError(f"initial must have shape ({unit}s, ndim) = ({n}, {ndim}), got {x.shape}")
    bad = np.flatnonzero(~np.isfinite(x).all(axis=1))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"initial must be finite, but {unit} {i} starts at {x[i].tolist()}")
    lp = np.asarray(log_density(x), dtype=float).reshape(-1)
    bad = np.flatnonzero(~np.isfinite(lp))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"initial: {unit} {i} starts at {x[i].tolist()}, where the log posterior is {lp[i]}; start every "
            f"{unit} where the posterior density is positive (every parameter inside its support)"
        )
    if spanning:
        centred = x - x.mean(axis=0)
        spread = np.abs(centred).max(axis=0)
        rank = int(np.linalg.matrix_rank(centred[:, spread > 0] / spread[spread > 0])) if (spread > 0).any() else 0
        if rank < ndim:
            raise ValueError(
                f"initial: the {n} {unit}s' starting points span only {rank} of {ndim} dimensions (the matrix rank of "
                f"the centred starts); the {unit}s move only within that span, so identical or collinear starts cannot "
                "be stretched to cover the posterior. Start them at distinct points scattered in every direction, "
                "e.g. a small Gaussian ball around a good point"
            )
    return x
