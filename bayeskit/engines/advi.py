"""Engines ``"advi"`` and ``"fullrank_advi"``: automatic differentiation variational inference.

``pm.fit`` maximises the ELBO over a Gaussian family on the unconstrained space (mean-field: a
diagonal covariance; full-rank: a full one); the result holds draws from the fitted approximation,
the final ELBO (mean of the last 10% of iterations) and its history, and the fitted Gaussian itself
on the unconstrained space: ``attrs["q_names"]`` (e.g. ``"sigma_log__"``), ``attrs["q_mean"]`` and
``attrs["q_cov"]`` (diagonal for mean-field).

Options (declared in :mod:`bayeskit.engines.registry`): ``n`` optimisation steps (default 20000),
``obj_n_mc`` Monte Carlo draws per ELBO gradient (more draws: less noisy gradients), ``learning_rate`` for
Adam (default 0.01; PyMC's own default, adagrad_window at 0.001, had not converged after 20000 steps on the
gift model), ``average_fraction`` (default 0.2): the fitted Gaussian's parameters are averaged over the last
20% of the iterations (Polyak averaging; 0 keeps PyMC's last iterate, which jitters with the stochastic
gradients: by up to 2.7 posterior sds on a minibatched regression), and the other ``pm.fit`` keywords
(e.g. ``obj_optimizer``, ``callbacks``).

Convergence check
-----------------
Stochastic optimisation stops after ``n`` steps whether or not it has arrived, so every fit is checked, in the
spirit of PyMC's ``CheckParametersConvergence`` callback (parameter change) but on the posterior's scale. The
averaging window (the last ``average_fraction`` of the iterations, or the last 20% when ``average_fraction=0``)
is cut into :data:`N_BATCHES` batches; for every unconstrained coordinate, the fitted Gaussian's mean and sd at
each batch's average parameters give two series. For each series:

* ``moved``: the change between the averages over the first and the second half of the window, in units of
  the fitted sd;
* ``z``: the same change in units of its own noise, estimated from the batch-to-batch differences (von Neumann's
  estimator; a steady trend inflates it only by its small per-batch step, so a pure linear trend gives z = 31).

The fit has not converged if its final ELBO is not finite, if the window is too short to check (fewer than 4
batches), or if some series shows

* a large move that is not noise: ``moved > MOVE_THRESHOLD`` (0.25) and ``z > MOVE_Z`` (4), or
* a steady trend that matters: ``z > TREND_Z`` (15) and ``moved > TREND_MIN_MOVE`` (0.02).

The thresholds come from measured fits (``draws=10``, defaults unless stated; "error" is the fitted mean's
distance from the exact posterior mean in posterior sds)::

    =====================================================  ============  ===========  =========================
    fits                                                   max moved     max z        error
    =====================================================  ============  ===========  =========================
    converged: 4 gifts, 10 gifts, normal (200 rows), 6-d     0.076         12.7         <= 0.04
    regression; both methods, n=20000, 3-8 seeds each
    converged, noisy: notebook 06's minibatch regression      0.34          1.4 (mean)   0.07
    6-d regression, full-rank, n=300 (sds 11x too wide)     0.05-0.13     19-33        11-12 (sigma 12-19, not 1.1)
    4 gifts, full-rank, n=500                                 0.03-0.07     18-32        0.7-0.8
    intercept and slope correlated -0.99995 (alpha's prior    0.34-3.5      30-32        6.4-6.7 (alpha -2 to 0
    sd 100), mean-field n=5000 and 20000 (default)                                                against -66)
    the same, full-rank, n=5000                               0.05-0.08     28-31        6.6-7.6
    =====================================================  ============  ===========  =========================

A move alone is not enough, in either direction: a full-rank fit that is still far too wide moves by only a few
hundredths of its (too large) sd per half-window, and a minibatch fit jitters by a third of an sd without a
trend. Slow creeps in between (e.g. full-rank on 4 gifts at n=2000, whose sds of a thin direction were still
20% small) are caught only when steady enough (2 of 4 seeds). A failed check emits a
:class:`~bayeskit.engines.record.ConvergenceWarning` (a UserWarning) saying what moved, by how much and what to
do; ``attrs["converged"]``, ``attrs["drift"]`` (the largest ``moved``), ``attrs["convergence_statistics"]``
and ``attrs["warnings"]`` record the outcome.

References
----------
Kucukelbir, A., Tran, D., Ranganath, R., Gelman, A., Blei, D. M. (2017). Automatic differentiation
variational inference. JMLR 18, 1-45.
Polyak, B. T., Juditsky, A. B. (1992). Acceleration of stochastic approximation by averaging.
SIAM J. Control Optim. 30, 838-855.
"""

from __future__ import annotations

import time

import numpy as np

from bayeskit.engines.record import ConvergenceWarning, pymc_progress_logs

#: Batches the averaging window is split into (10 per half) to measure the noise of the half-window averages.
N_BATCHES = 20

#: A move between the half-window averages larger than this many fitted sds, and more than MOVE_Z times its own
#: noise, means "not converged". Converged fits moved by at most 0.076 at the default n=20000, and up to 0.18 at
#: n=2000 (a shorter window jitters more); 0.25 clears both.
MOVE_THRESHOLD = 0.25

#: ... unless the move is noise: notebook 06's minibatch fit (accurate to 0.07 sd) moved by 0.34 sd at z = 1.4.
MOVE_Z = 4.0

#: A move of more than this many times its own noise (z) is a steady trend: "not converged" when it also exceeds
#: TREND_MIN_MOVE fitted sds. Converged fits at the default n=20000 reached z = 12.7 at most (a full-rank factor
#: creeping by 0.04 sd); the unconverged reproduction cases 17.7 to 33 (a pure linear trend gives about 31).
TREND_Z = 15.0

#: Moves smaller than this many fitted sds do not matter, however steady.
TREND_MIN_MOVE = 0.02

#: The window checked when average_fraction is 0 (no averaging): the last 20% of the iterations.
CHECK_FRACTION = 0.2


def run(problem, record, *, draws, chains, seed, progressbar, n, obj_n_mc, learning_rate, average_fraction,
        log_likelihood=None, **fit_kwargs):
    """Run ``pm.fit`` and draw from the fitted Gaussian; called by :func:`bayeskit.sample`."""
    import pymc as pm

    method = record.engine
    own_optimizer = "obj_optimizer" in fit_kwargs
    fit_kwargs.setdefault("obj_optimizer", pm.adam(learning_rate=learning_rate))
    window = _WindowAverages(first=int(n * (1 - (average_fraction if average_fraction > 0 else CHECK_FRACTION))), last=n,
                             n_batches=N_BATCHES)
    callbacks = list(fit_kwargs.pop("callbacks", None) or []) + [window]
    started = time.perf_counter()
    with problem.pymc_model, pymc_progress_logs(progressbar):
        approx = pm.fit(n=n, method=method, random_seed=seed, progressbar=progressbar,
                        obj_n_mc=obj_n_mc, callbacks=callbacks, **fit_kwargs)
    gaussian = _gaussian_function(approx)
    batches = window.batch_gaussians(approx, gaussian)
    if average_fraction > 0:
        window.apply(approx)
    fit_time = time.perf_counter() - started
    q_names = _coordinate_names(approx)
    q_mean, q_cov = (np.asarray(v, float) for v in gaussian())
    q_cov = np.atleast_2d(q_cov)
    idata = approx.sample(draws, random_seed=seed, return_inferencedata=True)
    elbo = -np.asarray(approx.hist, float)
    tail = elbo[-max(1, len(elbo) // 10):]
    elbo_final = float(np.mean(tail))
    stats = convergence_statistics(batches, np.sqrt(np.diag(q_cov))) if batches is not None else None
    converged, drift, message = _check_convergence(method, n, learning_rate, own_optimizer, q_names, q_cov,
                                                  batches, stats, window.size, elbo_final)
    if message:
        record.warn(message, ConvergenceWarning)
    record.set_evaluations(int(len(elbo) * obj_n_mc))
    from bayeskit.results import complete_pymc_inference_data

    out = complete_pymc_inference_data(problem, idata.__class__(posterior=idata.posterior[list(problem.layout.names)]),
                                       log_likelihood=log_likelihood)
    out.attrs.update({
        "fit_time_s": fit_time, "iterations": int(len(elbo)), "converged": converged, "drift": drift,
        "convergence_statistics": stats,
        "elbo_final": elbo_final, "elbo_final_sd": float(np.std(tail)), "elbo_history": elbo,
        "q_names": q_names, "q_mean": q_mean, "q_cov": q_cov,
    })
    return out


class _WindowAverages:
    """``pm.fit`` callback: running sums of the approximation's parameters over iterations ``first..last``
    (PyMC numbers iterations from 1), in total and over ``n_batches`` consecutive batches of that window.

    ``apply`` sets the parameters to their averages over the whole window (Polyak averaging);
    ``batch_gaussians`` gives the fitted Gaussian's mean and sd at each batch's averages (for the convergence check).
    """

    def __init__(self, first: int, last: int, n_batches: int = 20):
        self.first, self.size_planned = first, max(last - first + 1, 0)
        self.n_batches = max(1, min(n_batches, self.size_planned // 2))
        self.sums, self.count = None, 0
        self.batch_sums, self.batch_counts = [None] * self.n_batches, [0] * self.n_batches

    @property
    def size(self) -> int:
        return self.count

    def __call__(self, approx, losses, i) -> None:
        if i >= self.first:
            values = [p.get_value() for p in approx.params]
            self.sums = values if self.sums is None else [s + v for s, v in zip(self.sums, values)]
            self.count += 1
            b = min((i - self.first) * self.n_batches // max(self.size_planned, 1), self.n_batches - 1)
            sums = self.batch_sums[b]
            self.batch_sums[b] = [v.copy() for v in values] if sums is None else [s + v for s, v in zip(sums, values)]
            self.batch_counts[b] += 1

    def apply(self, approx) -> None:
        if self.count:
            for param, total in zip(approx.params, self.sums):
                param.set_value(total / self.count)

    def batch_gaussians(self, approx, gaussian) -> tuple[np.ndarray, np.ndarray] | None:
        """Means and sds ``(n_batches, ndim)`` of the Gaussians at each batch's average parameters, or None with
        fewer than 4 non-empty batches. Leaves the parameters as they were."""
        filled = [b for b in range(self.n_batches) if self.batch_counts[b]]
        if len(filled) < 4:
            return None
        current = [p.get_value() for p in approx.params]
        means, sds = [], []
        for b in filled:
            for param, total in zip(approx.params, self.batch_sums[b]):
                param.set_value(total / self.batch_counts[b])
            mean, cov = gaussian()
            means.append(np.asarray(mean, float))
            sds.append(np.sqrt(np.diag(np.atleast_2d(cov))))
        for param, value in zip(approx.params, current):
            param.set_value(value)
        return np.array(means), np.array(sds)


def convergence_statistics(batches, sd) -> dict[str, np.ndarray]:
    """Per coordinate, for the mean and the sd of the fitted Gaussian (``batches`` = (means, sds) per batch):
    ``moved``, the change between the averages over the first and the second half of the window in units of the
    fitted ``sd``, and ``z``, that change in units of its own noise, estimated from successive differences of the
    batch values (von Neumann's estimate, which a steady trend inflates only by its small per-batch step)."""
    out = {}
    for what, x in zip(("mean", "sd"), batches):
        k = len(x) // 2
        change = x[len(x) - k:].mean(axis=0) - x[:k].mean(axis=0)
        batch_var = np.sum(np.diff(x, axis=0) ** 2, axis=0) / (2 * (len(x) - 1))
        se = np.sqrt(batch_var * 2 / k)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{what}_moved"] = np.abs(change) / sd
            out[f"{what}_z"] = np.abs(change) / se
    return out


def _check_convergence(method, n, learning_rate, own_optimizer, q_names, q_cov, batches, stats, window_size, elbo_final):
    """``(converged, drift, message)``: the rule of the module docstring; message is None when converged."""
    rate = "the optimiser's learning rate" if own_optimizer else f"learning_rate (now {learning_rate})"
    advice = (f"Its means and sds are unreliable. Run more iterations (e.g. n={4 * n}), or change {rate}: larger if "
              "the fit creeps steadily in one direction, smaller if the ELBO history jumps about. Strongly correlated "
              "parameters (e.g. an intercept with an uncentred predictor) slow ADVI down: reparameterise if you can.")
    if not np.isfinite(elbo_final):
        return False, None, (
            f"{method} has not converged after n={n} iterations: its final ELBO is {elbo_final} (not finite), the "
            f"optimisation diverged. Lower {rate}, or give the parameters a scale near 1; do not use this fit."
        )
    if batches is None:
        return False, None, (
            f"{method} has not converged after n={n} iterations: the last {window_size} iterations are too few to "
            "tell whether the fit has settled (the check compares the averages over the first and the second half "
            f"of the averaging window, in {N_BATCHES} batches). Run more iterations (n of several thousand)."
        )
    means, sds = batches
    k = len(means) // 2
    halves = {"mean": (means[:k].mean(0), means[-k:].mean(0)), "sd": (sds[:k].mean(0), sds[-k:].mean(0))}
    sd = np.sqrt(np.diag(q_cov))
    moved = np.stack([stats["mean_moved"], stats["sd_moved"]])  # (2, ndim)
    z = np.stack([stats["mean_z"], stats["sd_z"]])
    if not np.all(np.isfinite(moved)):
        j = int(np.flatnonzero(~np.isfinite(moved).all(axis=0))[0])
        return False, None, (
            f"{method} has not converged after n={n} iterations: the fitted Gaussian of {q_names[j]} is not finite "
            f"(mean {halves['mean'][1][j]}, sd {halves['sd'][1][j]}). Lower {rate}; do not use this fit."
        )
    drift = float(moved.max())
    z = np.nan_to_num(z, nan=0.0, posinf=np.inf)
    jumped = (moved > MOVE_THRESHOLD) & (z > MOVE_Z)
    trending = (z > TREND_Z) & (moved > TREND_MIN_MOVE)
    if not (jumped.any() or trending.any()):
        return True, drift, None
    if jumped.any():
        i, j = np.unravel_index(int(np.argmax(np.where(jumped, moved, -1))), moved.shape)
        how = f"{z[i, j]:.0f} times its own batch-to-batch noise; a converged fit moves by less than {MOVE_THRESHOLD}"
    else:
        i, j = np.unravel_index(int(np.argmax(np.where(trending, moved, -1))), moved.shape)
        how = (f"{z[i, j]:.0f} times its own batch-to-batch noise: a steady trend, the fit is still on its way")
    what = ("mean", "sd")[i]
    before, after = halves[what][0][j], halves[what][1][j]
    return False, drift, (
        f"{method} has not converged after n={n} iterations: between the first and the second half of the last "
        f"{window_size} iterations the fitted Gaussian's {what} of {q_names[j]} moved from {before:.4g} to {after:.4g}, "
        f"{moved[i, j]:.2g} of its sd {sd[j]:.3g} ({how}). {advice}"
    )


def _gaussian_function(approx):
    """A compiled function of no arguments returning the fitted Gaussian's mean and covariance."""
    import pytensor

    return pytensor.function([], [approx.mean, approx.cov])


def _coordinate_names(approx) -> list[str]:
    """Names of the unconstrained coordinates (``name`` or ``name[i]``)."""
    (group,) = approx.groups
    names = []
    for name, (_, where, shape, _) in group.ordering.items():
        size = where.stop - where.start
        names += [name] if shape == () else [f"{name}[{i}]" for i in range(size)]
    return names
