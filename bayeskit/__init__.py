"""bayeskit: the shared pieces of a hands-on course in Bayesian computation.

* :class:`Problem`, the one model interface every engine consumes (from PyMC or from scratch);
* :func:`metropolis`, a from-scratch vectorised, adaptive random-walk Metropolis sampler;
* :func:`hmc` and :func:`nuts`, from-scratch Hamiltonian Monte Carlo and the No-U-Turn sampler with Stan's warm-up;
* :func:`sample`, one call to run a Problem on any registered engine (from-scratch Metropolis, HMC and NUTS,
  emcee, PyMC, nutpie, NumPyro, UltraNest, ADVI);
* :func:`compare`, engine-by-engine tables against exact references;
* modules :mod:`~bayeskit.diagnostics`, :mod:`~bayeskit.exact`, :mod:`~bayeskit.models`,
  :mod:`~bayeskit.data`, :mod:`~bayeskit.plots`, :mod:`~bayeskit.calibration`, :mod:`~bayeskit.segments`,
  :mod:`~bayeskit.vi` (variational inference from scratch), :mod:`~bayeskit.uq` (exact conjugate regression,
  aleatoric/epistemic decomposition, coverage curves).

``import bayeskit`` is light: the names above are loaded on first use (a module ``__getattr__``, PEP 562),
so ArviZ, matplotlib, PyMC and SciPy's statistics are imported only by the code that needs them.
``bayeskit.sample``, ``bayeskit.diagnostics`` and the rest work as attributes and with
``from bayeskit import ...``, as before.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# compare is also the name of a submodule: bound here, so that importing bayeskit.compare (which sets the
# package attribute to the module) can never shadow the function. bayeskit.compare imports only numpy.
from bayeskit.compare import compare

if TYPE_CHECKING:  # for type checkers and IDEs; at run time these come from __getattr__
    from bayeskit import calibration, data, diagnostics, exact, models, plots, segments, uq, vi
    from bayeskit.engines import sample
    from bayeskit.problem import Problem
    from bayeskit.samplers.hmc import hmc
    from bayeskit.samplers.metropolis import metropolis
    from bayeskit.samplers.nuts import nuts

__all__ = ["Problem", "calibration", "compare", "data", "diagnostics", "exact", "hmc", "metropolis", "models", "nuts", "plots", "sample", "segments", "uq", "vi"]
__version__ = "0.1.0"

# Besides __all__'s modules: engines, layout, problem and samplers, which `import bayeskit` used to import (so
# `bk.engines.ConvergenceWarning` keeps working).
_SUBMODULES = frozenset({"calibration", "data", "diagnostics", "engines", "exact", "layout", "models", "plots",
                         "problem", "samplers", "segments", "uq", "vi"})
# public name -> (module, attribute)
_OBJECTS = {
    "Problem": ("bayeskit.problem", "Problem"),
    "sample": ("bayeskit.engines", "sample"),
    "hmc": ("bayeskit.samplers.hmc", "hmc"),
    "metropolis": ("bayeskit.samplers.metropolis", "metropolis"),
    "nuts": ("bayeskit.samplers.nuts", "nuts"),
}


def __getattr__(name: str) -> Any:
    """Import a public submodule or object of bayeskit on first access (PEP 562)."""
    if name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    elif name in _OBJECTS:
        module, attribute = _OBJECTS[name]
        value = getattr(importlib.import_module(module), attribute)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later accesses skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
