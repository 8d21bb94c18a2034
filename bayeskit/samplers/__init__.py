"""From-scratch samplers."""

from bayeskit.samplers.metropolis import MetropolisState, init, metropolis, step

__all__ = ["MetropolisState", "init", "metropolis", "step"]
