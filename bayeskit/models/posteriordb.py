"""Eight posteriordb posteriors ported to PyMC, with the Stan developers' reference posteriors.

Ported from the mathematical specification of the Stan programs at posteriordb commit
28f8d3d6e975315f42aa274a8399f21e07a43b30 (BSD-3-Clause); the data and reference summaries are in
``data/posteriordb`` (see ``data/README.md``). Each function returns a fresh ``pm.Model``;
:data:`POSTERIORS` lists them under their data set's name, which :func:`posteriordb_reference` takes.

Stan semantics kept in the ports (they decide whether a port matches the reference):

* ``normal(m, s)`` and ``cauchy(m, s)`` take the sd / scale; ``gamma(a, b)`` is shape and **rate**; a
  ``<lower=0>`` parameter with a normal or Cauchy statement is half-normal / half-Cauchy.
* A parameter with no sampling statement has an improper prior, **flat on its constrained space**:
  ``pm.Flat`` on the real line, ``pm.HalfFlat`` on ``(0, inf)`` (flat in sigma, not in log sigma).
  Such posteriors (kidiq, earnings, mesquite, garch) have no prior transform, so nested sampling
  cannot run them; the others (eight_schools, arK, low_dim_gauss_mix, gp_pois_regr) have proper priors.
* Reported quantities are named as posteriordb reports them: ``theta`` (eight_schools) and ``f``
  (gp_pois_regr) are Deterministics of the non-centred parameters.
* posteriordb indexes vectors from 1 (``theta[1]``); bayeskit labels them from 0 (``theta[0]``), in
  the same order. Vector parameters carry named dims (``school``, ``term``, ``lag``, ...).

References
----------
Magnusson, M., Torgander, J., Bürkner, P.-C., Zhang, L., Carpenter, B., Vehtari, A. (2025).
posteriordb: testing, benchmarking and developing Bayesian inference algorithms. AISTATS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

from bayeskit import data
from bayeskit.exact import Reference

__all__ = [
    "POSTERIORS",
    "PosteriordbPosterior",
    "ark",
    "earn_height",
    "eight_schools_noncentered",
    "garch11",
    "gp_pois_regr",
    "kidscore_momiq",
    "logmesquite",
    "low_dim_gauss_mix",
    "posteriordb_reference",
]

#: Stan's ``gp_pois_regr`` adds this to the covariance's diagonal before the Cholesky factorisation.
GP_DIAGONAL_JITTER = 1e-10


def _vector(values) -> np.ndarray:
    return np.asarray(values, dtype=float)


def eight_schools_noncentered():
    """Eight schools, non-centred (Rubin 1981), with posteriordb's prior on ``mu``.

    ``theta_tilde_j ~ N(0, 1)``, ``mu ~ N(0, 5)``, ``tau ~ half-Cauchy(0, 5)``,
    ``theta_j = mu + tau theta_tilde_j``, ``y_j ~ N(theta_j, sigma_j)`` for the schools ``j = A..H``
    (``sigma_j`` known). ``theta`` is a Deterministic: the reference reports it, not ``theta_tilde``.
    posteriordb uses this posterior as the reference of the centred model too (same ``theta, mu, tau``).
    """
    import pymc as pm

    d = data.load("eight_schools")
    coords = {"school": list("ABCDEFGH")[: d["J"]]}
    with pm.Model(coords=coords) as model:
        mu = pm.Normal("mu", 0.0, 5.0)
        tau = pm.HalfCauchy("tau", 5.0)
        theta_tilde = pm.Normal("theta_tilde", 0.0, 1.0, dims="school")
        theta = pm.Deterministic("theta", mu + tau * theta_tilde, dims="school")
        pm.Normal("y", theta, _vector(d["sigma"]), observed=_vector(d["y"]), dims="school")
    return model


def kidscore_momiq():
    """Child's test score on mother's IQ (Gelman & Hill 2007), 434 children.

    ``kid_score_i ~ N(beta_0 + beta_1 mom_iq_i, sigma)``; ``beta`` flat (improper),
    ``sigma ~ half-Cauchy(0, 2.5)``.
    """
    import pymc as pm

    d = data.load("kidiq")
    coords = {"term": ["intercept", "mom_iq"], "child": np.arange(d["N"])}
    with pm.Model(coords=coords) as model:
        beta = pm.Flat("beta", dims="term")
        sigma = pm.HalfCauchy("sigma", 2.5)
        mean = beta[0] + beta[1] * _vector(d["mom_iq"])
        pm.Normal("kid_score", mean, sigma, observed=_vector(d["kid_score"]), dims="child")
    return model


def earn_height():
    """Earnings on height (Gelman & Hill 2007), 1192 people.

    ``earn_i ~ N(beta_0 + beta_1 height_i, sigma)``; ``beta`` and ``sigma > 0`` all flat (improper,
    flat in ``sigma``, not in ``log sigma``). The posterior is known in closed form (Student-t for
    ``beta``, scaled inverse chi-squared for ``sigma^2``).
    """
    import pymc as pm

    d = data.load("earnings")
    coords = {"term": ["intercept", "height"], "person": np.arange(d["N"])}
    with pm.Model(coords=coords) as model:
        beta = pm.Flat("beta", dims="term")
        sigma = pm.HalfFlat("sigma")
        mean = beta[0] + beta[1] * _vector(d["height"])
        pm.Normal("earn", mean, sigma, observed=_vector(d["earn"]), dims="person")
    return model


def _lagged(y: np.ndarray, lags: int) -> np.ndarray:
    """Rows ``t = lags .. T-1`` (0-based), columns ``y[t-1], ..., y[t-lags]``."""
    return np.column_stack([y[lags - k : len(y) - k] for k in range(1, lags + 1)])


def ark():
    """Autoregressive model of order K = 5 on a simulated series of T = 200 values.

    ``alpha ~ N(0, 10)``, ``beta_k ~ N(0, 10)`` (``k = 1..K``, dims ``lag``), ``sigma ~ half-Cauchy(0, 2.5)``;
    ``y_t ~ N(alpha + sum_k beta_k y_{t-k}, sigma)`` for ``t = K+1..T`` only (195 terms): the first K values
    are conditioned on, not modelled.
    """
    import pymc as pm

    d = data.load("arK")
    y, lags = _vector(d["y"]), int(d["K"])
    coords = {"lag": np.arange(1, lags + 1), "t": np.arange(lags + 1, len(y) + 1)}  # t as posteriordb counts it
    with pm.Model(coords=coords) as model:
        alpha = pm.Normal("alpha", 0.0, 10.0)
        beta = pm.Normal("beta", 0.0, 10.0, dims="lag")
        sigma = pm.HalfCauchy("sigma", 2.5)
        mean = alpha + pm.math.dot(_lagged(y, lags), beta)
        pm.Normal("y", mean, sigma, observed=y[lags:], dims="t")
    return model


def logmesquite():
    """Log weight of mesquite bushes (Gelman & Hill 2007), 46 bushes.

    ``log weight_i ~ N(beta_0 + beta_1 log diam1_i + beta_2 log diam2_i + beta_3 log canopy_height_i
    + beta_4 log total_height_i + beta_5 log density_i + beta_6 group_i, sigma)``; ``group`` (0/1) enters
    un-logged. ``beta`` and ``sigma > 0`` flat (improper). Closed-form posterior as for :func:`earn_height`.
    """
    import pymc as pm

    d = data.load("mesquite")
    logged = ["diam1", "diam2", "canopy_height", "total_height", "density"]
    X = np.column_stack([np.ones(d["N"])] + [np.log(_vector(d[c])) for c in logged] + [_vector(d["group"])])
    coords = {"term": ["intercept"] + [f"log_{c}" for c in logged] + ["group"], "bush": np.arange(d["N"])}
    with pm.Model(coords=coords) as model:
        beta = pm.Flat("beta", dims="term")
        sigma = pm.HalfFlat("sigma")
        pm.Normal("log_weight", pm.math.dot(X, beta), sigma, observed=np.log(_vector(d["weight"])), dims="bush")
    return model


def garch11():
    """GARCH(1, 1) volatility model (Bollerslev 1986) on a simulated series of T = 200 values.

    ``sigma_1 = sigma1`` (data, 0.5); ``sigma_t^2 = alpha0 + alpha1 (y_{t-1} - mu)^2 + beta1 sigma_{t-1}^2``
    for ``t = 2..T``; ``y_t ~ N(mu, sigma_t)`` for ``t = 1..T``. No prior statements, so the prior is flat on
    the constrained set ``{alpha0 > 0, 0 < alpha1 < 1, 0 < beta1 < 1 - alpha1}`` (improper in ``mu`` and
    ``alpha0``): jointly flat over the triangle of ``(alpha1, beta1)``.

    In PyMC: ``alpha1 ~ U(0, 1)`` and ``beta1 ~ U(0, 1 - alpha1)`` give the right support and transforms,
    but ``U(0, 1 - alpha1)`` has density ``1 / (1 - alpha1)``; the Potential ``triangle_flat``,
    ``+log(1 - alpha1)``, cancels it, so the joint density is flat as in Stan. (bayeskit counts a Potential
    with the likelihood; the posterior is what matters here, the prior being improper anyway.)

    The recursion is linear in ``s_t = sigma_t^2``: unrolled, ``s_t = beta1^(t-1) s_1 + sum_{j<t} beta1^(t-1-j) c_j``
    with ``c_j = alpha0 + alpha1 (y_j - mu)^2``, a convolution of the decays ``beta1^k`` with the innovations
    ``c``. Computed that way instead of with a ``scan``: the same numbers, a graph PyTensor vectorises over a
    batch of points, and a gradient 60 times cheaper than a (T, T) matrix of powers.
    """
    import pymc as pm
    import pytensor.tensor as pt
    from pytensor.tensor.signal import convolve1d

    d = data.load("garch")
    y, sigma1 = _vector(d["y"]), float(d["sigma1"])
    T = len(y)
    with pm.Model(coords={"t": np.arange(1, T + 1)}) as model:
        mu = pm.Flat("mu")
        alpha0 = pm.HalfFlat("alpha0")
        alpha1 = pm.Uniform("alpha1", 0.0, 1.0)
        beta1 = pm.Uniform("beta1", 0.0, 1.0 - alpha1)
        pm.Potential("triangle_flat", pt.log1p(-alpha1))
        decay = beta1 ** np.arange(T)  # beta1^k, k = 0..T-1
        innovations = alpha0 + alpha1 * (y[:-1] - mu) ** 2  # c_1 .. c_{T-1}
        carried = convolve1d(decay[: T - 1], innovations, mode="full")[: T - 1]  # sum_{j<t} beta1^(t-1-j) c_j
        s = decay * sigma1**2 + pt.concatenate([pt.zeros(1), carried])
        pm.Normal("y", mu, pt.sqrt(s), observed=y, dims="t")
    return model


def low_dim_gauss_mix():
    """Two-component normal mixture, 1000 simulated values.

    ``mu_k ~ N(0, 2)`` with ``mu_1 < mu_2`` (PyMC's ``ordered`` transform; without it the posterior has two
    modes, one per labelling), ``sigma_k ~ half-N(0, 2)``, ``theta ~ Beta(5, 5)``;
    ``y_n ~ theta N(mu_1, sigma_1) + (1 - theta) N(mu_2, sigma_2)``.

    The ordering lives only in the value transform, so there is no prior transform: nested sampling
    refuses this model (naming ``mu``).
    """
    import pymc as pm
    import pytensor.tensor as pt

    d = data.load("low_dim_gauss_mix")
    coords = {"component": [1, 2], "obs": np.arange(d["N"])}
    with pm.Model(coords=coords) as model:
        mu = pm.Normal("mu", 0.0, 2.0, dims="component", transform=pm.distributions.transforms.ordered,
                       initval=np.array([-1.0, 1.0]))
        sigma = pm.HalfNormal("sigma", 2.0, dims="component")
        theta = pm.Beta("theta", 5.0, 5.0)
        pm.NormalMixture("y", w=pt.stack([theta, 1.0 - theta]), mu=mu, sigma=sigma, observed=_vector(d["y"]),
                         dims="obs")
    return model


def gp_pois_regr():
    """Poisson regression on a latent Gaussian process, non-centred; 11 counts at x = -10, -8, ..., 10.

    ``rho ~ Gamma(shape 25, rate 4)``, ``alpha ~ half-N(0, 2)``, ``f_tilde ~ N(0, I)``;
    ``K_ij = alpha^2 exp(-(x_i - x_j)^2 / (2 rho^2)) + 1e-10 delta_ij``, ``f = chol(K) f_tilde``,
    ``k_i ~ Poisson(exp(f_i))``. ``f`` is a Deterministic: the reference reports it, not ``f_tilde``.
    """
    import pymc as pm
    import pytensor.tensor as pt

    d = data.load("gp_pois_regr")
    x = _vector(d["x"])
    sq_dist = (x[:, None] - x[None, :]) ** 2
    with pm.Model(coords={"x": x}) as model:
        rho = pm.Gamma("rho", alpha=25.0, beta=4.0)
        alpha = pm.HalfNormal("alpha", 2.0)
        f_tilde = pm.Normal("f_tilde", 0.0, 1.0, dims="x")
        cov = alpha**2 * pt.exp(-sq_dist / (2.0 * rho**2)) + GP_DIAGONAL_JITTER * np.eye(len(x))
        f = pm.Deterministic("f", pt.dot(pt.linalg.cholesky(cov), f_tilde), dims="x")
        pm.Poisson("k", pt.exp(f), observed=np.asarray(d["k"], dtype=np.int64), dims="x")
    return model


@dataclass(frozen=True)
class PosteriordbPosterior:
    """One ported posterior: posteriordb's name for it, and the function that builds the PyMC model.

    Parameters
    ----------
    posterior : str
        posteriordb's posterior name (``"<data>-<model>"``).
    model : callable
        Builds the PyMC model (no arguments).
    proper_prior : bool
        Whether every parameter has a proper prior (else no prior transform, no nested sampling).
    """

    posterior: str
    model: Callable
    proper_prior: bool


#: The ported posteriors, keyed by posteriordb's data set name (what :func:`posteriordb_reference` takes).
POSTERIORS: dict[str, PosteriordbPosterior] = {
    "eight_schools": PosteriordbPosterior("eight_schools-eight_schools_noncentered", eight_schools_noncentered, True),
    "kidiq": PosteriordbPosterior("kidiq-kidscore_momiq", kidscore_momiq, False),
    "earnings": PosteriordbPosterior("earnings-earn_height", earn_height, False),
    "arK": PosteriordbPosterior("arK-arK", ark, True),
    "mesquite": PosteriordbPosterior("mesquite-logmesquite", logmesquite, False),
    "garch": PosteriordbPosterior("garch-garch11", garch11, False),
    "low_dim_gauss_mix": PosteriordbPosterior("low_dim_gauss_mix-low_dim_gauss_mix", low_dim_gauss_mix, True),
    "gp_pois_regr": PosteriordbPosterior("gp_pois_regr-gp_pois_regr", gp_pois_regr, True),
}


def posteriordb_reference(name: str) -> tuple[Reference, dict[str, float]]:
    """Reference means and sds (labels indexed from 0) and posteriordb's MCSE of each mean.

    Parameters
    ----------
    name
        A key of :data:`POSTERIORS` (``"eight_schools"``, ``"kidiq"``, ``"earnings"``, ``"arK"``,
        ``"mesquite"``, ``"garch"``, ``"low_dim_gauss_mix"``, ``"gp_pois_regr"``), or posteriordb's
        full posterior name (``"kidiq-kidscore_momiq"``).

    Returns
    -------
    reference, mcse
        ``Reference`` with the means and sds of the 10 000 reference draws (Stan NUTS), and
        ``{label: pdb_mcse_mean}``, posteriordb's Monte Carlo standard error of each mean.

    Raises
    ------
    KeyError
        ``name`` is not one of the ported posteriors.
    """
    full = {p.posterior: key for key, p in POSTERIORS.items()}
    key = full.get(name, name)
    if key not in POSTERIORS:
        raise KeyError(f"unknown posteriordb posterior {name!r}; expected one of {sorted(POSTERIORS)} "
                       f"(or {sorted(full)})")
    summary = data.load(f"{key}_reference")["parameters"]
    means, sds, mcse = {}, {}, {}
    for label, stats in summary.items():
        ours = re.sub(r"\[(\d+)\]", lambda m: f"[{int(m.group(1)) - 1}]", label)
        means[ours], sds[ours], mcse[ours] = stats["mean"], stats["sd"], stats["pdb_mcse_mean"]
    return Reference(means, sds), mcse
