"""Switchpoint models in PyMC: a series changes its mean and spread (or its Poisson rate) at unknown times.

Conventions match :mod:`bayeskit.segments` (which gives their exact posteriors): the switchpoint is
uniform over the times ``t`` and a point belongs to the first segment while ``t <= s``.

* :func:`normal_switchpoint_model` - one change, with the switchpoint as a discrete parameter
  (PyMC samples it with Metropolis inside a compound step) or summed out (``marginalized=True``):
  ``log p(y | theta) = logsumexp_s [log p(s) + log p(y | s, theta)]``, a continuous model for NUTS
  and emcee. The summed-out model keeps ``switchpoint_log_weights`` (a Deterministic), from which
  :func:`switchpoint_conditional` gives ``p(s | theta, y)`` for each draw and :func:`switchpoint_pmf`
  their average, the posterior over ``s``.
* :func:`reversion_model` - two switchpoints ``s1 <= s2``; the series returns to its first state.
* :func:`poisson_switchpoint_model` - counts with a rate that changes (the coal-mining disasters).
* :func:`sigmoid_fit` - maximum likelihood with the step replaced by a sigmoid (a point estimate).
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["normal_switchpoint_model", "reversion_model", "poisson_switchpoint_model", "switchpoint_conditional",
           "switchpoint_pmf", "sigmoid_fit"]


def _series(t, y, counts=False):
    t, y = np.asarray(t), np.asarray(y, float)
    if t.ndim != 1 or y.shape != t.shape or len(t) < 2:
        raise ValueError(f"t and y must be 1-D of the same length >= 2, got shapes {t.shape} and {y.shape}")
    if not (np.issubdtype(t.dtype, np.integer) and np.all(np.diff(t) > 0)):
        raise ValueError("t must be strictly increasing integers")
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or inf")
    if counts and np.any((y < 0) | (y != np.round(y))):
        raise ValueError("counts must be non-negative integers")
    return t, y


def _segment_priors(labels, mu_mean, mu_sd, sigma_sd):
    """``mu_<label> ~ Normal(mu_mean, mu_sd)`` for each label, then ``sigma_<label> ~ HalfNormal(sigma_sd)``."""
    import pymc as pm

    mus = [pm.Normal(f"mu_{label}", mu_mean, mu_sd) for label in labels]
    sigmas = [pm.HalfNormal(f"sigma_{label}", sigma_sd) for label in labels]
    return mus, sigmas


def _marginalize(log_lik_first, log_lik_second, n_times):
    """Potential summing the switchpoint out. Pointwise log-likelihoods under each segment's
    parameters, ``(T,)`` each; weight of ``s = t[k]``: first segment ``y[:k+1]``, second the rest."""
    import pymc as pm
    import pytensor.tensor as pt

    first = pt.cumsum(log_lik_first)
    second = pt.sum(log_lik_second) - pt.cumsum(log_lik_second)
    log_weights = pm.Deterministic("switchpoint_log_weights", first + second - np.log(n_times))
    pm.Potential("switchpoint_summed_out", pm.math.logsumexp(log_weights))


def normal_switchpoint_model(t, y, mu_sd: float = 10.0, sigma_sd: float = 5.0, mu_mean: float = 0.0,
                             marginalized: bool = False):
    """One switchpoint in a normal series.

    ``mu_before, mu_after ~ Normal(mu_mean, mu_sd)``, ``sigma_* ~ HalfNormal(sigma_sd)``,
    ``switchpoint ~ DiscreteUniform(t[0], t[-1])``, ``y_t ~ Normal(mu, sigma)`` of its segment
    (``t <= switchpoint``: before).

    Parameters
    ----------
    t : array_like of int
        Times, strictly increasing integers (at least 2).
    y : array_like
        Finite observations at ``t``.
    mu_sd : float, default 10.0
        Prior sd of the segment means.
    sigma_sd : float, default 5.0
        Scale of the half-normal prior of the segment sds.
    mu_mean : float, default 0.0
        Prior mean of the segment means.
    marginalized : bool, default False
        Sum the switchpoint out (a ``pm.Potential``; the Deterministic ``switchpoint_log_weights`` keeps
        ``log p(s, y | theta)``), leaving only continuous parameters for NUTS or emcee.

    Returns
    -------
    pymc.Model

    Raises
    ------
    ValueError
        ``t`` and ``y`` not 1-D of the same length >= 2, ``t`` not strictly increasing integers, ``y`` not
        finite.

    See Also
    --------
    bayeskit.segments.one_switchpoint : the exact posterior of this model.
    """
    import pymc as pm

    t, y = _series(t, y)
    with pm.Model() as model:
        (mu_before, mu_after), (sigma_before, sigma_after) = _segment_priors(("before", "after"), mu_mean, mu_sd, sigma_sd)
        if marginalized:
            _marginalize(pm.logp(pm.Normal.dist(mu_before, sigma_before), y),
                         pm.logp(pm.Normal.dist(mu_after, sigma_after), y), len(t))
        else:
            s = pm.DiscreteUniform("switchpoint", lower=int(t[0]), upper=int(t[-1]))
            before = t <= s
            pm.Normal("y", mu=pm.math.switch(before, mu_before, mu_after),
                      sigma=pm.math.switch(before, sigma_before, sigma_after), observed=y)
    return model


def reversion_model(t, y, mu_sd: float = 10.0, sigma_sd: float = 5.0, mu_mean: float = 0.0):
    """Two switchpoints with reversion.

    ``switch_1 ~ DiscreteUniform(t[0], t[-1])``, ``switch_2 ~ DiscreteUniform(switch_1, t[-1])``; points with
    ``switch_1 < t <= switch_2`` follow ``(mu_episode, sigma_episode)``, all others ``(mu_base, sigma_base)``.

    Parameters
    ----------
    t : array_like of int
        Times, strictly increasing integers (at least 2).
    y : array_like
        Finite observations at ``t``.
    mu_sd : float, default 10.0
        Prior sd of the segment means.
    sigma_sd : float, default 5.0
        Scale of the half-normal prior of the segment sds.
    mu_mean : float, default 0.0
        Prior mean of the segment means.

    Returns
    -------
    pymc.Model

    Raises
    ------
    ValueError
        ``t`` and ``y`` not 1-D of the same length >= 2, ``t`` not strictly increasing integers, ``y`` not
        finite.

    See Also
    --------
    bayeskit.segments.two_switchpoints_reversion : the exact posterior of this model.
    """
    import pymc as pm

    t, y = _series(t, y)
    with pm.Model() as model:
        (mu_base, mu_episode), (sigma_base, sigma_episode) = _segment_priors(("base", "episode"), mu_mean, mu_sd, sigma_sd)
        s1 = pm.DiscreteUniform("switch_1", lower=int(t[0]), upper=int(t[-1]))
        s2 = pm.DiscreteUniform("switch_2", lower=s1, upper=int(t[-1]))
        episode = (t > s1) & (t <= s2)
        pm.Normal("y", mu=pm.math.switch(episode, mu_episode, mu_base),
                  sigma=pm.math.switch(episode, sigma_episode, sigma_base), observed=y)
    return model


def poisson_switchpoint_model(t, counts, rate_lam: float = 1.0, marginalized: bool = False):
    """One switchpoint in a series of counts (PyMC's coal-mining example, with today's API).

    ``rate_before, rate_after ~ Exponential(rate_lam)``, ``switchpoint ~ DiscreteUniform(t[0], t[-1])``,
    ``counts_t ~ Poisson(rate)`` of its segment.

    Parameters
    ----------
    t : array_like of int
        Times (e.g. years), strictly increasing integers.
    counts : array_like of int
        Non-negative counts at ``t``.
    rate_lam : float, default 1.0
        Rate of the exponential prior of the two rates.
    marginalized : bool, default False
        Sum the switchpoint out, as in :func:`normal_switchpoint_model`.

    Returns
    -------
    pymc.Model

    Raises
    ------
    ValueError
        Bad ``t``, or counts that are not non-negative integers.
    """
    import pymc as pm

    t, counts = _series(t, counts, counts=True)
    counts = counts.astype(int)
    with pm.Model() as model:
        rate_before = pm.Exponential("rate_before", rate_lam)
        rate_after = pm.Exponential("rate_after", rate_lam)
        if marginalized:
            _marginalize(pm.logp(pm.Poisson.dist(rate_before), counts),
                         pm.logp(pm.Poisson.dist(rate_after), counts), len(t))
        else:
            s = pm.DiscreteUniform("switchpoint", lower=int(t[0]), upper=int(t[-1]))
            pm.Poisson("counts", mu=pm.math.switch(t <= s, rate_before, rate_after), observed=counts)
    return model


def switchpoint_conditional(model, idata, t) -> np.ndarray:
    """``p(s | theta, y)`` for every draw of a ``marginalized=True`` model's continuous parameters (any engine).

    Its mean over draws is :func:`switchpoint_pmf`; the draws of one entry give that probability's Monte
    Carlo error.

    Parameters
    ----------
    model : pymc.Model
        Built with ``marginalized=True``.
    idata : arviz.InferenceData
        Posterior draws of the model's continuous parameters (``switchpoint_log_weights`` is computed if
        absent).
    t : array_like
        The model's times.

    Returns
    -------
    numpy.ndarray, shape (chain, draw, len(t))
        For each draw, probabilities summing to 1.

    Raises
    ------
    ValueError
        The model was not built with ``marginalized=True``, or ``t`` does not match it.
    """
    import pymc as pm
    from scipy import special

    if "switchpoint_log_weights" not in model.named_vars:
        raise ValueError("model must be built with marginalized=True")
    post = idata.posterior
    if "switchpoint_log_weights" not in post:
        post = pm.compute_deterministics(post[[v.name for v in model.free_RVs]], var_names=["switchpoint_log_weights"],
                                         model=model, progressbar=False)
    logw = post["switchpoint_log_weights"].values
    if logw.shape[-1] != len(t):
        raise ValueError(f"the model has {logw.shape[-1]} switchpoint values, t has {len(t)}")
    return np.exp(logw - special.logsumexp(logw, axis=-1, keepdims=True))


def switchpoint_pmf(model, idata, t) -> np.ndarray:
    """Posterior over the switchpoint of a ``marginalized=True`` model, from draws of its continuous parameters.

    The average over draws of ``p(s | theta, y)`` (Rao-Blackwellised, so far less noisy than a histogram of
    sampled switchpoints), from any engine.

    Parameters
    ----------
    model, idata, t
        As for :func:`switchpoint_conditional`.

    Returns
    -------
    numpy.ndarray, shape (len(t),)
        Probabilities of ``s = t``.

    Raises
    ------
    ValueError
        As :func:`switchpoint_conditional`.
    """
    return switchpoint_conditional(model, idata, t).reshape(-1, len(t)).mean(axis=0)


@functools.lru_cache(maxsize=8)
def _sigmoid_objective(width: float):
    """Compiled ``(theta, t, y) -> (-log-likelihood, -gradient)`` of the sigmoid step, one per width
    (compiled once and reused: the data are inputs, not constants)."""
    import pytensor
    import pytensor.tensor as pt

    theta, t, y = pt.vector("theta"), pt.vector("t"), pt.vector("y")
    tau, mu1, mu2, ls1, ls2 = (theta[i] for i in range(5))
    w = pt.sigmoid((t - tau) / width)
    mu = (1 - w) * mu1 + w * mu2
    log_sigma = (1 - w) * ls1 + w * ls2
    log_lik = pt.sum(-0.5 * np.log(2 * np.pi) - log_sigma - 0.5 * ((y - mu) / pt.exp(log_sigma)) ** 2)
    return pytensor.function([theta, t, y], [-log_lik, -pt.grad(log_lik, theta)])


def sigmoid_fit(t, y, tau0: float, width: float = 1.0, mu0=(0.0, 0.0), log_sigma0=(0.0, 0.0)) -> dict:
    """Maximum likelihood with the step replaced by a sigmoid.

    ``w(t) = 1 / (1 + exp(-(t - tau) / width))``, ``mu(t) = (1 - w) mu_1 + w mu_2`` and the same for
    ``log sigma``; L-BFGS from ``tau0`` with exact gradients (PyTensor).

    Parameters
    ----------
    t : array_like of int
        Times, strictly increasing integers (at least 2).
    y : array_like
        Finite observations at ``t``.
    tau0 : float
        Starting switch time.
    width : float, default 1.0
        Width of the sigmoid, positive.
    mu0 : pair of float, default (0.0, 0.0)
        Starting means.
    log_sigma0 : pair of float, default (0.0, 0.0)
        Starting log sds.

    Returns
    -------
    dict
        ``tau``, ``mu_1``, ``mu_2``, ``sigma_1``, ``sigma_2``, ``log_likelihood`` (at the optimum),
        ``converged``, ``iterations``, ``tau0``.

    Raises
    ------
    ValueError
        Bad series, or ``width`` not positive and finite.
    """
    from scipy import optimize

    t, y = _series(t, y)
    if not (np.isfinite(width) and width > 0):
        raise ValueError(f"width must be positive and finite, got {width!r}")
    f = _sigmoid_objective(float(width))
    tf, yf = t.astype(float), y.astype(float)
    start = np.array([tau0, mu0[0], mu0[1], log_sigma0[0], log_sigma0[1]], float)
    res = optimize.minimize(lambda x: tuple(np.asarray(v, float) for v in f(x, tf, yf)), start, jac=True,
                            method="L-BFGS-B")
    return {"tau": float(res.x[0]), "mu_1": float(res.x[1]), "mu_2": float(res.x[2]),
            "sigma_1": float(np.exp(res.x[3])), "sigma_2": float(np.exp(res.x[4])),
            "log_likelihood": float(-res.fun), "converged": bool(res.success), "iterations": int(res.nit),
            "tau0": float(tau0)}
