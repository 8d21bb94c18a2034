"""Where a random-walk engine (metropolis, emcee) moves: the unconstrained space or the parameters themselves.

The default is the unconstrained space (PyMC's value variables), as PyMC, Stan and nutpie do: no proposal
is wasted outside the support, and constraints that live in a value transform (``ordered``, a simplex)
hold by construction. The constrained space is an option: a random walk can mix far better there when
the posterior is a straight ridge that a log or logit transform would bend (notebook 03's gift weights
near zero). It is refused when a constraint lives only in a transform, because a walk on the
constrained space would then propose points that are almost never valid (off the simplex) or would need
the transform's Jacobian anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from bayeskit.layout import Layout


@dataclass(frozen=True)
class WalkSpace:
    """The density a walk targets, its coordinates, and the maps from and to the parameters."""

    log_density: Callable[[np.ndarray], np.ndarray]
    layout: Layout
    from_parameters: Callable[[np.ndarray], np.ndarray]
    to_parameters: Callable[[np.ndarray], np.ndarray]


def walk_space(problem, space: str, engine: str) -> WalkSpace:
    """The :class:`WalkSpace` of ``problem`` for ``space`` (``"unconstrained"`` or ``"constrained"``)."""
    if space == "unconstrained":
        return WalkSpace(problem.log_density, problem.unconstrained_layout, problem.to_unconstrained,
                         problem.to_constrained)
    bound = problem.transform_constraints
    if bound:
        raise ValueError(
            f"engine {engine!r} cannot walk on the constrained space of this model: {bound} carry constraints that only "
            "their value transforms know (e.g. ordered, a simplex); use space='unconstrained'"
        )
    return WalkSpace(problem.log_posterior, problem.layout, lambda x: x, lambda x: x)
