"""From-scratch samplers: random-walk Metropolis (:mod:`~bayeskit.samplers.metropolis`), static HMC
(:mod:`~bayeskit.samplers.hmc`) and NUTS (:mod:`~bayeskit.samplers.nuts`), with the warm-up schedules the
gradient-based ones share (:mod:`~bayeskit.samplers.adaptation`).

``bayeskit.samplers.hmc`` and ``bayeskit.samplers.nuts`` stay modules here (their kernels, ``init``,
``step``, ``leapfrog``, ``build_tree``, are read and used one by one); the drivers are
``bayeskit.samplers.hmc.hmc`` and ``bayeskit.samplers.nuts.nuts``.
"""

from bayeskit.samplers import adaptation, hmc, nuts
from bayeskit.samplers.hmc import HMCState, Metric
from bayeskit.samplers.metropolis import MetropolisState, init, metropolis, step

__all__ = ["HMCState", "MetropolisState", "Metric", "adaptation", "hmc", "init", "metropolis", "nuts", "step"]
