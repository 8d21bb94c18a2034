"""Engines ``"advi"`` and ``"fullrank_advi"``: automatic differentiation variational inference.

``pm.fit`` maximises the ELBO over a Gaussian family on the unconstrained space (mean-field: a
diagonal covariance; full-rank: a full one); the result holds draws from the fitted approximation,
the final ELBO (mean of the last 10% of iterations) and its history, and the fitted Gaussian itself
on the unconstrained space: ``attrs["q_names"]`` (e.g. ``"sigma_log__"``), ``attrs["q_mean"]`` and
``attrs["q_cov"]`` (diagonal for mean-field).

References
----------
Kucukelbir, A., Tran, D., Ranganath, R., Gelman, A., Blei, D. M. (2017). Automatic differentiation
variational inference. JMLR 18, 1-45.
"""

from __future__ import annotations

import time

import numpy as np

from bayeskit._checks import seed_for_attrs

from bayeskit.engines import require_continuous, require_pymc


def run(problem, draws, chains=None, seed=None, progressbar=True, method="advi", n=20000, obj_n_mc=1,
        learning_rate=0.01, average_fraction=0.2, **fit_kwargs):
    """Options: ``n`` optimisation steps (default 20000), ``obj_n_mc`` Monte Carlo draws per ELBO
    gradient (more draws: less noisy gradients), ``learning_rate`` for Adam (default 0.01; PyMC's
    own default, adagrad_window at 0.001, had not converged after 20000 steps on the gift model),
    ``average_fraction`` (default 0.2): the fitted Gaussian's parameters are averaged over the last
    20% of the iterations (Polyak averaging; 0 keeps PyMC's last iterate, which jitters with the
    stochastic gradients: by up to 2.7 posterior sds on a minibatched regression), other ``pm.fit``
    keywords (e.g. ``obj_optimizer``, ``callbacks``)."""
    import pymc as pm

    require_pymc(problem, method)
    require_continuous(problem, method)
    if chains not in (None, 1):
        raise ValueError(f"{method} draws from one fitted approximation: chains must be 1 or None, got {chains}")
    if not 0 <= average_fraction < 1:
        raise ValueError(f"average_fraction must be in [0, 1), got {average_fraction}")
    fit_kwargs.setdefault("obj_optimizer", pm.adam(learning_rate=learning_rate))
    averager = _ParameterAverage(first=int(n * (1 - average_fraction))) if average_fraction > 0 else None
    callbacks = list(fit_kwargs.pop("callbacks", None) or []) + ([averager] if averager else [])
    started = time.perf_counter()
    with problem.pymc_model:
        approx = pm.fit(n=n, method=method, random_seed=seed, progressbar=progressbar,
                        obj_n_mc=obj_n_mc, callbacks=callbacks, **fit_kwargs)
    if averager is not None:
        averager.apply(approx)
    fit_time = time.perf_counter() - started
    q_names, q_mean, q_cov = _fitted_gaussian(approx)
    idata = approx.sample(draws, random_seed=seed, return_inferencedata=True)
    wall = time.perf_counter() - started
    elbo = -np.asarray(approx.hist, float)
    tail = elbo[-max(1, len(elbo) // 10):]
    out = idata.__class__(posterior=idata.posterior[list(problem.layout.names)])
    out.attrs.update({
        "engine": method, "seed": seed_for_attrs(seed), "wall_time_s": wall,
        "fit_time_s": fit_time, "n_evaluations": int(len(elbo) * obj_n_mc), "iterations": int(len(elbo)),
        "elbo_final": float(np.mean(tail)), "elbo_final_sd": float(np.std(tail)), "elbo_history": elbo,
        "q_names": q_names, "q_mean": q_mean, "q_cov": q_cov,
    })
    return out


class _ParameterAverage:
    """``pm.fit`` callback: running sums of the approximation's parameters from iteration ``first`` on;
    ``apply`` sets the parameters to their averages."""

    def __init__(self, first: int):
        self.first, self.sums, self.count = first, None, 0

    def __call__(self, approx, losses, i) -> None:
        if i >= self.first:
            values = [p.get_value() for p in approx.params]
            self.sums = values if self.sums is None else [s + v for s, v in zip(self.sums, values)]
            self.count += 1

    def apply(self, approx) -> None:
        if self.count:
            for param, total in zip(approx.params, self.sums):
                param.set_value(total / self.count)


def _fitted_gaussian(approx) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Names of the unconstrained coordinates (``name`` or ``name[i]``), mean and covariance of the fitted q."""
    (group,) = approx.groups
    names = []
    for name, (_, where, shape, _) in group.ordering.items():
        size = where.stop - where.start
        names += [name] if shape == () else [f"{name}[{i}]" for i in range(size)]
    return names, np.asarray(approx.mean.eval(), float), np.atleast_2d(np.asarray(approx.cov.eval(), float))
