"""Results as complete as ``pm.sample``'s, whatever engine made the draws.

Every engine produces constrained draws as one flat array ``(chain, draw, ndim)`` in the order of
``problem.layout``. :func:`build_inference_data` turns them into ``arviz.InferenceData``; for a
Problem built from PyMC the result has what ``pm.sample`` gives:

* ``posterior``: the free variables with the model's own ``dims`` and ``coords`` (``<name>_dim_<i>``
  for variables without dims, as PyMC does), and every ``pm.Deterministic``, computed from the draws;
* ``log_likelihood``: one value per observation and draw (what ``pm.compute_log_likelihood`` gives,
  what ``az.loo`` and ``az.compare`` need); ``pm.Potential`` terms are left out, as PyMC leaves them;
* ``observed_data`` and ``constant_data`` (``pm.Data`` containers), with dims and coords;
* ``sample_stats`` and ``attrs`` as the engine gives them.

With matching dims, coords and constant data, ``pm.sample_posterior_predictive`` uses the draws:
it samples only the observed variables. (Without them PyMC cannot tell that the data and coordinates
are unchanged, treats the parameters as volatile and silently redraws them from the prior.)

Deterministics and pointwise log-likelihoods are evaluated by one compiled function vectorised over
the draws (``pytensor.graph.replace.vectorize_graph``), in chunks that bound the memory used, not by
one Python call per draw as PyMC's ``compute_deterministics`` and ``compute_log_likelihood`` do.

:func:`complete_pymc_inference_data` adds whatever of the above is missing to a result that already
comes from PyMC (``pm.sample``, ``approx.sample`` of ADVI), with the same code.

The user's model is never changed: the graphs are built from it with fresh inputs for the constrained
values (:func:`bayeskit.pymc_bridge.compile_pointwise`), which also accepts ``initval`` and ``scan``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

if TYPE_CHECKING:  # imported where used, so that importing bayeskit stays light
    import arviz as az

from bayeskit.layout import Layout, to_inference_data
from bayeskit.pymc_bridge import observed_rvs

__all__ = ["LOG_LIKELIHOOD_MAX_VALUES", "build_inference_data", "complete_pymc_inference_data"]

#: ``log_likelihood=None`` skips the log_likelihood group above this many values
#: (chains * draws * pointwise observations): 2e7 float64 values are 160 MB, more than the rest of a
#: typical result, and the group is only needed for LOO / WAIC. ``log_likelihood=True`` forces it.
LOG_LIKELIHOOD_MAX_VALUES = 20_000_000

#: Values produced per call of a vectorised function (draws per chunk = this / values per draw):
#: bounds the temporary memory (8 MB of float64 per output, a few times that for intermediates).
_CHUNK_VALUES = 1_000_000


_NOT_POINTWISE = (
    "not computed: a Problem built from scipy priors and a numpy log-likelihood gives the log-likelihood "
    "of the whole data set per draw, not one value per observation, which az.loo and az.waic need"
)


# ---------------------------------------------------------------------------------------------- public
def build_inference_data(
    problem,
    samples: np.ndarray,
    *,
    sample_stats: Mapping[str, np.ndarray] | None = None,
    attrs: Mapping[str, Any] | None = None,
    log_likelihood: bool | None = None,
) -> az.InferenceData:
    """Build InferenceData from constrained draws, as complete as ``pm.sample``'s for PyMC models.

    Parameters
    ----------
    problem : bayeskit.Problem
        The model the draws come from. Only ``problem.layout`` and ``problem.pymc_model`` are used.
    samples : array of shape (chain, draw, problem.layout.ndim)
        Constrained draws in layout order. Discrete parameters are rounded and stored as int64.
    sample_stats : mapping of str to arrays of shape (chain, draw, ...), optional
        Per-draw sampler statistics, under ArviZ's names (``lp``, ``acceptance_rate``, ``diverging``...).
    attrs : mapping, optional
        Run facts stored in ``idata.attrs`` (engine, wall time, ...).
    log_likelihood : bool or None, default None
        For a PyMC model: ``None`` computes the pointwise log_likelihood group unless it would hold more
        than :data:`LOG_LIKELIHOOD_MAX_VALUES` values, ``True`` always computes it, ``False`` never.
        ``idata.attrs["log_likelihood"]`` says what happened and why.

    Returns
    -------
    arviz.InferenceData
        For a Problem built from scipy priors: ``posterior`` (dims ``<name>_dim_<i>``) and
        ``sample_stats``, as :func:`bayeskit.layout.to_inference_data` builds them. For a Problem built
        from PyMC: ``posterior`` with the model's dims, coords and Deterministics, ``sample_stats``,
        ``observed_data``, ``constant_data`` and ``log_likelihood`` (those that the model has).

    Raises
    ------
    ValueError
        If ``samples`` does not have shape ``(chain, draw, problem.layout.ndim)``, or if
        ``log_likelihood=True`` for a Problem without a PyMC model.
    TypeError
        If ``log_likelihood`` is not None, True or False.
    """
    _check_option(log_likelihood)
    layout = getattr(problem, "layout", None)
    if not isinstance(layout, Layout):
        raise TypeError(f"problem must be a bayeskit.Problem (with a layout), got {type(problem).__name__}")
    samples = _check_samples(samples, layout)
    model = getattr(problem, "pymc_model", None)
    attrs = dict(attrs or {})
    if model is None:
        if log_likelihood is True:
            raise ValueError(f"log_likelihood=True needs a Problem built from PyMC; {_NOT_POINTWISE}")
        idata = to_inference_data(samples, layout, sample_stats=sample_stats, attrs=attrs)
        idata.attrs["log_likelihood"] = _NOT_POINTWISE
        return idata
    import arviz as az

    free = _split_free_draws(samples, layout)
    groups, note = _pymc_groups(model, free, log_likelihood)
    if sample_stats:
        groups["sample_stats"] = az.dict_to_dataset(dict(sample_stats))
    idata = az.InferenceData(**_ordered(groups))
    idata.attrs.update(attrs)
    idata.attrs["log_likelihood"] = note
    return idata


def complete_pymc_inference_data(problem, idata: az.InferenceData, *, log_likelihood: bool | None = None) -> az.InferenceData:
    """Add to a PyMC result whatever :func:`build_inference_data` would give and it lacks.

    For results that already come from PyMC (``pm.sample``, ``approx.sample`` of ADVI) or from
    :func:`bayeskit.layout.to_inference_data`: the posterior's free variables get the model's dims and
    coords, missing Deterministics are computed, and missing ``observed_data``, ``constant_data`` and
    ``log_likelihood`` groups are added. Groups and variables already there are kept as they are.

    Parameters
    ----------
    problem : bayeskit.Problem or pymc.Model
        A Problem built from PyMC, or the PyMC model itself.
    idata : arviz.InferenceData
        A result with a ``posterior`` group holding every free variable of the model, with leading
        dims ``(chain, draw)``. It is not modified.
    log_likelihood : bool or None, default None
        As in :func:`build_inference_data`; an existing log_likelihood group is always kept.

    Returns
    -------
    arviz.InferenceData
        A new InferenceData; its attrs are those of ``idata`` plus ``attrs["log_likelihood"]``.

    Raises
    ------
    ValueError
        If the model is missing, or the posterior lacks a free variable or its (chain, draw) dims.
    TypeError
        If ``log_likelihood`` is not None, True or False.
    """
    _check_option(log_likelihood)
    model = _pymc_model_of(problem)
    if "posterior" not in idata.groups():
        raise ValueError(f"idata has no posterior group (groups: {list(idata.groups())})")
    posterior = idata.posterior
    free = _free_draws_from_posterior(model, posterior)
    has_log_likelihood = "log_likelihood" in idata.groups()
    groups, note = _pymc_groups(model, free, False if has_log_likelihood else log_likelihood, old_posterior=posterior)
    if has_log_likelihood:
        note = "kept: the result already had a log_likelihood group"
    out = {name: idata[name] for name in idata.groups()}
    out["posterior"] = groups.pop("posterior")
    for name, group in groups.items():
        out.setdefault(name, group)
    import arviz as az

    completed = az.InferenceData(**_ordered(out))
    completed.attrs.update(dict(idata.attrs))
    completed.attrs["log_likelihood"] = note
    return completed


# ---------------------------------------------------------------------------------------------- checks
def _check_option(log_likelihood) -> None:
    if log_likelihood is not None and not isinstance(log_likelihood, bool):
        raise TypeError(f"log_likelihood must be None, True or False, got {log_likelihood!r}")


def _check_samples(samples, layout: Layout) -> np.ndarray:
    arr = np.asarray(samples)
    if arr.ndim != 3 or arr.shape[-1] != layout.ndim:
        raise ValueError(
            f"samples must have shape (chain, draw, {layout.ndim}) (constrained draws of the "
            f"{layout.ndim} parameter coordinates {layout.labels[:6]}{'...' if layout.ndim > 6 else ''}), "
            f"got shape {arr.shape}"
        )
    return arr


def _pymc_model_of(problem):
    import pymc as pm

    if isinstance(problem, pm.Model):
        return problem
    model = getattr(problem, "pymc_model", None)
    if model is None:
        raise ValueError(f"complete_pymc_inference_data needs a Problem built from PyMC or a pm.Model, got {problem!r}")
    return model


# ---------------------------------------------------------------------------------------------- draws
def _split_free_draws(samples: np.ndarray, layout: Layout) -> dict[str, np.ndarray]:
    """Flat ``(chain, draw, ndim)`` -> ``{name: (chain, draw, *shape)}``, discrete ones as int64."""
    return {
        name: np.rint(values).astype(np.int64) if discrete else values
        for (name, values), discrete in zip(layout.split(samples).items(), layout.discrete)
    }


def _free_draws_from_posterior(model, posterior) -> dict[str, np.ndarray]:
    missing = [rv.name for rv in model.free_RVs if rv.name not in posterior.data_vars]
    if missing:
        raise ValueError(f"the posterior lacks the free variables {missing} of the model "
                         f"(it has {list(posterior.data_vars)})")
    free = {}
    for rv in model.free_RVs:
        da = posterior[rv.name]
        if not {"chain", "draw"} <= set(da.dims):
            raise ValueError(f"posterior variable {rv.name!r} must have dims (chain, draw, ...), got {da.dims}")
        free[rv.name] = da.transpose("chain", "draw", ...).values
    return free


# ---------------------------------------------------------------------------------------------- groups
def _pymc_groups(model, free: dict, log_likelihood: bool | None, old_posterior=None) -> tuple[dict, str]:
    """The groups of a PyMC result: posterior (free + Deterministics), log_likelihood, observed/constant data.

    With ``old_posterior`` (a posterior Dataset being completed), the Deterministics it has are reused, not
    recomputed, its other variables and attrs are kept, and so are its chain and draw labels.
    Returns the groups and the sentence for ``attrs["log_likelihood"]``.
    """
    coords, dims = _coords_and_dims(model)
    existing = {}
    if old_posterior is not None:
        coords |= {dim: old_posterior[dim].values for dim in ("chain", "draw") if dim in old_posterior.coords}
        existing = {name: old_posterior[name].transpose("chain", "draw", ...).values
                    for name in old_posterior.data_vars if name not in free}
    compute_ll, note = _log_likelihood_decision(model, free, log_likelihood)
    missing = [det.name for det in model.deterministics if det.name not in existing]
    computed, pointwise = _evaluate_over_draws(model, free, missing, compute_ll)
    posterior = free | {det.name: existing.get(det.name, computed.get(det.name)) for det in model.deterministics}
    groups = {"posterior": _posterior_dataset(posterior, coords, dims, old_posterior)}
    if compute_ll:
        groups["log_likelihood"] = _dataset(pointwise, coords, dims, skip_event_dims=True)
    return groups | _data_groups(model, coords, dims), note


def _posterior_dataset(values: dict, coords: dict, dims: dict, old_posterior=None):
    """The posterior with the model's dims; the other variables and the attrs of ``old_posterior`` kept."""
    ds = _dataset(values, coords, dims, drop_incompatible=True)
    if old_posterior is not None:
        extra = [name for name in old_posterior.data_vars if name not in values]
        if extra:
            ds = ds.merge(old_posterior[extra], compat="override", join="left")
        ds.attrs = {**old_posterior.attrs, **ds.attrs}
    return ds


def _data_groups(model, coords: dict, dims: dict) -> dict:
    """``observed_data`` and ``constant_data`` as ``pm.sample`` makes them (those the model has)."""
    from pymc.backends.arviz import find_constants, find_observations

    groups = {}
    observations = find_observations(model)
    if observations:
        groups["observed_data"] = _dataset(observations, coords, dims, default_dims=[])
    constants = find_constants(model)
    if constants:
        groups["constant_data"] = _constant_dataset(constants, coords, dims)
    return groups


def _coords_and_dims(model) -> tuple[dict, dict]:
    from pymc.backends.arviz import coords_and_dims_for_inferencedata

    return coords_and_dims_for_inferencedata(model)


def _dataset(values: dict, coords: dict, dims: dict, *, drop_incompatible: bool = False, **kwargs):
    """PyMC's own conversion of arrays to a Dataset (its coords and dims handling)."""
    import arviz as az
    import pymc
    from pymc.backends.arviz import dict_to_dataset_drop_incompatible_coords

    if drop_incompatible:
        return dict_to_dataset_drop_incompatible_coords(values, library=pymc, coords=coords, dims=dims, **kwargs)
    return az.dict_to_dataset(values, library=pymc, coords=coords, dims=dims, **kwargs)


def _constant_dataset(constants: dict, coords: dict, dims: dict):
    """As PyMC's ``constant_data_to_xarray``: scalars stay scalars (no ``<name>_dim_0`` of length 1)."""
    ds = _dataset(constants, coords, dims, default_dims=[])
    for name, value in constants.items():
        if np.ndim(value) == 0:
            ds = ds.squeeze(f"{name}_dim_0", drop=True)
    return ds


def _ordered(groups: dict) -> dict:
    """Groups in ArviZ's usual order (the order ``print(idata)`` shows)."""
    order = ["posterior", "posterior_predictive", "predictions", "log_likelihood", "log_prior", "sample_stats",
             "observed_data", "constant_data"]
    return {name: groups[name] for name in sorted(groups, key=lambda g: order.index(g) if g in order else len(order))}


# ---------------------------------------------------------------------------------------------- log-likelihood
def _n_pointwise(model) -> int:
    """Values per draw of the pointwise log-likelihood: the observed data without their support dims."""
    from pymc.backends.arviz import find_observations

    observations = find_observations(model)
    total = 0
    for rv in observed_rvs(model):
        if rv.name in observations:
            shape = np.shape(observations[rv.name])
            ndim_supp = getattr(rv.owner.op, "ndim_supp", 0) or 0
            total += int(np.prod(shape[: len(shape) - ndim_supp]))
    return total


def _log_likelihood_decision(model, free: dict, option: bool | None) -> tuple[bool, str]:
    """Whether to compute the log_likelihood group, and the sentence for ``attrs["log_likelihood"]``."""
    if not model.observed_RVs:
        return False, "not computed: the model has no observed variables"
    if option is False:
        return False, "not computed: log_likelihood=False"
    per_draw = _n_pointwise(model)
    chains, draws = next(iter(free.values())).shape[:2]
    total = chains * draws * per_draw
    if option is None and total > LOG_LIKELIHOOD_MAX_VALUES:
        return False, (
            f"not computed: the pointwise log-likelihood has {total:,} values ({chains} chains x {draws} draws x "
            f"{per_draw} observations), more than {LOG_LIKELIHOOD_MAX_VALUES:,}; pass log_likelihood=True to compute it anyway"
        )
    names = ", ".join(rv.name for rv in observed_rvs(model))
    return True, f"computed: pointwise log-likelihood of {names} ({per_draw} values per draw)"


# ---------------------------------------------------------------------------------------------- vectorised evaluation
def _evaluate_over_draws(model, free: dict, deterministics: list[str], log_likelihood: bool) -> tuple[dict, dict]:
    """The named Deterministics and (if asked) the pointwise log-likelihoods at every draw.

    One compiled function of the constrained free values, vectorised over draws where PyTensor can
    (:func:`bayeskit.pymc_bridge.compile_pointwise`), called on chunks of draws that bound the memory.

    Returns
    -------
    deterministics, log_likelihood : dict, dict
        ``{name: (chain, draw, *shape)}`` each.
    """
    from bayeskit.pymc_bridge import compile_pointwise

    if not deterministics and not log_likelihood:
        return {}, {}
    observed = observed_rvs(model) if log_likelihood else []
    shapes = [tuple(np.shape(free[rv.name])[2:]) for rv in model.free_RVs]
    outputs = list(deterministics) + [rv.name for rv in observed]
    fn = compile_pointwise(model, list(deterministics), bool(observed), shapes)
    layout = Layout(tuple(rv.name for rv in model.free_RVs), tuple(shapes), (False,) * len(shapes))
    flat = layout.flatten({rv.name: free[rv.name] for rv in model.free_RVs})
    chains, draws = flat.shape[:2]
    n = chains * draws
    flat = flat.reshape(n, -1)
    per_draw = sum(np.size(out) for out in fn(flat[:1]))  # one draw, to size the chunks
    chunk = max(1, _CHUNK_VALUES // max(1, per_draw))
    pieces: list[list[np.ndarray]] = [[] for _ in outputs]
    for start in range(0, n, chunk):
        for piece, out in zip(pieces, fn(flat[start:start + chunk])):
            piece.append(np.asarray(out))
    arrays = [np.concatenate(piece).reshape(chains, draws, *piece[0].shape[1:]) for piece in pieces]
    k = len(deterministics)
    return dict(zip(outputs[:k], arrays[:k])), dict(zip(outputs[k:], arrays[k:]))
