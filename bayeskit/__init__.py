"""bayeskit: the shared pieces of a hands-on course in Bayesian computation.

* :class:`Problem`, the one model interface every engine consumes (from PyMC or from scratch);
* :func:`metropolis`, a from-scratch vectorised, adaptive random-walk Metropolis sampler;
* :func:`hmc` and :func:`nuts`, from-scratch Hamiltonian Monte Carlo and the No-U-Turn sampler with Stan's warm-up;
* :func:`sample`, one call to run a Problem on metropolis, emcee, PyMC, UltraNest or ADVI;
* :func:`compare`, engine-by-engine tables against exact references;
* modules :mod:`~bayeskit.diagnostics`, :mod:`~bayeskit.exact`, :mod:`~bayeskit.models`,
  :mod:`~bayeskit.data`, :mod:`~bayeskit.plots`, :mod:`~bayeskit.calibration`, :mod:`~bayeskit.segments`,
  :mod:`~bayeskit.vi` (variational inference from scratch).
"""

from bayeskit import calibration, data, diagnostics, exact, models, plots, segments, vi
from bayeskit.compare import compare
from bayeskit.engines import sample
from bayeskit.problem import Problem
from bayeskit.samplers.hmc import hmc
from bayeskit.samplers.metropolis import metropolis
from bayeskit.samplers.nuts import nuts

__all__ = ["Problem", "calibration", "compare", "data", "diagnostics", "exact", "hmc", "metropolis", "models", "nuts", "plots", "sample", "segments", "vi"]
__version__ = "0.1.0"
