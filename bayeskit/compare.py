"""Engine-by-engine comparison tables, against an exact reference when there is one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

import numpy as np

if TYPE_CHECKING:  # imported where used, so that importing bayeskit stays light
    import arviz as az
    import pandas as pd

    from bayeskit.exact import Reference

__all__ = ["compare"]


def compare(
    results: Mapping[str, az.InferenceData],
    reference: Reference | None = None,
    var_names: list[str] | None = None,
    hdi_prob: float = 0.94,
) -> pd.DataFrame:
    """One row per (engine, scalar parameter): mean, sd, HDI, bulk ESS, R-hat, ESS per second.

    With a ``reference``: the exact mean and sd, ``error_mcse``, the error of the mean in units of
    its Monte Carlo standard error (``|error_mcse| < 4`` is what an honest sampler gives almost always),
    and ``sd_error_mcse``, the same for the sd (``mcse_sd``, delta method).
    For engines whose draws are resampled from weighted samples (nested sampling) the draws contain
    duplicates, so their ESS is taken from ``idata.attrs["ess"]`` (Kish's ESS of the weights), and
    their MCSEs are the larger of that ESS's and the engine's own (``attrs["mcse_mean"]``,
    ``attrs["mcse_sd"]``: nested sampling's bootstrap, which includes the randomness of the volumes).
    Log-evidence columns are filled for engines that report one (and the exact value, if known).

    Parameters
    ----------
    results : mapping of str to arviz.InferenceData
        ``{engine name: result}``, e.g. from :func:`bayeskit.sample`.
    reference : bayeskit.exact.Reference, optional
        Exact posterior means and sds (and log-evidence) to compare against.
    var_names : list of str, optional
        Variables to tabulate. Default: with a reference, the variables it describes; else all of the
        posterior's.
    hdi_prob : float, default 0.94
        Probability mass of the highest-density interval columns.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(engine, parameter)``; columns ``mean``, ``sd``, the HDI bounds (e.g. ``hdi_3%``,
        ``hdi_97%``), ``mcse_mean``, ``mcse_sd``, ``ess_bulk``, ``r_hat``, ``ess_per_s`` (bulk ESS per second
        of ``attrs["wall_time_s"]``), ``log_evidence``, ``log_evidence_err``; with a reference also
        ``ref_mean``, ``ref_sd``, ``error_mcse``, ``sd_error_mcse``, ``ref_log_evidence``.

    Raises
    ------
    ValueError
        ``results`` is empty.
    TypeError
        A value of ``results`` is not an ``arviz.InferenceData``.
    """
    import arviz as az
    import pandas as pd

    from bayeskit import diagnostics

    if not results:
        raise ValueError("results is empty: pass {engine name: InferenceData}")
    reference_vars = list(dict.fromkeys(label.partition("[")[0] for label in reference.mean)) if reference else []
    rows = []
    for engine, idata in results.items():
        if not isinstance(idata, az.InferenceData):
            raise TypeError(f"results[{engine!r}] must be arviz.InferenceData, got {type(idata).__name__}")
        wall = float(idata.attrs.get("wall_time_s", np.nan))
        names = var_names
        if names is None and reference is not None:
            # the variables the reference knows (results now also carry Deterministics, which it may not)
            names = [v for v in reference_vars if v in idata.posterior.data_vars] or None
        table = diagnostics.summary(idata, names)
        if "ess" in idata.attrs:  # weighted draws resampled (nested sampling): the engine's own ESS
            table["ess_bulk"] = float(idata.attrs["ess"])
            table["mcse_mean"] = table["sd"] / np.sqrt(float(idata.attrs["ess"]))
            table["mcse_sd"] = [diagnostics.mcse_sd(_values(idata, label), ess_override=idata.attrs["ess"])
                                for label in table.index]
            for column in ("mcse_mean", "mcse_sd"):  # the engine's bootstrap errors, when larger, matched by label
                values = np.atleast_1d(idata.attrs.get(column, []))
                labels = list(idata.attrs.get("mcse_labels", table.index if len(values) == len(table) else []))
                own = dict(zip(labels, np.asarray(values, float)))
                table[column] = [max(v, own.get(label, -np.inf)) for label, v in zip(table.index, table[column])]
        for label, stats in table.iterrows():
            x = _values(idata, label)
            lo, hi = az.hdi(x.ravel(), hdi_prob=hdi_prob)
            row = {
                "engine": engine, "parameter": label, "mean": stats["mean"], "sd": stats["sd"],
                f"hdi_{(1 - hdi_prob) / 2:.0%}": lo, f"hdi_{1 - (1 - hdi_prob) / 2:.0%}": hi,
                "mcse_mean": stats["mcse_mean"], "mcse_sd": stats["mcse_sd"], "ess_bulk": stats["ess_bulk"], "r_hat": stats["r_hat"],
                "ess_per_s": stats["ess_bulk"] / wall if wall > 0 else np.nan,
                "log_evidence": idata.attrs.get("log_evidence", np.nan),
                "log_evidence_err": idata.attrs.get("log_evidence_err", np.nan),
            }
            if reference is not None and label in reference.mean:
                row["ref_mean"] = reference.mean[label]
                row["ref_sd"] = reference.sd[label]
                row["error_mcse"] = (stats["mean"] - reference.mean[label]) / stats["mcse_mean"]
                row["sd_error_mcse"] = (stats["sd"] - reference.sd[label]) / stats["mcse_sd"]
                row["ref_log_evidence"] = reference.log_evidence if reference.log_evidence is not None else np.nan
            rows.append(row)
    return pd.DataFrame(rows).set_index(["engine", "parameter"])


def _values(idata: az.InferenceData, label: str) -> np.ndarray:
    """Draws ``(chain, draw)`` of one scalar coordinate label such as ``"w[3]"``."""
    name, _, index = label.partition("[")
    values = idata.posterior[name].values
    if index:
        idx = tuple(int(i) for i in index.rstrip("]").split(","))
        values = values[(slice(None), slice(None), *idx)]
    return values
