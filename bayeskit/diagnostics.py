"""Convergence and efficiency diagnostics, written from scratch to be read.

Autocorrelation by FFT, the integrated autocorrelation time, effective sample sizes (plain,
bulk, tail) and rank-normalised split R-hat, following Vehtari et al. (2021). Every function
takes the draws of one scalar quantity as ``(chain, draw)`` (or ``(draw,)`` for one chain).
They agree with ``arviz.ess`` and ``arviz.rhat`` (tested).

References
----------
Geyer, C. J. (1992). Practical Markov chain Monte Carlo. Statistical Science 7, 473-483.
Vehtari, A., Gelman, A., Simpson, D., Carpenter, B., Bürkner, P.-C. (2021). Rank-normalization,
folding, and localization: an improved R-hat for assessing convergence of MCMC.
Bayesian Analysis 16, 667-718.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import special, stats

if TYPE_CHECKING:  # imported where used, so that importing bayeskit stays light
    import arviz as az
    import pandas as pd

__all__ = [
    "autocorrelation",
    "integrated_autocorr_time",
    "ess",
    "ess_bulk",
    "ess_tail",
    "rhat",
    "mcse_mean",
    "mcse_sd",
    "summary",
]


def _as_chains(draws) -> np.ndarray:
    x = np.asarray(draws, dtype=float)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ValueError(f"draws must have shape (chain, draw) or (draw,), got {x.shape}")
    if x.shape[1] < 4:
        raise ValueError(f"need at least 4 draws per chain, got {x.shape[1]}")
    if not np.all(np.isfinite(x)):
        raise ValueError("draws contain NaN or infinite values")
    return x


def _autocovariance(x: np.ndarray) -> np.ndarray:
    """Biased autocovariance of each row (lag 0..n-1), computed with the FFT.

    Padding to at least twice the length turns the FFT's circular correlation into the ordinary one.
    """
    n = x.shape[-1]
    centred = x - x.mean(axis=-1, keepdims=True)
    size = 1 << (2 * n - 1).bit_length()
    spectrum = np.fft.rfft(centred, n=size, axis=-1)
    return np.fft.irfft(spectrum * np.conjugate(spectrum), n=size, axis=-1)[..., :n] / n


def autocorrelation(draws) -> np.ndarray:
    """Autocorrelation function of a single chain (1-D), or of each chain (2-D), at lags 0..n-1.

    Parameters
    ----------
    draws : array_like
        One chain ``(draw,)`` or several ``(chain, draw)``.

    Returns
    -------
    numpy.ndarray
        Same shape as ``draws``: the (biased, FFT-computed) autocorrelation at each lag, 1 at lag 0.

    Examples
    --------
    >>> import numpy as np
    >>> from bayeskit.diagnostics import autocorrelation
    >>> float(autocorrelation(np.random.default_rng(0).normal(size=1000))[0])
    1.0
    """
    x = np.asarray(draws, dtype=float)
    acov = _autocovariance(x)
    return acov / acov[..., :1]


def _split(x: np.ndarray) -> np.ndarray:
    """Split each chain into halves (dropping the middle draw when the length is odd)."""
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, -half:]], axis=0)


def _rank_normalise(x: np.ndarray) -> np.ndarray:
    """Replace draws by normal scores of their pooled ranks (ties get average ranks)."""
    ranks = stats.rankdata(x, method="average").reshape(x.shape)
    return special.ndtri((ranks - 3 / 8) / (x.size + 1 / 4))


def integrated_autocorr_time(draws) -> float:
    """Integrated autocorrelation time ``tau = 1 + 2 sum_t rho_t`` over all chains.

    ``rho_t`` combines the within-chain autocovariances with the between-chain variance
    (Vehtari et al. 2021, eq. 10), and the sum is truncated by Geyer's initial monotone
    sequence: pairs ``rho_{2k} + rho_{2k+1}`` are summed while positive and forced to decrease.
    The effective sample size is ``chains * draws / tau``.

    Parameters
    ----------
    draws : array_like
        Draws of one scalar quantity, shape ``(chain, draw)``, or ``(draw,)`` for one chain.

    Returns
    -------
    float
        ``tau``, at least ``1 / log10(chains * draws)`` (Stan's floor, so the ESS stays finite).

    Raises
    ------
    ValueError
        ``draws`` is not 1-D or 2-D, has fewer than 4 draws per chain, contains NaN or infinite values,
        or has zero variance.

    References
    ----------
    Geyer, C. J. (1992). Practical Markov chain Monte Carlo. Statistical Science 7, 473-483.
    Vehtari et al. (2021), Bayesian Analysis 16, 667-718 (eq. 10).
    """
    x = _as_chains(draws)
    m, n = x.shape
    acov = _autocovariance(x)
    within = acov[:, 0].mean() * n / (n - 1)  # mean within-chain variance (ddof=1)
    var_plus = within * (n - 1) / n
    if m > 1:
        var_plus += x.mean(axis=1).var(ddof=1)
    if var_plus <= 0:
        raise ValueError("draws have zero variance: every draw is identical")
    rho = 1 - (within - acov.mean(axis=0)) / var_plus
    rho[0] = 1.0

    # Geyer's initial positive sequence: walk through pairs (rho[t+1], rho[t+2]), t = 1, 3, ...,
    # keeping each pair while its sum is positive. rho_hat holds the truncated autocorrelations.
    rho_hat = np.zeros(n)
    rho_hat[:2] = rho[:2]
    even, odd = 1.0, rho[1]
    t = 1
    while t < n - 3 and even + odd > 0:
        even, odd = rho[t + 1], rho[t + 2]
        if even + odd >= 0:
            rho_hat[t + 1], rho_hat[t + 2] = even, odd
        t += 2
    last = t - 2  # index of the last odd lag summed in full
    if even > 0:  # Stan's convention: the next positive even lag is counted once
        rho_hat[last + 1] = even
    # Geyer's initial monotone sequence: a pair may not exceed the pair before it.
    for t in range(1, last - 1, 2):
        if rho_hat[t + 1] + rho_hat[t + 2] > rho_hat[t - 1] + rho_hat[t]:
            rho_hat[t + 1] = rho_hat[t + 2] = (rho_hat[t - 1] + rho_hat[t]) / 2
    tau = -1 + 2 * rho_hat[: last + 1].sum() + rho_hat[last + 1]
    return float(max(tau, 1 / np.log10(m * n)))


def ess(draws) -> float:
    """Effective sample size of the mean (split chains, no rank normalisation).

    Parameters
    ----------
    draws : array_like
        Draws of one scalar quantity, shape ``(chain, draw)``, or ``(draw,)`` for one chain.

    Returns
    -------
    float
        ``chains * draws / tau`` of the split chains (see :func:`integrated_autocorr_time`).

    Raises
    ------
    ValueError
        ``draws`` is not 1-D or 2-D, has fewer than 4 draws per chain, or contains NaN or infinite values.

    See Also
    --------
    ess_bulk, ess_tail
    """
    x = _split(_as_chains(draws))
    return x.size / integrated_autocorr_time(x)


def ess_bulk(draws) -> float:
    """Bulk ESS: ESS of the rank-normalised split chains (Vehtari et al. 2021).

    Parameters
    ----------
    draws : array_like
        Draws of one scalar quantity, shape ``(chain, draw)``, or ``(draw,)`` for one chain.

    Returns
    -------
    float
        The effective sample size of the draws' normal scores; matches ``arviz.ess(method="bulk")``.

    Raises
    ------
    ValueError
        ``draws`` is not 1-D or 2-D, has fewer than 4 draws per chain, or contains NaN or infinite values.

    References
    ----------
    Vehtari, A., Gelman, A., Simpson, D., Carpenter, B., Bürkner, P.-C. (2021). Rank-normalization,
    folding, and localization: an improved R-hat for assessing convergence of MCMC. Bayesian Analysis 16,
    667-718.
    """
    x = _split(_as_chains(draws))
    return x.size / integrated_autocorr_time(_rank_normalise(x))


def ess_tail(draws, prob: float = 0.05) -> float:
    """Tail ESS: the smaller ESS of the indicators ``x <= q_prob`` and ``x <= q_{1-prob}``.

    Parameters
    ----------
    draws : array_like
        Draws of one scalar quantity, shape ``(chain, draw)``, or ``(draw,)`` for one chain.
    prob : float, default 0.05
        Tail probability: the quantiles ``q_prob`` and ``q_{1-prob}`` of the pooled draws.

    Returns
    -------
    float
        The smaller of the two indicators' ESS; NaN when both indicators are constant (a discrete
        quantity that nearly always takes one value has no tail to measure).

    Raises
    ------
    ValueError
        ``draws`` is not 1-D or 2-D, has fewer than 4 draws per chain, or contains NaN or infinite values.

    References
    ----------
    Vehtari, A., Gelman, A., Simpson, D., Carpenter, B., Bürkner, P.-C. (2021). Rank-normalization,
    folding, and localization: an improved R-hat for assessing convergence of MCMC. Bayesian Analysis 16,
    667-718.
    """
    x = _as_chains(draws)
    out = []
    for p in (prob, 1 - prob):
        indicator = _split((x <= np.quantile(x, p)).astype(float))
        if np.ptp(indicator) == 0:  # a discrete quantity whose tail is a tie: no tail to measure
            continue
        out.append(indicator.size / integrated_autocorr_time(indicator))
    return float(min(out)) if out else float("nan")


def _plain_rhat(x: np.ndarray) -> float:
    n = x.shape[1]
    between = n * x.mean(axis=1).var(ddof=1)
    within = x.var(axis=1, ddof=1).mean()
    return float(np.sqrt((between / within + n - 1) / n))


def rhat(draws) -> float:
    """Rank-normalised split R-hat: the larger of the bulk R-hat and the folded (tail) R-hat.

    Parameters
    ----------
    draws : array_like
        Draws ``(chain, draw)`` of one scalar quantity, or ``(draw,)``; each chain is split in halves,
        and the halves are compared.

    Returns
    -------
    float
        R-hat; values above 1.01 suggest the chains have not mixed.

    Raises
    ------
    ValueError
        ``draws`` is not 1-D or 2-D, has fewer than 4 draws per chain, or contains NaN or infinite values.

    References
    ----------
    Vehtari, A., Gelman, A., Simpson, D., Carpenter, B., Bürkner, P.-C. (2021). Rank-normalization,
    folding, and localization: an improved R-hat for assessing convergence of MCMC. Bayesian Analysis 16,
    667-718.
    """
    x = _as_chains(draws)
    bulk = _plain_rhat(_rank_normalise(_split(x)))
    folded = np.abs(x - np.median(x))
    tail = _plain_rhat(_rank_normalise(_split(folded)))
    return max(bulk, tail)


def mcse_mean(draws) -> float:
    """Monte Carlo standard error of the mean: ``sd / sqrt(ESS)``.

    Parameters
    ----------
    draws : array_like
        Draws of one scalar quantity, shape ``(chain, draw)``, or ``(draw,)`` for one chain.

    Returns
    -------
    float
        The pooled sd (ddof=1) divided by the square root of :func:`ess`.

    Raises
    ------
    ValueError
        ``draws`` is not 1-D or 2-D, has fewer than 4 draws per chain, or contains NaN or infinite values.
    """
    x = _as_chains(draws)
    return float(x.std(ddof=1) / np.sqrt(ess(x)))


def mcse_sd(draws, ess_override: float | None = None) -> float:
    """Monte Carlo standard error of the sd, by the delta method on the variance.

    The variance is the mean of ``d = (x - mean)^2``; its MCSE is ``sd(d) / sqrt(ESS of d)``, and
    ``sd = sqrt(var)`` turns that into ``MCSE(var) / (2 sd)``.

    Parameters
    ----------
    draws : array_like
        Draws of one scalar quantity, shape ``(chain, draw)``, or ``(draw,)`` for one chain.
    ess_override : float, optional
        Replaces the ESS of ``d`` (for draws resampled from importance weights, whose ESS is Kish's).

    Returns
    -------
    float
        The Monte Carlo standard error of the sd.

    Raises
    ------
    ValueError
        ``draws`` is not 1-D or 2-D, has fewer than 4 draws per chain, or contains NaN or infinite values.
    """
    x = _as_chains(draws)
    sq = (x - x.mean()) ** 2
    n_eff = ess(sq) if ess_override is None else float(ess_override)
    var = sq.mean()
    return float(np.sqrt(sq.var() / n_eff / (4 * var)))


def summary(idata: az.InferenceData, var_names: list[str] | None = None) -> pd.DataFrame:
    """Mean, sd, their MCSEs, bulk/tail ESS and R-hat of every scalar coordinate of ``idata.posterior``.

    Parameters
    ----------
    idata : arviz.InferenceData
        A result with a ``posterior`` group of dims ``(chain, draw, ...)``.
    var_names : list of str, optional
        Variables to summarise; default: all of the posterior's.

    Returns
    -------
    pandas.DataFrame
        One row per scalar coordinate (labels such as ``"w[3]"``), columns ``mean``, ``sd``, ``mcse_mean``,
        ``mcse_sd``, ``ess_bulk``, ``ess_tail``, ``r_hat``. A constant quantity gets NaN for the MCSEs, ESS
        and R-hat (they are undefined), and R-hat is NaN with a single chain.
    """
    rows = {}
    post = idata.posterior
    for name in var_names or list(post.data_vars):
        values = post[name].values
        flat = values.reshape(values.shape[0], values.shape[1], -1)
        shape = values.shape[2:]
        for k, idx in enumerate(np.ndindex(*shape) if shape else [()]):
            label = name if not shape else f"{name}[{','.join(map(str, idx))}]"
            x = flat[:, :, k]
            constant = np.ptp(x) == 0
            rows[label] = {
                "mean": x.mean(),
                "sd": x.std(ddof=1),
                "mcse_mean": np.nan if constant else mcse_mean(x),
                "mcse_sd": np.nan if constant else mcse_sd(x),
                "ess_bulk": np.nan if constant else ess_bulk(x),
                "ess_tail": np.nan if constant else ess_tail(x),
                "r_hat": np.nan if constant or x.shape[0] < 2 else rhat(x),
            }
    import pandas as pd

    return pd.DataFrame.from_dict(rows, orient="index")
