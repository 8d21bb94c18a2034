"""Two posteriordb models ported to PyMC, with the Stan developers' reference posteriors.

Ported from the mathematical specification of the Stan programs at posteriordb commit
28f8d3d6e975315f42aa274a8399f21e07a43b30 (BSD-3-Clause); the data and reference summaries are in
``data/posteriordb`` (see ``data/README.md``). posteriordb indexes vectors from 1 (``theta[1]``);
bayeskit labels them from 0 (``theta[0]``).
"""

from __future__ import annotations

import re

import numpy as np

from bayeskit import data
from bayeskit.exact import Reference

__all__ = ["eight_schools_noncentered", "kidscore_momiq", "posteriordb_reference"]


def eight_schools_noncentered():
    """theta_tilde_j ~ N(0, 1), mu ~ N(0, 5), tau ~ half-Cauchy(0, 5), theta = mu + tau theta_tilde,
    y_j ~ N(theta_j, sigma_j). theta is a Deterministic (the reference reports theta)."""
    import pymc as pm

    d = data.load("eight_schools")
    with pm.Model(name="") as model:
        mu = pm.Normal("mu", 0.0, 5.0)
        tau = pm.HalfCauchy("tau", 5.0)
        theta_tilde = pm.Normal("theta_tilde", 0.0, 1.0, shape=d["J"])
        theta = pm.Deterministic("theta", mu + tau * theta_tilde)
        pm.Normal("y", theta, np.asarray(d["sigma"], float), observed=np.asarray(d["y"], float))
    return model


def kidscore_momiq():
    """kid_score ~ N(beta[0] + beta[1] mom_iq, sigma); beta flat (improper); sigma ~ half-Cauchy(0, 2.5)."""
    import pymc as pm

    d = data.load("kidiq")
    with pm.Model() as model:
        beta = pm.Flat("beta", shape=2)
        sigma = pm.HalfCauchy("sigma", 2.5)
        mean = beta[0] + beta[1] * np.asarray(d["mom_iq"], float)
        pm.Normal("kid_score", mean, sigma, observed=np.asarray(d["kid_score"], float))
    return model


def posteriordb_reference(name: str) -> tuple[Reference, dict[str, float]]:
    """Reference means and sds (labels indexed from 0) and posteriordb's MCSE of each mean.

    ``name`` is ``"eight_schools"`` or ``"kidiq"``.
    """
    summary = data.load(f"{name}_reference")["parameters"]
    means, sds, mcse = {}, {}, {}
    for label, stats in summary.items():
        ours = re.sub(r"\[(\d+)\]", lambda m: f"[{int(m.group(1)) - 1}]", label)
        means[ours], sds[ours], mcse[ours] = stats["mean"], stats["sd"], stats["pdb_mcse_mean"]
    return Reference(means, sds), mcse
