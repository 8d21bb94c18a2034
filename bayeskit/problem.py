"""``Problem``: the one model interface every engine consumes.

A Problem knows its parameters (names, shapes, which are discrete) and gives, all vectorised over a
leading batch axis ``(n, ndim) -> (n,)``: ``log_prior``, ``log_likelihood``, ``log_posterior``, and
``prior_transform`` (unit cube -> parameters) for nested sampling, on the constrained values.

It also gives an **unconstrained view**, the space gradient-based and random-walk engines move in (as
PyMC, Stan and nutpie do): ``log_density(z)`` (the log posterior of ``to_constrained(z)`` plus the log
Jacobian of that map), ``log_density_and_grad(z)`` (from PyMC's gradient), and the maps
``to_constrained`` / ``to_unconstrained``. Discrete parameters appear in it unchanged.

Two ways to build one:

* ``Problem.from_pymc(model)``, the usual path: the model is written once, in PyMC;
* ``Problem(priors={name: scipy.stats frozen distribution}, log_likelihood=f)``, the from-scratch path.

Semantics shared by both: a point outside the support has log-density ``-inf``, and one bad point in
a batch never changes the values of the others; a NaN is never turned into a number (it raises).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np
from scipy import stats

from bayeskit._checks import as_rng
from bayeskit._prior_forms import prior_functions
from bayeskit._support_transforms import SupportTransform
from bayeskit.layout import Layout

__all__ = ["Problem"]

LogLikelihood = Callable[[dict[str, np.ndarray]], np.ndarray]


def _combine(terms: np.ndarray, n_prior: int, term_names: list[str], x: np.ndarray, want: str) -> np.ndarray:
    """Sum per-term log-densities ``terms`` ``(n, k)`` (the first ``n_prior`` columns are prior terms)
    point by point, over the prior terms, the likelihood terms or all of them (``want``).

    A point with any prior term at ``-inf`` is outside the support: its answer is ``-inf`` whatever
    the other terms say (a child density evaluated at an invalid parent value may be NaN).
    Any other NaN is an error.
    """
    parts = terms if want == "posterior" else terms[:, :n_prior] if want == "prior" else terms[:, n_prior:]
    with np.errstate(invalid="ignore"):
        total = np.sum(parts, axis=1)
    # Fast path: every summed term of every point finite and, for the likelihood, every point inside the
    # support (its prior terms, not summed here, finite too): nothing to mask or report.
    if np.isfinite(np.add.reduce(total)) and (
            want != "likelihood" or np.isfinite(np.add.reduce(terms[:, :n_prior], axis=None))):
        return total
    outside = np.any(terms[:, :n_prior] == -np.inf, axis=1)
    offset = n_prior if want == "likelihood" else 0
    nan = np.isnan(parts)
    if nan.any():
        nan_rows = np.flatnonzero(nan.any(axis=1) & ~outside)
        if nan_rows.size:
            i = nan_rows[0]
            k = int(np.flatnonzero(nan[i])[0])
            raise ValueError(
                f"the log-density term of {term_names[offset + k]!r} is NaN at batch index {i} "
                f"(point {x[i].tolist()}), although every parameter is inside its support"
            )
        with np.errstate(invalid="ignore"):
            total = np.sum(np.where(nan, 0.0, parts), axis=1)
    total[outside] = -np.inf
    return total


class Problem:
    """A Bayesian model in the form every engine consumes.

    Parameters
    ----------
    priors
        ``{name: frozen scipy.stats distribution}`` for scalar parameters, or
        ``{name: (frozen distribution, shape)}`` for i.i.d. vector parameters. Discrete
        distributions (``rv_discrete``) make integer-valued parameters.
    log_likelihood
        ``f(params) -> (n,)`` where ``params`` maps each name to an array of shape ``(n, *shape)``.
        Checked on entry at a few prior draws: it must return finite values of the right shape.
    name
        Optional label used in messages and tables.

    Attributes
    ----------
    layout : Layout
        Names, shapes and discreteness of the parameters, in flat-vector order.
    unconstrained_layout : Layout
        The same for the unconstrained view (PyMC's value variables such as ``sigma_log__``; a simplex
        of K values has K - 1 unconstrained coordinates).
    n_evaluations : int
        Points evaluated so far by ``log_posterior`` and ``log_likelihood`` (engines report differences).
    pymc_model
        The PyMC model behind a Problem built with :meth:`from_pymc`, else None.
    """

    def __init__(self, priors: Mapping[str, Any], log_likelihood: LogLikelihood, *, name: str | None = None):
        if not callable(log_likelihood):
            raise TypeError(f"log_likelihood must be callable, got {type(log_likelihood).__name__}")
        if not priors:
            raise ValueError("priors must name at least one parameter")
        dists, shapes, discrete = {}, [], []
        for pname, spec in priors.items():
            dist, shape = spec if isinstance(spec, tuple) else (spec, ())
            shape = (int(shape),) if np.isscalar(shape) else tuple(int(s) for s in shape)
            if not hasattr(dist, "dist") or not hasattr(dist, "ppf"):
                raise TypeError(
                    f"prior of {pname!r} must be a frozen scipy.stats distribution such as stats.norm(0, 1), "
                    f"got {type(dist).__name__}"
                )
            dists[pname] = dist
            shapes.append(shape)
            discrete.append(isinstance(dist.dist, stats.rv_discrete))
        self.layout = Layout(tuple(dists), tuple(shapes), tuple(discrete))
        self.name = name
        self.pymc_model = None
        self.n_evaluations = 0
        self._dists = dists
        self._prior_forms = {pname: prior_functions(dist) for pname, dist in dists.items()}
        self._support = {pname: SupportTransform.for_prior(dist) for pname, dist in dists.items()}
        suffix = {"identity": "", "lower": "_log__", "upper": "_upperlog__", "interval": "_interval__"}
        self.unconstrained_layout = Layout(
            tuple(n + suffix[self._support[n].kind] for n in self.layout.names), self.layout.shapes, self.layout.discrete)
        self._user_loglik = log_likelihood
        self._check_on_entry()

    # ------------------------------------------------------------------ construction from PyMC
    @classmethod
    def from_pymc(cls, model, *, name: str | None = None) -> "Problem":
        """Build a Problem from a PyMC model (see :mod:`bayeskit.pymc_bridge`).

        The model is compiled once (log-density terms, gradient, transforms, prior transform where the
        priors allow one); the user's model is not changed. Observed data held in ``pm.Data`` can be changed
        afterwards with ``pm.set_data`` (same shape) without rebuilding.

        Parameters
        ----------
        model : pymc.Model
            The model, with its observed variables.
        name : str, optional
            Label for messages and tables; default the model's name.

        Returns
        -------
        Problem
            With :attr:`pymc_model` set and a gradient (:meth:`log_density_and_grad`).

        Raises
        ------
        TypeError, ValueError, NotImplementedError
            From :func:`bayeskit.pymc_bridge.compile_model`, for a model it cannot represent (naming the
            variable and the alternative).

        Examples
        --------
        >>> import pymc as pm, bayeskit as bk
        >>> with pm.Model() as model:
        ...     mu = pm.Normal("mu", 0, 1)
        ...     _ = pm.Normal("y", mu, 1, observed=[0.5])
        >>> bk.Problem.from_pymc(model).names
        ('mu',)
        """
        from bayeskit.pymc_bridge import compile_model

        self = cls.__new__(cls)
        compiled = compile_model(model)
        self.layout = compiled.layout
        self.unconstrained_layout = compiled.z_layout
        self.name = name if name is not None else (model.name or None)
        self.pymc_model = model
        self.n_evaluations = 0
        self._compiled = compiled
        return self

    # ------------------------------------------------------------------ properties
    @property
    def ndim(self) -> int:
        return self.layout.ndim

    @property
    def names(self) -> tuple[str, ...]:
        return self.layout.names

    @property
    def unconstrained_ndim(self) -> int:
        return self.unconstrained_layout.ndim

    @property
    def transform_constraints(self) -> list[str]:
        """Variables whose constraint lives only in their value transform (``ordered``, a simplex, a zero
        sum, a Cholesky factor): on the constrained space their density is zero almost everywhere in the
        box of their coordinates."""
        if self.pymc_model is None:
            return []
        return [name.split(" (")[0] for name in self._compiled.term_names[len(self.layout.names):self._compiled.n_prior_terms]]

    @property
    def has_gradient(self) -> bool:
        """Whether :meth:`log_density_and_grad` is available (Problems built from PyMC)."""
        return self.pymc_model is not None

    @property
    def has_discrete(self) -> bool:
        return any(self.layout.discrete)

    def __repr__(self) -> str:
        params = ", ".join(
            f"{n}{list(s) if s else ''}{' (int)' if d else ''}"
            for n, s, d in zip(self.layout.names, self.layout.shapes, self.layout.discrete)
        )
        src = "pymc" if self.pymc_model is not None else "scipy priors"
        return f"Problem({self.name or 'unnamed'}: {params}; from {src})"

    # ------------------------------------------------------------------ evaluation
    def _check_points(self, x, what: str = "x", ndim: int | None = None) -> np.ndarray:
        ndim = self.ndim if ndim is None else ndim
        arr = np.asarray(x, dtype=float)
        if arr.ndim != 2 or arr.shape[1] != ndim:
            raise ValueError(
                f"{what} must have shape (n, {ndim}) (a batch of points; use {what}[None, :] for one point), "
                f"got {np.shape(x)}"
            )
        # one pass: a NaN or an infinity anywhere makes the sum non-finite (as can an overflowing sum of
        # huge finite values, which the exact check below then lets through)
        if not np.isfinite(np.add.reduce(arr, axis=None)) and not np.isfinite(arr).all():
            bad = np.argwhere(~np.isfinite(arr))
            raise ValueError(f"{what} contains a non-finite value at (row, column) {tuple(int(i) for i in bad[0])}")
        return arr

    def _terms(self, x: np.ndarray) -> tuple[np.ndarray, int, list[str]]:
        """Per-term log-densities ``(n, k)`` (prior terms first), the number of prior terms, the names."""
        if self.pymc_model is not None:
            terms, n_prior = self._compiled.terms(x)
            names = list(self._compiled.term_names)
        else:
            values = self.layout.split(x)
            n_prior = len(self.layout.names)
            terms = np.zeros((len(x), n_prior + 1))  # prior terms, then the log-likelihood
            for k, name in enumerate(self.layout.names):
                terms[:, k] = self._prior_logpdf(name, values[name]).reshape(len(x), -1).sum(axis=1) if len(x) else 0.0
            inside = ~np.any(terms[:, :n_prior] == -np.inf, axis=1)
            n_inside = int(inside.sum())
            if n_inside:
                sub = values if n_inside == len(x) else {k: v[inside] for k, v in values.items()}
                out = self._call_log_likelihood(sub, n_inside)
                if n_inside == len(x):
                    terms[:, n_prior] = out
                else:
                    terms[inside, n_prior] = out
            names = list(self.layout.names) + ["log_likelihood"]
        # a discrete parameter at a non-integer value is outside its support
        mask = self.layout.discrete_mask
        if mask.any():
            off = np.any(x[:, mask] != np.rint(x[:, mask]), axis=1)
            terms[off, 0] = -np.inf
        return terms, n_prior, names

    def _prior_logpdf(self, name: str, value: np.ndarray) -> np.ndarray:
        return self._prior_forms[name][1](value)

    def log_prior(self, x) -> np.ndarray:
        """Log prior density at each row of ``x``; ``-inf`` outside the support.

        Parameters
        ----------
        x : array_like, shape (n, ndim)
            A batch of parameter values in flat order (``problem.layout``); ``x[None, :]`` for one point.

        Returns
        -------
        numpy.ndarray, shape (n,)
            Normalised log prior density (sum over the parameters' prior terms).

        Raises
        ------
        ValueError
            ``x`` is not of shape ``(n, ndim)`` or has a non-finite value; a term of the density is NaN at a
            point inside the support; a user log-likelihood returns the wrong shape or +inf.
        """
        x = self._check_points(x)
        terms, n_prior, names = self._terms(x)
        return _combine(terms, n_prior, names, x, "prior")

    def log_likelihood(self, x) -> np.ndarray:
        """Log likelihood at each row of ``x``; ``-inf`` where a parameter is outside its support.

        Adds ``n`` to :attr:`n_evaluations`.

        Parameters
        ----------
        x : array_like, shape (n, ndim)
            A batch of parameter values in flat order (``problem.layout``); ``x[None, :]`` for one point.

        Returns
        -------
        numpy.ndarray, shape (n,)
            Log likelihood of the observed data.

        Raises
        ------
        ValueError
            ``x`` is not of shape ``(n, ndim)`` or has a non-finite value; a term of the density is NaN at a
            point inside the support; a user log-likelihood returns the wrong shape or +inf.
        """
        x = self._check_points(x)
        self.n_evaluations += len(x)
        terms, n_prior, names = self._terms(x)
        return _combine(terms, n_prior, names, x, "likelihood")

    def log_posterior(self, x) -> np.ndarray:
        """Unnormalised log posterior (log prior + log likelihood) at each row of ``x``.

        ``-inf`` outside the support; one bad point never changes the others' values. Adds ``n`` to
        :attr:`n_evaluations`.

        Parameters
        ----------
        x : array_like, shape (n, ndim)
            A batch of parameter values in flat order (``problem.layout``); ``x[None, :]`` for one point.

        Returns
        -------
        numpy.ndarray, shape (n,)
            Log prior plus log likelihood.

        Raises
        ------
        ValueError
            ``x`` is not of shape ``(n, ndim)`` or has a non-finite value; a term of the density is NaN at a
            point inside the support; a user log-likelihood returns the wrong shape or +inf.
        """
        x = self._check_points(x)
        self.n_evaluations += len(x)
        terms, n_prior, names = self._terms(x)
        return _combine(terms, n_prior, names, x, "posterior")

    # ------------------------------------------------------------------ the unconstrained view
    def to_constrained(self, z) -> np.ndarray:
        """Map unconstrained points to parameter values.

        Parameters
        ----------
        z : array_like, shape (n, unconstrained_ndim)
            A batch of points on the unconstrained space (``problem.unconstrained_layout``).

        Returns
        -------
        numpy.ndarray, shape (n, ndim)
            The constrained values (e.g. ``exp`` of a log-transformed positive parameter).

        Raises
        ------
        ValueError
            ``z`` is not of shape ``(n, unconstrained_ndim)`` or has a non-finite value.
        """
        z = self._check_points(z, "z", self.unconstrained_ndim)
        if self.pymc_model is not None:
            return self._compiled.to_constrained(z)
        values = self.unconstrained_layout.split(z)
        zs = {n: values[u] for n, u in zip(self.layout.names, self.unconstrained_layout.names)}
        with np.errstate(over="ignore"):
            return self.layout.flatten({n: self._support[n].to_constrained(zs[n]) for n in self.layout.names})

    def to_unconstrained(self, x) -> np.ndarray:
        """Map parameter values inside the support to the unconstrained space.

        Parameters
        ----------
        x : array_like, shape (n, ndim)
            A batch of parameter values in flat order (``problem.layout``); ``x[None, :]`` for one point.

        Returns
        -------
        numpy.ndarray, shape (n, unconstrained_ndim)
            The unconstrained coordinates; the inverse of :meth:`to_constrained`.

        Raises
        ------
        ValueError
            ``x`` has the wrong shape or a non-finite value; a point is outside the support (or one that a
            constraining transform cannot represent, such as an unsorted vector under ``ordered``): the
            message names it.
        """
        x = self._check_points(x)
        if self.pymc_model is not None:
            z = self._compiled.to_unconstrained(x)
        else:
            values = self.layout.split(x)
            z = self.unconstrained_layout.flatten({
                u: self._support[n].to_unconstrained(values[n])
                for n, u in zip(self.layout.names, self.unconstrained_layout.names)
            })
        bad = np.argwhere(~np.isfinite(z))
        if bad.size or (self.pymc_model is not None and np.any(self.log_prior(x) == -np.inf)):
            row = int(bad[0][0]) if bad.size else int(np.flatnonzero(self.log_prior(x) == -np.inf)[0])
            raise ValueError(
                f"point {row} ({x[row].tolist()}) is outside the support (or violates a transform's constraint), "
                "so it has no unconstrained coordinates"
            )
        return z

    def log_density(self, z) -> np.ndarray:
        """Log posterior on the unconstrained space at each row of ``z``.

        ``log_posterior(to_constrained(z)) + log |d to_constrained / dz|``; ``-inf`` where the constrained
        value overflows or leaves the support. Adds ``n`` to :attr:`n_evaluations`.

        Parameters
        ----------
        z : array_like, shape (n, unconstrained_ndim)
            A batch of points on the unconstrained space (``problem.unconstrained_layout``).

        Returns
        -------
        numpy.ndarray, shape (n,)
            The unnormalised log density, Jacobian included.

        Raises
        ------
        ValueError
            ``z`` has the wrong shape or a non-finite value; a density term is NaN inside the support.
        """
        z = self._check_points(z, "z", self.unconstrained_ndim)
        self.n_evaluations += len(z)
        if self.pymc_model is not None:
            terms, n_prior = self._compiled.z_terms(z)
            return _combine(terms, n_prior, self._compiled.z_term_names, z, "posterior")
        return self._scipy_log_density(z)

    def log_density_and_grad(self, z) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`log_density` and its gradient, from PyMC's reverse-mode gradient.

        Rows where the density is ``-inf`` have a NaN gradient (it is undefined there). Only Problems built
        with :meth:`from_pymc` have gradients: a Problem built from scipy priors and a numpy log-likelihood
        has no derivative of that function (bayeskit does not guess one by finite differences).

        Parameters
        ----------
        z : array_like, shape (n, unconstrained_ndim)
            A batch of points on the unconstrained space (``problem.unconstrained_layout``).

        Returns
        -------
        log_density : numpy.ndarray, shape (n,)
            As :meth:`log_density`.
        grad : numpy.ndarray, shape (n, unconstrained_ndim)
            Its gradient with respect to ``z``.

        Raises
        ------
        NotImplementedError
            The Problem was not built from PyMC (see :attr:`has_gradient`).
        ValueError
            ``z`` has the wrong shape or a non-finite value.
        """
        z = self._check_points(z, "z", self.unconstrained_ndim)
        if self.pymc_model is None:
            raise NotImplementedError(
                "log_density_and_grad needs the gradient of the log-likelihood, which a Problem built from scipy "
                "priors and a numpy function does not have; write the model in PyMC and use Problem.from_pymc"
            )
        self.n_evaluations += len(z)
        terms, n_prior, grad = self._compiled.z_terms_and_grad(z)
        lp = _combine(terms, n_prior, self._compiled.z_term_names, z, "posterior")
        if not np.isfinite(np.add.reduce(lp)):
            grad = np.where(np.isfinite(lp)[:, None], grad, np.nan)
        return lp, grad

    def _scipy_log_density(self, z: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            x = self.to_constrained(z)
        out = np.full(len(z), -np.inf)
        ok = np.all(np.isfinite(x), axis=1)
        if ok.any():
            terms, n_prior, names = self._terms(x[ok])
            out[ok] = _combine(terms, n_prior, names, x[ok], "posterior")
            values = self.unconstrained_layout.split(z[ok])
            for n, u in zip(self.layout.names, self.unconstrained_layout.names):
                jac = self._support[n].log_jacobian(values[u])
                out[ok] += jac.reshape(int(ok.sum()), -1).sum(axis=1)
        return out

    def prior_transform(self, u) -> np.ndarray:
        """Map points of the unit cube to parameters distributed as the prior.

        Each coordinate goes through its prior's inverse CDF, parents before children, so a prior
        whose parameters depend on other parameters is transformed correctly. Nested sampling uses it.

        Parameters
        ----------
        u : array_like, shape (n, ndim)
            Points of the unit cube ``[0, 1]^ndim``.

        Returns
        -------
        numpy.ndarray, shape (n, ndim)
            Parameter values; ``u`` uniform on the cube gives draws from the prior.

        Raises
        ------
        ValueError
            ``u`` has the wrong shape, a non-finite value, or a value outside ``[0, 1]``.
        NotImplementedError
            A PyMC model with a prior that has no inverse CDF here (the message names it).
        """
        u = self._check_points(u, "u")
        outside = np.argwhere((u < 0) | (u > 1))
        if outside.size:
            r, c = (int(i) for i in outside[0])
            raise ValueError(f"prior_transform takes values in [0, 1]; u[{r}, {c}] = {u[r, c]}")
        return self._transform_checked_unit(u)

    def _transform_checked_unit(self, u: np.ndarray) -> np.ndarray:
        """The body of :meth:`prior_transform`, for a float array ``u`` of shape ``(n, ndim)`` in ``[0, 1]``
        that the caller has already checked (a nested sampler's own draws, see
        :func:`bayeskit.engines.ultranest.run`)."""
        if self.pymc_model is not None:
            return self._compiled.transform(u)
        parts = {}
        for name, sl in self.layout.slices.items():
            dist = self._dists[name]
            values = self._prior_forms[name][0](u[:, sl])
            if isinstance(dist.dist, stats.rv_discrete):  # scipy's ppf(0) is lower - 1, outside the support
                values = np.maximum(values, dist.support()[0])
            parts[name] = values
        return np.concatenate([parts[n] for n in self.layout.names], axis=1).astype(float)

    # ------------------------------------------------------------------ helpers for engines
    def _log_likelihood_from_transform(self, x: np.ndarray) -> np.ndarray:
        """:meth:`log_likelihood` of points produced by this Problem's own :meth:`prior_transform` (or rows of
        them), for nested samplers: the same values without the per-call re-checks where that is safe.

        A point from the prior transform has the right shape and lies in the support, so the prior terms that
        :meth:`log_likelihood` computes only to mask points outside the support can be skipped. This is taken on
        trust only as far as it is cheap to confirm: the fast path applies to Problems with SciPy priors and no
        discrete parameter, and to a float batch of shape ``(n, ndim)`` whose every coordinate lies strictly inside
        its prior's support interval (NaN and infinities fail that test), where the prior density is positive.
        Anything else (a PyMC model, a discrete parameter, a point on or outside a bound, another shape or type)
        goes through :meth:`log_likelihood` with all its checks. The user's log-likelihood gets the same arrays
        either way, and its answer the same checks and errors (wrong shape, +inf, NaN). Adds ``n`` to
        :attr:`n_evaluations`.

        Only where SciPy's log density underflows to ``-inf`` strictly inside the support (far in a tail, beyond
        what the transform of a sampler's draws reaches except for extreme priors) would the two differ:
        :meth:`log_likelihood` masks such a point, this path keeps its likelihood.

        Parameters
        ----------
        x : numpy.ndarray, shape (n, ndim)
            Points from :meth:`prior_transform`.

        Returns
        -------
        numpy.ndarray, shape (n,)
            Log likelihood, as :meth:`log_likelihood` gives it.

        Raises
        ------
        ValueError
            As :meth:`log_likelihood`.
        """
        bounds = self._open_support_bounds()
        if (bounds is None or not isinstance(x, np.ndarray) or x.dtype != np.float64 or x.ndim != 2
                or x.shape[1] != self.ndim or not len(x) or not ((x > bounds[0]).all() and (x < bounds[1]).all())):
            return self.log_likelihood(x)
        self.n_evaluations += len(x)
        # a copy, as log_likelihood returns: never the user's array
        out = np.array(self._call_log_likelihood(self.layout.split(x), len(x)))
        if np.isnan(np.add.reduce(out)):  # a -inf is a value; a NaN gets log_likelihood's error
            n_prior = len(self.layout.names)
            terms = np.zeros((len(x), n_prior + 1))  # every prior term finite: all points inside the support
            terms[:, n_prior] = out
            return _combine(terms, n_prior, list(self.layout.names) + ["log_likelihood"], x, "likelihood")
        return out

    def _call_log_likelihood(self, values: dict[str, np.ndarray], n: int) -> np.ndarray:
        """The user's log-likelihood of ``n`` points given as ``values`` (one array per parameter), as floats of
        shape ``(n,)``; raises for another shape or a ``+inf`` (a NaN is left to :func:`_combine`, which names
        the point)."""
        raw = self._user_loglik(values)
        out = np.asarray(raw, dtype=float).reshape(-1)
        if out.shape != (n,):
            raise ValueError(f"log_likelihood must return shape ({n},) for a batch of that many points, "
                             f"got {np.shape(raw)}")
        if np.any(out == np.inf):
            raise ValueError("log_likelihood returned +inf")
        return out

    def _open_support_bounds(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Per-coordinate ``(lower, upper)`` support bounds of the SciPy priors (``dist.support()``), strictly
        inside which each prior density is positive; None for a PyMC model or a discrete parameter (no fast
        path). Computed once."""
        if "_open_bounds" not in self.__dict__:
            bounds = None
            if self.pymc_model is None and not self.has_discrete:
                lower, upper = np.empty(self.ndim), np.empty(self.ndim)
                for name, sl in self.layout.slices.items():
                    lower[sl], upper[sl] = (float(b) for b in self._dists[name].support())
                bounds = (lower, upper)
            self._open_bounds = bounds
        return self._open_bounds

    def initial_points(self, n: int, seed=None) -> np.ndarray:
        """``n`` starting points inside the support.

        Spread over the central half of the prior where a prior transform exists, else PyMC's initial point
        jittered by U(-1, 1) on the unconstrained space (continuous coordinates only), as ``pm.sample``'s
        ``jitter+adapt_diag`` does. Up to 20 attempts are made until every point has a finite log posterior.

        Parameters
        ----------
        n : int
            Number of points (e.g. one per chain).
        seed : None, int, numpy.random.SeedSequence or numpy.random.Generator, optional
            Randomness; the same seed gives the same points.

        Returns
        -------
        numpy.ndarray, shape (n, ndim)
            The points.

        Raises
        ------
        ValueError
            No set of points with a finite log posterior was found in 20 attempts.
        """
        rng = as_rng(seed)
        for _ in range(20):
            try:
                x = self.prior_transform(rng.uniform(0.25, 0.75, size=(n, self.ndim)))
            except NotImplementedError:
                z = np.tile(self._compiled.initial_z, (n, 1))
                cont = ~self.unconstrained_layout.discrete_mask
                z[:, cont] += rng.uniform(-1.0, 1.0, size=(n, int(cont.sum())))
                x = self._compiled.to_constrained(z)
            ok = np.isfinite(self.log_posterior(x))
            if ok.all():
                return x
        raise ValueError("could not find starting points with finite log posterior; pass initial points explicitly")

    def _check_on_entry(self) -> None:
        """Evaluate the user's log-likelihood at a few prior draws: right shape, no NaN."""
        u = np.random.default_rng(0).uniform(0.2, 0.8, size=(3, self.ndim))
        x = self.prior_transform(u)
        try:
            values = self.layout.split(x)
            out = np.asarray(self._user_loglik(values), dtype=float)
        except Exception as exc:  # re-raised with context
            raise ValueError(f"log_likelihood failed on a batch of 3 prior draws {x.tolist()}: {exc}") from exc
        if out.shape != (3,):
            raise ValueError(
                "log_likelihood must be vectorised: given each parameter as an array with a leading batch "
                f"axis (here 3 points), it must return shape (3,), got {out.shape}"
            )
        if np.any(np.isnan(out)):
            raise ValueError(f"log_likelihood returned NaN at prior draws {x.tolist()}: {out.tolist()}")
