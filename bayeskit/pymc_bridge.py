"""Compile a PyMC model into vectorised numpy functions for :class:`bayeskit.Problem`.

Two views of the same model, both vectorised over a leading batch axis:

* **Constrained**: the free variables' own values (``sigma > 0``, a Dirichlet's point on the simplex).
  One log-density term per free variable (no Jacobian), one per observed variable and potential
  (``pm.Potential`` terms count as likelihood). A constraint that lives only in a value transform
  (``transform=ordered``, a simplex, a zero sum, a Cholesky factor) is kept: a point that the
  transform cannot represent (unsorted where ordered, off the simplex) is outside the support,
  found by mapping it to the unconstrained space and back.
* **Unconstrained**: PyMC's value variables (``sigma_log__``), the space its NUTS and ADVI work on:
  ``model.logp(jacobian=True)`` and its gradient, and the maps between the two views, all from
  PyMC's own value transforms.

Details that keep a batch honest:

* PyMC's parameter checks (``CheckParameterValue``) reduce over a whole array: in a batch one point
  with an invalid parent value would make every point ``-inf``. They are removed at compile time
  (PyMC's own ``local_remove_check_parameter`` rewrite, what ``pm.Model(check_bounds=False)`` does);
  point-wise support checks stay. A parameter outside its support has a ``-inf`` prior term, which
  masks any NaN its children produce.
* The graphs are built from the user's model without cloning it or changing it (no
  ``remove_value_transforms``, which also refuses ``initval``); its ``pm.Data`` containers stay live,
  so ``pm.set_data`` on the model changes what the compiled functions see (same shapes).
* The gradient of a batch comes from one reverse pass over the sum of the batch's log-densities: each
  point's log-density depends only on its own row, so the row's gradient is that point's gradient.
* Graphs that PyTensor cannot vectorise (some ``scan`` models) fall back to a loop over points.
* The prior transform applies each free variable's inverse CDF (``pm.icdf``) in dependency order,
  with closed forms PyMC lacks (truncated normal; Dirichlet from normalised Gamma quantiles;
  multivariate normal through a Cholesky factor). Variables it cannot honour are refused by name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from bayeskit.layout import Layout

__all__ = ["CompiledModel", "compile_model", "compile_pointwise"]

_MODE_REWRITE = "local_remove_check_parameter"
# A constrained point counts as representable by its value transform when mapping it to the
# unconstrained space and back reproduces it to this relative (and absolute) precision: a few
# thousand ulps of slack for log/exp and softmax round trips, far below any real violation.
_ROUND_TRIP_RTOL = 1e-8
_ROUND_TRIP_ATOL = 1e-12


@dataclass
class CompiledModel:
    """Vectorised functions of one PyMC model (see the module docstring); built by :func:`compile_model`.

    Parameters
    ----------
    layout : bayeskit.layout.Layout
        Constrained free variables, in ``model.free_RVs`` order.
    z_layout : bayeskit.layout.Layout
        Unconstrained value variables, same order.
    term_names : tuple of str
        Constrained terms: priors, constraint checks, likelihood.
    n_prior_terms : int
        How many of ``term_names`` are prior terms.
    z_term_names : tuple of str
        Unconstrained terms: priors (with Jacobian), finiteness, likelihood.
    n_z_prior_terms : int
        How many of ``z_term_names`` are prior terms.
    _terms_fn, _z_terms_grad_fn, _z_terms_fn, _to_constrained_fn, _to_unconstrained_fn : callable
        The compiled PyTensor functions.
    _transform_fn : callable or None
        The compiled prior transform, None where the model has none.
    _transform_error : str or None
        Why there is no prior transform.
    _initial_z_fn : callable
        PyMC's initial point on the unconstrained space, computed when first asked.
    transforms : dict of str to str
        Variable -> name of its value transform (``"none"`` if identity).
    """

    layout: Layout                     # constrained free variables, in model.free_RVs order
    z_layout: Layout                   # unconstrained value variables, same order
    term_names: tuple[str, ...]        # constrained terms: priors, constraint checks, likelihood
    n_prior_terms: int
    z_term_names: tuple[str, ...]      # unconstrained terms: priors (with Jacobian), finiteness, likelihood
    n_z_prior_terms: int
    _terms_fn: Callable
    _z_terms_grad_fn: Callable
    _z_terms_fn: Callable
    _to_constrained_fn: Callable
    _to_unconstrained_fn: Callable
    _transform_fn: Callable | None
    _transform_error: str | None
    _initial_z_fn: Callable            # PyMC's initial point on the unconstrained space, computed when first asked
    transforms: dict[str, str]         # variable -> name of its value transform ("none" if identity)

    @property
    def initial_z(self) -> np.ndarray:
        return self._initial_z_fn()

    def terms(self, x: np.ndarray) -> tuple[np.ndarray, int]:
        """Constrained log-density terms ``(n, k)`` (prior terms first) and the number of prior terms.

        Parameters
        ----------
        x : numpy.ndarray, shape (n, ndim)
            Constrained values, flat in ``layout`` order.

        Returns
        -------
        terms : numpy.ndarray, shape (n, k)
        n_prior_terms : int
        """
        return np.ascontiguousarray(_rows(self._terms_fn(x)[0], len(x))), self.n_prior_terms

    def z_terms(self, z: np.ndarray) -> tuple[np.ndarray, int]:
        """Unconstrained log-density terms ``(n, k)`` (prior terms, with Jacobians, first) and their number.

        Parameters
        ----------
        z : numpy.ndarray, shape (n, unconstrained ndim)
            Unconstrained values, flat in ``z_layout`` order.

        Returns
        -------
        terms : numpy.ndarray, shape (n, k)
        n_prior_terms : int
        """
        return np.ascontiguousarray(_rows(self._z_terms_fn(z)[0], len(z))), self.n_z_prior_terms

    def z_terms_and_grad(self, z: np.ndarray) -> tuple[np.ndarray, int, np.ndarray]:
        """:meth:`z_terms` and the gradient of their sum, ``(n, unconstrained ndim)``.

        Parameters
        ----------
        z : numpy.ndarray, shape (n, unconstrained ndim)
            Unconstrained values, flat in ``z_layout`` order.

        Returns
        -------
        terms : numpy.ndarray, shape (n, k)
        n_prior_terms : int
        grad : numpy.ndarray, shape (n, unconstrained ndim)
        """
        terms, grad = self._z_terms_grad_fn(z)
        return np.ascontiguousarray(_rows(terms, len(z))), self.n_z_prior_terms, _rows(grad, len(z))

    def to_constrained(self, z: np.ndarray) -> np.ndarray:
        """Map unconstrained values to constrained ones (the value transforms' backward maps).

        Parameters
        ----------
        z : numpy.ndarray, shape (n, unconstrained ndim)
            Unconstrained values, flat in ``z_layout`` order.

        Returns
        -------
        numpy.ndarray, shape (n, ndim)
        """
        return _concat(self._to_constrained_fn(z), len(z))

    def to_unconstrained(self, x: np.ndarray) -> np.ndarray:
        """Map constrained values to unconstrained ones (the value transforms' forward maps).

        Parameters
        ----------
        x : numpy.ndarray, shape (n, ndim)
            Constrained values, flat in ``layout`` order.

        Returns
        -------
        numpy.ndarray, shape (n, unconstrained ndim)
        """
        return _concat(self._to_unconstrained_fn(x), len(x))

    def transform(self, u: np.ndarray) -> np.ndarray:
        """Prior transform: points of the unit cube to constrained values distributed as the prior.

        Parameters
        ----------
        u : numpy.ndarray, shape (n, ndim)
            Points of ``[0, 1]^ndim``.

        Returns
        -------
        numpy.ndarray, shape (n, ndim)

        Raises
        ------
        NotImplementedError
            The model has a prior with no inverse CDF here (the message says which).
        """
        if self._transform_fn is None:
            raise NotImplementedError(self._transform_error)
        return _concat(self._transform_fn(u), len(u))


def _concat(parts, n: int) -> np.ndarray:
    return np.concatenate([np.asarray(p, float).reshape(n, -1) for p in parts], axis=1)


# ---------------------------------------------------------------------------------------- helpers
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


def _flat_row(arrays) -> "object":
    """Concatenate single-point graphs into one flat float64 vector."""
    import pytensor.tensor as pt

    return pt.concatenate([pt.cast(a, "float64").reshape((-1,)) for a in arrays])


def _point_vars(variables_and_shapes):
    """Fresh single-point input variables (one per (template, shape))."""
    import pytensor.tensor as pt

    return [pt.tensor(name=f"{var.name}_in", shape=shape, dtype=var.dtype) for var, shape in variables_and_shapes]


class _Lazy:
    """Build on first call (compile a function, or compute a value when ``takes_input`` is False) and keep it:
    a Problem compiles only the functions its engines use."""

    def __init__(self, build, takes_input: bool = True):
        self.build, self.fn, self.value, self.takes_input = build, None, None, takes_input

    def __call__(self, x=None):
        if not self.takes_input:
            if self.value is None:
                self.value = self.build()[0]
            return self.value
        if self.fn is None:
            self.fn = self.build()[0]
        return self.fn(x)



def _static_shapes(variables) -> list[tuple[int, ...]] | None:
    """Shapes of ``variables`` from their static types, or None if any is not fully known."""
    static = [v.type.shape for v in variables]
    if all(s is not None and all(d is not None for d in s) for s in static):
        return [tuple(int(d) for d in s) for s in static]
    return None


class _LoopFunction:
    """A single-point compiled function applied row by row (for graphs PyTensor cannot vectorise)."""

    def __init__(self, fn, shapes, dtypes):
        self.fn, self.shapes, self.dtypes = fn, shapes, dtypes
        self.sizes = [math.prod(s) for s in shapes]

    def __call__(self, matrix):
        matrix = np.asarray(matrix, float)
        rows = []
        for row in matrix:
            args, start = [], 0
            for shape, size, dtype in zip(self.shapes, self.sizes, self.dtypes):
                args.append(row[start : start + size].reshape(shape).astype(dtype))
                start += size
            rows.append([np.asarray(o) for o in self.fn(*args)])
        return [np.stack([r[k] for r in rows]) for k in range(len(rows[0]))] if rows else []


def _compile_batched(inputs, shapes, outputs, mode, grad_of_sum=False):
    """Compile single-point graphs ``outputs`` (functions of ``inputs`` with ``shapes``) into a function
    of a batch matrix ``(n, sum of sizes)`` returning a list of arrays with a leading batch axis.

    With ``grad_of_sum``, ``outputs`` is one vector of log-density terms and the function also returns
    the gradient of their sum with respect to the inputs, ``(n, sum of sizes)``.
    Returns ``(function, vectorised)``; ``vectorised`` is False when it had to loop over points.
    """
    import pytensor
    import pytensor.tensor as pt
    from pytensor.graph.replace import vectorize_graph

    M = pt.matrix("batch", dtype="float64")
    try:
        if _contains_scan(outputs):
            # Vectorising a scan wraps the model's own Scan op, whose inner graph PyTensor then rewrites in
            # place: the user's model would lose its gradient (pm.sample would pick Slice). Loop instead.
            raise NotImplementedError("scan")
        batched = vectorize_graph(list(outputs), _batched_inputs(M, list(zip(inputs, shapes))))
        # an output that does not depend on the inputs (a Deterministic of data) comes back unbatched
        outs = [pt.broadcast_to(b, (M.shape[0], *b.shape)) if b is o else b for b, o in zip(batched, outputs)]
        if grad_of_sum:
            total = outs[0].reshape((M.shape[0], -1)).sum()
            outs = [outs[0], pt.grad(total, M)]
        fn = pytensor.function([M], outs, mode=mode, on_unused_input="ignore")
        # The wrapper below hands PyTensor exactly what its type asks for (a float64 matrix), so PyTensor's own
        # per-call input check (half of a call's overhead on a small model) is skipped.
        fn.trust_input = True
        return (lambda x: fn(_float_matrix(x))), True
    except Exception:  # noqa: BLE001 - PyTensor raises many types when it cannot vectorise a graph
        single = list(outputs)
        if grad_of_sum:
            grads = pt.grad(single[0].sum(), list(inputs), disconnected_inputs="ignore")
            single = [single[0], _flat_row(grads)]
        fn = pytensor.function(list(inputs), single, mode=mode, on_unused_input="ignore")
        return _LoopFunction(fn, shapes, [i.dtype for i in inputs]), False


def _rows(values: np.ndarray, n: int) -> np.ndarray:
    """``values`` (a batch of ``n`` points' outputs) as ``(n, size of one point's output)``, also for ``n = 0``,
    where ``reshape(0, -1)`` is ambiguous."""
    return values.reshape(n, -1) if n else values.reshape(0, math.prod(values.shape[1:]))


def _float_matrix(x) -> np.ndarray:
    """``x`` as a float64 matrix, the one input type of a batched function compiled with ``trust_input``."""
    matrix = np.asarray(x, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(f"expected a matrix of points (n, ndim), got an array of shape {matrix.shape}")
    return matrix


def _contains_scan(outputs) -> bool:
    from pytensor.graph import ancestors
    from pytensor.scan.op import Scan

    return any(v.owner is not None and isinstance(v.owner.op, Scan) for v in ancestors(list(outputs)))


def _is_default_transform(rv, transform) -> bool:
    """Whether ``transform`` is the one PyMC gives ``rv``'s distribution by default (it then only
    encodes the support), as opposed to a user-chosen constraint such as ``ordered``."""
    from pymc.distributions.transforms import _default_transform

    default = _default_transform(rv.owner.op, rv)
    if transform is None:
        return True  # no transform: the constrained support checks are all there is
    return default is not None and type(default) is type(transform)


def _needs_round_trip_check(rv, transform) -> bool:
    """A univariate variable with its default transform has its support checked point-wise by its own
    log-density; anything else (a user-chosen transform, a simplex, a zero sum, a Cholesky factor) may
    carry a constraint that only its transform knows."""
    if transform is None:
        return False
    return not (_is_default_transform(rv, transform) and rv.owner.op.ndim_supp == 0)


# ---------------------------------------------------------------------------------------- inverse CDFs
def _icdf(rv, u):
    """Inverse CDF of ``rv`` at ``u`` (same shape as ``rv``): ``pm.icdf`` plus closed forms PyMC lacks."""
    import pymc as pm
    import pytensor.tensor as pt

    op_name = type(rv.owner.op).__name__
    params = rv.owner.op.dist_params(rv.owner)
    if op_name == "TruncatedNormalRV":
        # x = mu + sigma * Phi^-1(Phi(a) + u (Phi(b) - Phi(a))), a and b the standardised bounds
        mu, sigma, lower, upper = params

        def phi(z):
            return 0.5 * (1 + pt.erf(z / np.sqrt(2.0)))

        p = phi((lower - mu) / sigma) + u * (phi((upper - mu) / sigma) - phi((lower - mu) / sigma))
        x = mu + sigma * np.sqrt(2.0) * pt.erfinv(2 * p - 1)
        return pt.clip(x, lower, upper)
    if op_name == "DirichletRV":
        # independent Gamma(a_i, 1) quantiles, normalised, are Dirichlet(a) distributed
        (alpha,) = params
        alpha = pt.broadcast_to(alpha, rv.shape)
        g = pt.gammaincinv(alpha, u)
        return g / g.sum(axis=-1, keepdims=True)
    if op_name == "MvNormalRV":
        mu, cov = params[0], params[1]
        chol = pt.linalg.cholesky(cov)
        z = np.sqrt(2.0) * pt.erfinv(2 * u - 1)
        return mu + pt.matmul(chol, z[..., None])[..., 0]
    if rv.owner.op.ndim_supp != 0:
        raise NotImplementedError(f"{op_name} is multivariate and has no prior transform in bayeskit")
    return pm.icdf(rv, u)


# ---------------------------------------------------------------------------------------- compile
def observed_rvs(model) -> list:
    """``model.observed_RVs`` without repeats.

    ``pm.sample_posterior_predictive`` on a model with a Potential and ``pm.Data`` appends the observed
    variables to that list a second time (PyMC 5.28).

    Parameters
    ----------
    model : pymc.Model

    Returns
    -------
    list
        The observed random variables, each once, in order.
    """
    return list(dict.fromkeys(model.observed_RVs))


def _check_model(model) -> None:
    import pymc as pm

    if not isinstance(model, pm.Model):
        raise TypeError(f"from_pymc needs a pm.Model, got {type(model).__name__}")
    if not model.free_RVs:
        raise ValueError("the model has no free random variables")
    for obs in observed_rvs(model):
        data = model.rvs_to_values[obs]
        values = data.get_value() if hasattr(data, "get_value") else (data.data if hasattr(data, "data") else data.eval())
        values = np.asarray(values)
        if values.dtype.kind in "fc" and not np.all(np.isfinite(values)):
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(values))[0])
            raise ValueError(
                f"observed data of {obs.name!r} contains NaN or inf at index {bad}; PyMC would impute it as a "
                "free variable, which bayeskit does not support: drop or impute the missing values first"
            )


def compile_model(model) -> CompiledModel:
    """Compile ``model`` (a ``pm.Model``) into vectorised log-densities, gradients, maps and a prior transform.

    The model is not changed.

    Parameters
    ----------
    model : pymc.Model
        A model with free random variables and observed data without NaN.

    Returns
    -------
    CompiledModel

    Raises
    ------
    TypeError
        ``model`` is not a ``pm.Model``.
    ValueError
        The model has no free random variables, or observed data with NaN or inf (PyMC would impute them).
    """
    import pytensor
    import pytensor.tensor as pt
    from pymc.logprob.basic import transformed_conditional_logp
    from pymc.logprob.utils import replace_rvs_by_values
    from pytensor.compile.mode import get_mode

    _check_model(model)
    mode = get_mode(None).including(_MODE_REWRITE)
    free = list(model.free_RVs)
    names = [rv.name for rv in free]
    transforms = {rv: model.rvs_to_transforms[rv] for rv in free}
    value_vars = [model.rvs_to_values[rv] for rv in free]

    # Shapes of the value variables and of the constrained values: static where PyTensor knows them (nothing
    # to compile), else from PyMC's initial point mapped to the constrained space.
    constrained_of_values = replace_rvs_by_values(free, rvs_to_values=dict(zip(free, value_vars)),
                                                  rvs_to_transforms=transforms)
    z_shapes, shapes = _static_shapes(value_vars), _static_shapes(free)
    if z_shapes is None or shapes is None:  # e.g. a zero-sum value variable: PyMC's initial point tells
        start = model.initial_point()
        z_shapes = [tuple(np.shape(start[v.name])) for v in value_vars]
        point_fn = pytensor.function(value_vars, constrained_of_values, mode=mode, on_unused_input="ignore")
        shapes = [tuple(np.shape(x)) for x in point_fn(*[start[v.name] for v in value_vars])]
    discrete = [rv.dtype.startswith("int") for rv in free]
    layout = Layout(tuple(names), tuple(shapes), tuple(discrete))
    z_layout = Layout(tuple(v.name for v in value_vars), tuple(z_shapes), tuple(discrete))

    # Constrained view: fresh inputs for the free variables' own values, no transforms.
    x_vars = _point_vars(list(zip(free, shapes)))
    x_of = dict(zip(free, x_vars))
    to_values = {**x_of, **{obs: model.rvs_to_values[obs] for obs in observed_rvs(model)}}
    no_transforms = {rv: None for rv in to_values}
    rv_terms = transformed_conditional_logp(rvs=free + list(observed_rvs(model)), rvs_to_values=to_values,
                                            rvs_to_transforms=no_transforms, jacobian=False)
    potentials = replace_rvs_by_values(model.potentials, rvs_to_values=to_values)
    prior_terms = [t.sum() for t in rv_terms[: len(free)]]
    check_names = []
    # The constrained values of each variable's parents, for transforms whose parameters depend on them.
    parents_inputs = {rv: replace_rvs_by_values(list(rv.owner.inputs), rvs_to_values=x_of) for rv in free}
    forward = {}
    for rv, x in zip(free, x_vars):
        t = transforms[rv]
        forward[rv] = x if t is None else t.forward(x, *parents_inputs[rv])
        if _needs_round_trip_check(rv, t):
            back = t.backward(forward[rv], *parents_inputs[rv])
            ok = pt.all(pt.le(pt.abs(back - x), _ROUND_TRIP_ATOL + _ROUND_TRIP_RTOL * pt.abs(x)))
            prior_terms.append(pt.switch(ok, 0.0, -np.inf))
            check_names.append(f"{rv.name} ({type(t).__name__} constraint)")
    lik_terms = [t.sum() for t in rv_terms[len(free):]] + [p.sum() for p in potentials]
    term_names = (tuple(names) + tuple(check_names) + tuple(o.name for o in observed_rvs(model))
                  + tuple(p.name or "potential" for p in model.potentials))
    # Every function is compiled when first used: a Problem compiles only what its engines call.
    terms_stack = pt.stack([pt.cast(t, "float64") for t in prior_terms + lik_terms])
    terms_fn = _Lazy(lambda: _compile_batched(x_vars, shapes, [terms_stack], mode))

    # Unconstrained view: PyMC's value variables, PyMC's log-density with the Jacobian.
    z_terms = model.logp(jacobian=True, sum=False)
    z_prior = [t.sum() for t in z_terms[: len(free)]]
    floats = [c for c in constrained_of_values if c.dtype.startswith("float")]
    finite = pt.all(pt.stack([pt.all(~(pt.isinf(c) | pt.isnan(c)))
                              for c in floats])) if floats else pt.constant(True)
    z_prior.append(pt.switch(finite, 0.0, -np.inf))  # a value that overflows is outside the support
    z_lik = [t.sum() for t in z_terms[len(free):]]
    z_term_names = tuple(v.name for v in value_vars) + ("finite constrained values",) + tuple(term_names[len(names) + len(check_names):])
    z_stack = pt.stack([pt.cast(t, "float64") for t in z_prior + z_lik])
    z_terms_fn = _Lazy(lambda: _compile_batched(value_vars, z_shapes, [z_stack], mode))
    z_terms_grad_fn = _Lazy(lambda: _compile_batched(value_vars, z_shapes, [z_stack], mode, grad_of_sum=True))

    # Maps between the views.
    to_constrained_fn = _Lazy(lambda: _compile_batched(value_vars, z_shapes, constrained_of_values, mode))
    to_unconstrained_fn = _Lazy(lambda: _compile_batched(x_vars, shapes, [forward[rv] for rv in free], mode))

    transform_fn, transform_error = _compile_prior_transform(model, free, shapes, transforms, mode)

    def initial_z():
        start = model.initial_point()  # PyMC's own starting point (honours initval=)
        return z_layout.flatten({v.name: start[v.name] for v in value_vars})

    return CompiledModel(
        layout, z_layout, term_names, len(prior_terms), z_term_names, len(z_prior),
        terms_fn, z_terms_grad_fn, z_terms_fn, to_constrained_fn, to_unconstrained_fn,
        transform_fn, transform_error, _Lazy(lambda: (initial_z(),), takes_input=False),
        {rv.name: ("none" if transforms[rv] is None else type(transforms[rv]).__name__) for rv in free},
    )


def compile_pointwise(model, deterministics: list[str], log_likelihood: bool, shapes: list[tuple[int, ...]]):
    """Deterministics and pointwise log-likelihoods of a batch of constrained free values.

    Built on the user's model without changing it; vectorised where PyTensor can.

    Parameters
    ----------
    model : pymc.Model
        The model.
    deterministics : list of str
        Names of the Deterministics to compute.
    log_likelihood : bool
        Also return each observed variable's elementwise log-density (what ``pm.compute_log_likelihood``
        gives).
    shapes : list of tuple of int
        Shapes of the free variables, in ``model.free_RVs`` order.

    Returns
    -------
    callable
        ``f(x)`` for ``x`` of shape ``(n, ndim)`` (flat, in ``model.free_RVs`` order), returning the arrays
        with a leading batch axis.
    """
    from pymc.logprob.basic import transformed_conditional_logp
    from pymc.logprob.utils import replace_rvs_by_values
    from pytensor.compile.mode import get_mode

    free = list(model.free_RVs)
    x_vars = _point_vars(list(zip(free, shapes)))
    to_values = {**dict(zip(free, x_vars)), **{obs: model.rvs_to_values[obs] for obs in observed_rvs(model)}}
    outputs = replace_rvs_by_values([model[name] for name in deterministics], rvs_to_values=to_values)
    if log_likelihood and observed_rvs(model):
        terms = transformed_conditional_logp(rvs=free + list(observed_rvs(model)), rvs_to_values=to_values,
                                             rvs_to_transforms={rv: None for rv in to_values}, jacobian=False)
        outputs += terms[len(free):]
    fn, _ = _compile_batched(x_vars, shapes, outputs, get_mode(None).including(_MODE_REWRITE))
    return fn


def _compile_prior_transform(model, free, shapes, transforms, mode):
    """Prior transform from inverse CDFs, parents first (``model.free_RVs`` is in creation order)."""
    import pytensor.tensor as pt
    from pymc.logprob.utils import replace_rvs_by_values

    units, transformed = [], {}
    try:
        for rv, shape in zip(free, shapes):
            if not _is_default_transform(rv, transforms[rv]):
                raise NotImplementedError(
                    f"variable {rv.name!r} has the value transform {type(transforms[rv]).__name__}, a constraint that an "
                    "inverse CDF cannot honour, so nested sampling (which needs a prior transform) would sample the wrong "
                    "prior. Use an engine that works on the unconstrained space ('pymc', 'metropolis', 'emcee', 'advi'), "
                    "or write the constraint into the prior itself"
                )
            u = pt.tensor(f"u_{rv.name}", shape=shape, dtype="float64")
            try:
                x = _icdf(rv, u)
            except NotImplementedError as exc:
                raise NotImplementedError(
                    f"variable {rv.name!r} ({type(rv.owner.op).__name__}) has no inverse CDF in PyMC or bayeskit, so the "
                    "prior transform for nested sampling cannot be built. Use another engine ('pymc', 'metropolis', "
                    "'emcee', 'advi'), reparameterise it with a distribution that has one, or build the Problem from scipy "
                    f"priors and a log-likelihood (Problem(priors=..., log_likelihood=...)). Reason: {exc}"
                ) from None
            x = replace_rvs_by_values([x], rvs_to_values=transformed)[0]
            if x.dtype != rv.dtype:
                x = pt.cast(pt.round(x) if rv.dtype.startswith("int") else x, rv.dtype)
            transformed[rv] = x
            units.append(u)
        outputs = [transformed[rv] for rv in free]
        return _Lazy(lambda: _compile_batched(units, shapes, outputs, mode)), None
    except NotImplementedError as exc:
        return None, str(exc)
