"""Plots used across the notebooks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

from bayeskit.compare import _values

if TYPE_CHECKING:  # imported where used, so that importing bayeskit stays light
    import arviz as az

    from bayeskit.exact import Reference

__all__ = ["plot_marginals", "covariance_ellipse"]


def plot_marginals(
    results: Mapping[str, az.InferenceData],
    reference: Reference | None = None,
    labels: Sequence[str] | None = None,
    ncols: int = 4,
    bins: int = 40,
    units: str | None = None,
):
    """Overlay every engine's marginal histogram on the exact marginal density, one panel per parameter.

    Each panel's x axis is named after its parameter (with ``units`` in brackets, e.g. ``"lb"``); the legend sits
    below the panels, where it covers no data.

    Parameters
    ----------
    results : mapping of str to arviz.InferenceData
        ``{engine name: result}``; all share the same posterior variables.
    reference : bayeskit.exact.Reference, optional
        Its ``marginal_pdf`` curves are drawn (dashed, "exact") for the labels it has.
    labels : sequence of str, optional
        Scalar labels to plot (``"mu"``, ``"w[3]"``); default: every scalar coordinate of the first result.
    ncols : int, default 4
        Panels per row (at most the number of labels).
    bins : int, default 40
        Histogram bins, shared by the engines of a panel (over the range of their pooled draws).
    units : str, optional
        Unit shown in each x-axis label.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (one axis per label; unused axes hidden).
    """
    import matplotlib.pyplot as plt

    first = next(iter(results.values()))
    if labels is None:
        labels = [lab for name in first.posterior.data_vars
                  for lab in ([name] if first.posterior[name].ndim == 2 else
                              [f"{name}[{','.join(map(str, i))}]" for i in np.ndindex(*first.posterior[name].shape[2:])])]
    n = len(labels)
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 2.6 * nrows + 0.5), squeeze=False,
                             layout="constrained")
    for ax, label in zip(axes.flat, labels):
        pooled = np.concatenate([_values(r, label).ravel() for r in results.values()])
        lo, hi = np.quantile(pooled, [0.001, 0.999])
        edges = np.linspace(lo, hi, bins + 1)
        for engine, idata in results.items():
            ax.hist(_values(idata, label).ravel(), bins=edges, density=True, histtype="step", lw=1.3, label=engine)
        if reference is not None and label in reference.marginal_pdf:
            grid = np.linspace(lo, hi, 400)
            ax.plot(grid, reference.marginal_pdf[label](grid), "k--", lw=1.2, label="exact")
        ax.set_title(label)
        ax.set_xlabel(label if units is None else f"{label} ({units})")
        ax.set_ylabel("posterior density")
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    handles, names = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncols=min(len(names), 6), fontsize="small", frameon=False)
    return fig


def covariance_ellipse(ax, mean, cov, n_sd: float = 2.0, **line_kwargs):
    """Draw the ellipse ``(x - mean)^T cov^-1 (x - mean) = n_sd^2`` of a 2-D Gaussian on ``ax``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    mean : array_like, shape (2,)
        Centre of the ellipse.
    cov : array_like, shape (2, 2)
        Covariance matrix (symmetric positive definite).
    n_sd : float, default 2.0
        Size, in Mahalanobis distance from ``mean``.
    **line_kwargs
        Passed to ``ax.plot`` (colour, line style, label ...).

    Returns
    -------
    matplotlib.lines.Line2D
        The ellipse's line.

    Raises
    ------
    ValueError
        ``mean`` is not of shape (2,) or ``cov`` not (2, 2).
    numpy.linalg.LinAlgError
        ``cov`` is not positive definite.
    """
    mean, cov = np.asarray(mean, float), np.asarray(cov, float)
    if mean.shape != (2,) or cov.shape != (2, 2):
        raise ValueError(f"need a 2-D mean and a 2x2 covariance, got shapes {mean.shape} and {cov.shape}")
    angle = np.linspace(0, 2 * np.pi, 200)
    circle = np.stack([np.cos(angle), np.sin(angle)])
    points = mean[:, None] + n_sd * np.linalg.cholesky(cov) @ circle
    return ax.plot(points[0], points[1], **line_kwargs)[0]
