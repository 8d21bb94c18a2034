"""Parameter layout: named parameters of given shapes packed into one flat vector.

Every engine works on flat ``(n, ndim)`` arrays; the layout converts them, once, into named
variables with the ArviZ layout ``(chain, draw, *shape)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

if TYPE_CHECKING:  # imported where used, so that importing bayeskit stays light
    import arviz as az

__all__ = ["Layout", "to_inference_data"]


@dataclass(frozen=True)
class Layout:
    """Names, shapes and discreteness of a model's parameters, in flat-vector order.

    Parameters
    ----------
    names : tuple of str
        Parameter names, unique, in the order their values appear in the flat vector.
    shapes : tuple of tuple of int
        Each parameter's shape (``()`` for a scalar).
    discrete : tuple of bool
        Whether each parameter is integer-valued.

    Raises
    ------
    ValueError
        The three tuples differ in length, or the names are not unique.

    Examples
    --------
    >>> from bayeskit.layout import Layout
    >>> layout = Layout(("mu", "w"), ((), (2,)), (False, False))
    >>> layout.ndim, layout.labels
    (3, ['mu', 'w[0]', 'w[1]'])
    """

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
        """One vector parameter ``name`` of length ``ndim`` (or scalars when discrete varies).

        Parameters
        ----------
        ndim : int
            Length of the vector.
        name : str, default "x"
            Its name; with mixed discreteness, the scalars are named ``x0``, ``x1``, ...
        discrete : sequence of bool, optional
            Which coordinates are integer-valued; default none.

        Returns
        -------
        Layout
            One vector parameter when all coordinates are alike, else ``ndim`` scalar parameters.
        """
        if discrete is None or not any(discrete):
            return cls((name,), ((ndim,),), (False,))
        if all(discrete):
            return cls((name,), ((ndim,),), (True,))
        return cls(tuple(f"{name}{i}" for i in range(ndim)), ((),) * ndim, tuple(bool(d) for d in discrete))

    @classmethod
    def scalars(cls, names: Sequence[str], discrete: Sequence[bool] | None = None) -> "Layout":
        """Scalar parameters, one per name.

        Parameters
        ----------
        names : sequence of str
            The parameter names, unique.
        discrete : sequence of bool, optional
            Which are integer-valued; default none.

        Returns
        -------
        Layout
            The layout of ``len(names)`` scalars.
        """
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
        """Split flat values into named arrays: ``(..., ndim)`` -> ``{name: (..., *shape)}``.

        Parameters
        ----------
        flat : array_like, shape (..., ndim)
            Values in flat-vector order, with any leading axes.

        Returns
        -------
        dict of str to numpy.ndarray
            One array per parameter, shape ``(..., *shape)``.

        Raises
        ------
        ValueError
            The last axis is not of length :attr:`ndim`.
        """
        flat = np.asarray(flat)
        if flat.shape[-1] != self.ndim:
            raise ValueError(f"expected a last axis of length {self.ndim} (the number of parameters), got shape {flat.shape}")
        lead = flat.shape[:-1]
        return {n: flat[..., sl].reshape(tuple(lead) + tuple(shape)) for (n, sl), shape in zip(self.slices.items(), self.shapes)}

    def flatten(self, values: Mapping[str, Any]) -> np.ndarray:
        """Pack named arrays into flat values: ``{name: (..., *shape)}`` -> ``(..., ndim)``; inverse of :meth:`split`.

        Parameters
        ----------
        values : mapping of str to array_like
            One array per parameter, trailing shape equal to its shape; extra keys are ignored.

        Returns
        -------
        numpy.ndarray, shape (..., ndim)
            Float values in flat-vector order.

        Raises
        ------
        ValueError
            A parameter is missing from ``values`` or has the wrong trailing shape.
        """
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

    Discrete parameters are stored as integers (rounded). Dimension names follow ArviZ/PyMC
    (``<name>_dim_<i>``), so every engine's result has the same variables and dims.

    Parameters
    ----------
    samples : array_like, shape (chain, draw, ndim)
        Draws in the layout's flat order.
    layout : Layout
        Names and shapes of the parameters.
    sample_stats : mapping of str to array_like, optional
        Per-draw sampler statistics, each ``(chain, draw, ...)`` (e.g. ``lp``, ``accepted``).
    attrs : mapping, optional
        Run facts stored in ``idata.attrs``.

    Returns
    -------
    arviz.InferenceData
        With groups ``posterior`` (and ``sample_stats`` when given).

    Raises
    ------
    ValueError
        ``samples`` is not 3-D with last axis ``layout.ndim``.
    """
    samples = np.asarray(samples)
    if samples.ndim != 3 or samples.shape[-1] != layout.ndim:
        raise ValueError(f"samples must have shape (chain, draw, {layout.ndim}), got {samples.shape}")
    posterior = {}
    for (name, values), discrete in zip(layout.split(samples).items(), layout.discrete):
        posterior[name] = np.rint(values).astype(np.int64) if discrete else values
    import arviz as az

    idata = az.from_dict(posterior=posterior, sample_stats=dict(sample_stats or {}))
    idata.attrs.update(dict(attrs or {}))
    return idata
