"""Compile a PyMC model into vectorised numpy functions for :class:`bayeskit.Problem`.

* The log-density terms are built on the model's *constrained* values (value transforms removed,
  no Jacobian), one term per variable (``pm.Potential`` terms count as likelihood), then vectorised over a leading batch axis with
  ``pytensor.graph.replace.vectorize_graph``.
* PyMC's parameter checks (``CheckParameterValue``) are reductions over the whole parameter array:
  in a batch, one point with an invalid parent value would turn every point's density into
  ``-inf``. They are removed at compile time (PyMC's own ``local_remove_check_parameter`` rewrite,
  what ``pm.Model(check_bounds=False)`` does); point-wise support checks stay. Validity is then
  decided point by point: a parameter outside its support has a ``-inf`` prior term, which masks
  any NaN its children produce.
* The prior transform applies each free variable's inverse CDF (``pm.icdf``) in dependency order,
  with parents replaced by their transformed values, vectorised the same way.
* ``pm.Data`` containers stay live: after ``pm.set_data`` on the model the compiled functions use
  the new values (same shapes), so a simulation study compiles once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from bayeskit.layout import Layout

__all__ = ["CompiledModel", "compile_model"]

_MODE_REWRITE = "local_remove_check_parameter"


@dataclass
class CompiledModel:
    layout: Layout
    term_names: tuple[str, ...]
    n_free: int
    _terms_fn: Callable
    _transform_fn: Callable | None
    _transform_error: str | None
    _initial: np.ndarray

    def terms(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = np.asarray(self._terms_fn(x), dtype=float).reshape(len(x), -1)
        return out[:, : self.n_free], out[:, self.n_free :]

    def transform(self, u: np.ndarray) -> np.ndarray:
        if self._transform_fn is None:
            raise NotImplementedError(self._transform_error)
        parts = self._transform_fn(u)
        return np.concatenate([np.asarray(p, float).reshape(len(u), -1) for p in parts], axis=1)

    def initial_points(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """PyMC's initial point, jittered (continuous coordinates only) for each of ``n`` chains."""
        x = np.tile(self._initial, (n, 1))
        cont = ~self.layout.discrete_mask
        x[:, cont] += rng.uniform(-0.1, 0.1, size=(n, int(cont.sum()))) * np.maximum(1.0, np.abs(x[:, cont]))
        return x


def _icdf(rv, u):
    """``pm.icdf``, plus closed forms PyMC lacks (truncated normal)."""
    import pymc as pm
    import pytensor.tensor as pt

    if type(rv.owner.op).__name__ == "TruncatedNormalRV":
        # x = mu + sigma * Phi^-1(Phi(a) + u (Phi(b) - Phi(a))), a and b the standardised bounds
        mu, sigma, lower, upper = rv.owner.op.dist_params(rv.owner)

        def phi(z):
            return 0.5 * (1 + pt.erf(z / np.sqrt(2.0)))

        p = phi((lower - mu) / sigma) + u * (phi((upper - mu) / sigma) - phi((lower - mu) / sigma))
        x = mu + sigma * np.sqrt(2.0) * pt.erfinv(2 * p - 1)
        return pt.clip(x, lower, upper)
    return pm.icdf(rv, u)


def _batched_inputs(matrix, variables):
    """Map each variable to its slice of the batch matrix, reshaped to ``(n, *shape)``."""
    import pytensor.tensor as pt

    out, start = {}, 0
    for var, shape in variables:
        size = math.prod(shape)
        piece = matrix[:, start] if shape == () else matrix[:, start : start + size].reshape((matrix.shape[0], *shape))
        out[var] = pt.cast(piece, var.dtype) if var.dtype != "float64" else piece
        start += size
    return out


def _reduce_to_batch(term):
    """Sum a vectorised term ``(n, ...)`` over everything but the batch axis."""
    return term.sum(axis=tuple(range(1, term.ndim))) if term.ndim > 1 else term


def compile_model(model) -> CompiledModel:
    """Compile ``model`` (a ``pm.Model``) into vectorised log-density terms and a prior transform."""
    import pymc as pm
    import pytensor
    import pytensor.tensor as pt
    from pymc.model.transform.conditioning import remove_value_transforms
    from pytensor.compile.mode import get_mode
    from pytensor.graph.replace import graph_replace, vectorize_graph

    if not isinstance(model, pm.Model):
        raise TypeError(f"from_pymc needs a pm.Model, got {type(model).__name__}")
    if not model.free_RVs:
        raise ValueError("the model has no free random variables")
    for rv in model.free_RVs:
        if rv.owner.op.ndim_supp != 0:
            raise ValueError(
                f"variable {rv.name!r} has a multivariate distribution ({type(rv.owner.op).__name__}); "
                "Problem.from_pymc supports univariate distributions (scalar or vector-valued)"
            )
    for obs in model.observed_RVs:
        data = model.rvs_to_values[obs]
        values = data.data if hasattr(data, "data") else data.eval()
        values = np.asarray(values)
        if values.dtype.kind in "fc" and not np.all(np.isfinite(values)):
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(values))[0])
            raise ValueError(f"observed data of {obs.name!r} contains NaN or inf at index {bad}")
    mode = get_mode(None).including(_MODE_REWRITE)

    names = [rv.name for rv in model.free_RVs]
    unconstrained = remove_value_transforms(model)
    by_name = {rv.name: rv for rv in unconstrained.free_RVs}
    init_point = unconstrained.initial_point()
    shapes = [tuple(np.shape(init_point[unconstrained.rvs_to_values[by_name[n]].name])) for n in names]
    discrete = [by_name[n].dtype.startswith("int") for n in names]
    layout = Layout(tuple(names), tuple(shapes), tuple(discrete))

    # Log-density terms, one per free variable then one per observed variable.
    values = [unconstrained.rvs_to_values[by_name[n]] for n in names]
    rvs = [by_name[n] for n in names] + list(unconstrained.observed_RVs)
    terms = unconstrained.logp(vars=rvs, sum=False, jacobian=False)
    # Potentials (e.g. a discrete parameter summed out) count as likelihood terms.
    terms = list(terms) + list(unconstrained.replace_rvs_by_values(unconstrained.potentials))
    # The transform-free copy clones pm.Data containers; point the graph back at the model's own, so
    # that ``pm.set_data`` on the model changes what the compiled Problem sees, without recompiling.
    own_data = {v.name: v for v in model.data_vars}
    terms = graph_replace(terms, {v: own_data[v.name] for v in unconstrained.data_vars}, strict=False)
    X = pt.matrix("x", dtype="float64")
    batched = vectorize_graph(terms, _batched_inputs(X, list(zip(values, shapes))))
    terms_fn = pytensor.function([X], pt.stack([_reduce_to_batch(t) for t in batched], axis=1), mode=mode)
    term_names = (tuple(names) + tuple(obs.name for obs in unconstrained.observed_RVs)
                  + tuple(pot.name or "potential" for pot in unconstrained.potentials))

    # Prior transform from inverse CDFs, parents first (model.free_RVs is in creation order).
    original = {rv.name: rv for rv in model.free_RVs}
    units, transformed = [], {}
    transform_fn, transform_error = None, None
    try:
        for n, shape in zip(names, shapes):
            rv = original[n]
            u = pt.tensor(f"u_{n}", shape=shape, dtype="float64")
            try:
                x = _icdf(rv, u)
            except NotImplementedError as exc:
                raise NotImplementedError(
                    f"variable {n!r} ({type(rv.owner.op).__name__}) has no inverse CDF in PyMC, so the prior "
                    "transform for nested sampling cannot be built automatically. Reparameterise it with a "
                    "distribution that has one, or build the Problem from scipy priors and a log-likelihood "
                    f"(Problem(priors=..., log_likelihood=...)). PyMC said: {exc}"
                ) from None
            x = graph_replace(x, {original[p]: transformed[p] for p in transformed}, strict=False)
            if x.dtype != rv.dtype:
                x = pt.cast(pt.round(x) if rv.dtype.startswith("int") else x, rv.dtype)
            transformed[n] = x
            units.append(u)
        U = pt.matrix("u", dtype="float64")
        outs = vectorize_graph([transformed[n] for n in names], _batched_inputs(U, list(zip(units, shapes))))
        transform_fn = pytensor.function([U], outs, mode=mode)
    except NotImplementedError as exc:
        transform_error = str(exc)

    initial = layout.flatten({n: init_point[unconstrained.rvs_to_values[by_name[n]].name] for n in names})
    return CompiledModel(layout, term_names, len(names), terms_fn, transform_fn, transform_error, initial)
