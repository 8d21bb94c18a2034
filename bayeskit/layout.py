"""Parameter layout: named parameters of given shapes packed into one flat vector.

Every engine works on flat ``(n, ndim)`` arrays; the layout converts them, once, into named
variables with the ArviZ layout ``(chain, draw, *shape)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Mapping, Sequence

import arviz as az
import numpy as np

__all__ = ["Layout", "to_inference_data"]


@dataclass(frozen=True)
class Layout:
    """Names, shapes and discreteness of a model's parameters, in flat-vector order."""

    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    discrete: tuple[bool, ...]

    def __post_init__(self) -> None:
        if not (len(self.names) == len(self.shapes) == len(self.discrete)):
            raise ValueError("names, shapes and discrete must have the same length")
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"parameter names must be unique, got {self.names}")

    @classmethod
    def vector(cls, ndim: int, name: str = "x", discrete: Sequence[bool] | None = None) -> "Layout":
        """One vector parameter ``name`` of length ``ndim`` (or scalars when discrete varies)."""
        if discrete is None or not any(discrete):
            return cls((name,), ((ndim,),), (False,))
        if all(discrete):
            return cls((name,), ((ndim,),), (True,))
        return cls(tuple(f"{name}{i}" for i in range(ndim)), ((),) * ndim, tuple(bool(d) for d in discrete))

    @classmethod
    def scalars(cls, names: Sequence[str], discrete: Sequence[bool] | None = None) -> "Layout":
        """Scalar parameters, one per name."""
        discrete = [False] * len(names) if discrete is None else list(discrete)
        return cls(tuple(names), ((),) * len(names), tuple(bool(d) for d in discrete))

    # cached: samplers ask for these on every density evaluation (frozen dataclasses allow it)
    @cached_property
    def sizes(self) -> tuple[int, ...]:
        return tuple(math.prod(s) for s in self.shapes)

    @property
    def ndim(self) -> int:
        return sum(self.sizes)

    @property
    def slices(self) -> dict[str, slice]:
        out, start = {}, 0
        for name, size in zip(self.names, self.sizes):
            out[name] = slice(start, start + size)
            start += size
        return out

    @cached_property
    def discrete_mask(self) -> np.ndarray:
        """Boolean mask over the flat vector: True where the coordinate is integer-valued."""
        return np.concatenate([np.full(size, d) for size, d in zip(self.sizes, self.discrete)]) if self.names else np.zeros(0, bool)

    @property
    def labels(self) -> list[str]:
        """One label per flat coordinate: ``"mu"`` for a scalar, ``"w[3]"`` or ``"a[1,2]"`` otherwise."""
        out = []
        for name, shape in zip(self.names, self.shapes):
            if shape == ():
                out.append(name)
            else:
                out.extend(f"{name}[{','.join(map(str, idx))}]" for idx in np.ndindex(*shape))
        return out

    def split(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """``(..., ndim)`` -> ``{name: (..., *shape)}``."""
        flat = np.asarray(flat)
        if flat.shape[-1] != self.ndim:
            raise ValueError(f"expected a last axis of length {self.ndim} (the number of parameters), got shape {flat.shape}")
        lead = flat.shape[:-1]
        return {n: flat[..., sl].reshape(tuple(lead) + tuple(shape)) for (n, sl), shape in zip(self.slices.items(), self.shapes)}

    def flatten(self, values: Mapping[str, Any]) -> np.ndarray:
        """``{name: (..., *shape)}`` -> ``(..., ndim)``; the inverse of :meth:`split`."""
        missing = [n for n in self.names if n not in values]
        if missing:
            raise ValueError(f"missing values for parameters {missing}")
        parts = []
        for name, shape in zip(self.names, self.shapes):
            arr = np.asarray(values[name], dtype=float)
            lead = arr.shape[: arr.ndim - len(shape)]
            if arr.shape[arr.ndim - len(shape):] != shape:
                raise ValueError(f"parameter {name!r}: expected trailing shape {shape}, got {arr.shape}")
            parts.append(arr.reshape(*lead, -1))
        return np.concatenate(parts, axis=-1)


def to_inference_data(
    samples: np.ndarray,
    layout: Layout,
    sample_stats: Mapping[str, np.ndarray] | None = None,
    attrs: Mapping[str, Any] | None = None,
) -> az.InferenceData:
    """Build InferenceData from flat draws of shape ``(chain, draw, ndim)``.

    Discrete parameters are stored as integers. Dimension names follow ArviZ/PyMC
    (``<name>_dim_<i>``), so every engine's result has the same variables and dims.
    """
    samples = np.asarray(samples)
    if samples.ndim != 3 or samples.shape[-1] != layout.ndim:
        raise ValueError(f"samples must have shape (chain, draw, {layout.ndim}), got {samples.shape}")
    posterior = {}
    for (name, values), discrete in zip(layout.split(samples).items(), layout.discrete):
        posterior[name] = np.rint(values).astype(np.int64) if discrete else values
    idata = az.from_dict(posterior=posterior, sample_stats=dict(sample_stats or {}))
    idata.attrs.update(dict(attrs or {}))
    return idata
