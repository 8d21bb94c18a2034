"""The engine registry: what each engine is, what it accepts, and the checks every run goes through.

Each engine declares itself once, here, as an :class:`Engine`: its name, where its run function lives,
whether it accepts discrete parameters and minibatch models, whether it needs the PyMC model, whether
it has a warm-up (``tune``), a fixed number of chains, its default number of draws, whether it needs an
int seed, and its options (:class:`Option`: name, default, one-line doc, and a check of the value).
:func:`bayeskit.sample` reads these declarations to refuse bad input the same way on every engine
(:meth:`Engine.prepare`), so no engine module repeats those checks.

Options that wrap a library (``pm.sample``, ``pm.fit``, UltraNest's ``run``) are read from the
library's own signatures and docstrings when first needed, so the list follows the installed version
and ``import bayeskit`` does not import the libraries.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import inspect
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from bayeskit._checks import check_positive_int, check_seed, int_seed

__all__ = ["ENGINES", "Engine", "Option", "get_engine"]


@dataclass(frozen=True)
class Option:
    """One engine option.

    Attributes
    ----------
    name, default, doc
        The keyword, its default, and one line saying what it does.
    check
        ``check(name, value) -> value``: validates (raises a clear error) and may normalise a value given
        by the user; None when the engine or the wrapped library checks it.
    passthrough
        True for a keyword handed to the wrapped library only when the user gives it (its default is the
        library's own, shown for information); False for bayeskit's own options, whose default is filled in.
    """

    name: str
    default: Any
    doc: str
    check: Callable[[str, Any], Any] | None = None
    passthrough: bool = False


@dataclass(frozen=True)
class Engine:
    """What one engine is and what it accepts.

    Attributes
    ----------
    name
        The name given to :func:`bayeskit.sample`.
    run
        ``"module:function"`` of the run function, called as
        ``run(problem, record, draws=, chains=, seed=, progressbar=, **options)`` with every own option filled in.
    summary
        One line: what the engine does.
    discrete, minibatch, needs_pymc, has_tune
        Accepts discrete parameters; accepts models with ``pm.Minibatch`` likelihoods; runs the PyMC model
        behind the Problem; has a warm-up phase (then ``tune`` is one of its options).
    chains
        A fixed number of chains (with the reason, ``chains_reason``), or None: any number.
    default_draws
        Draws per chain when ``draws=None``; None means the engine decides (see its module).
    needs_int_seed
        The wrapped library takes only an int seed: a Generator or SeedSequence gives one draw from it.
    make_options
        Zero-argument function returning the options, called once on first use.
    install_hint
        What to install when the engine's library is missing.
    """

    name: str
    run: str
    summary: str
    discrete: bool
    minibatch: bool
    needs_pymc: bool
    has_tune: bool
    chains: int | None
    default_draws: int | None
    needs_int_seed: bool
    make_options: Callable[[], tuple[Option, ...]]
    chains_reason: str = ""
    install_hint: str = ""
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def options(self) -> dict[str, Option]:
        """``{name: Option}``, sorted by name."""
        if "options" not in self._cache:
            self._cache["options"] = {o.name: o for o in sorted(self.make_options(), key=lambda o: o.name)}
        return self._cache["options"]

    def load(self) -> Callable:
        """The run function (imports the engine's module and its library)."""
        module_name, _, function = self.run.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ImportError(f"engine {self.name!r} needs a package that is not installed ({exc}). {self.install_hint}") from exc
        return getattr(module, function)

    def describe(self) -> str:
        """A short text: what the engine is and its options, one line each."""
        lines = [f"{self.name}: {self.summary}"]
        lines += [f"  {o.name} = {o.default!r}: {o.doc}" for o in self.options.values()]
        return "\n".join(lines)

    # ------------------------------------------------------------------------------------------------ checks
    def prepare(self, problem, draws, chains, seed, options: Mapping[str, Any]) -> dict[str, Any]:
        """Check a call of this engine and return the keyword arguments of its run function.

        Raises
        ------
        TypeError, ValueError
            For a bad seed, draws, chains or option value; for an option the engine does not have (naming the
            valid ones, with a "did you mean"); for a model the engine cannot run (discrete parameters,
            minibatches, no PyMC model).
        """
        check_seed(seed)
        draws = self.default_draws if draws is None else check_positive_int("draws", draws)
        if chains is not None:
            chains = check_positive_int("chains", chains)
            if self.chains is not None and chains != self.chains:
                raise ValueError(f"engine {self.name!r} {self.chains_reason}: chains must be {self.chains} or None, got {chains}")
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            raise ValueError(self._unknown_message(unknown))
        values = {}
        for name, option in self.options.items():
            if name in options:
                value = options[name]
                none_ok = value is None and (option.default is None or option.passthrough)
                values[name] = option.check(name, value) if option.check is not None and not none_ok else value
            elif not option.passthrough:
                values[name] = option.default
        self._check_model(problem)
        return dict(draws=draws, chains=chains, seed=int_seed(seed) if self.needs_int_seed else seed, **values)

    def _unknown_message(self, unknown: list[str]) -> str:
        parts = []
        for name in unknown:
            if name in _SAMPLE_ARGUMENTS:
                hint = f"pass it as sample({_SAMPLE_ARGUMENTS[name]}=...)"
            elif name == "tune" and not self.has_tune:
                hint = "it has no warm-up"
            else:
                close = difflib.get_close_matches(name, list(self.options), n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}?" if close else ""
            parts.append(f"{name!r}" + (f" ({hint})" if hint else ""))
        return (f"engine {self.name!r} has no option {', '.join(parts)}; "
                f"its options are: {', '.join(self.options)}")

    def _check_model(self, problem) -> None:
        if self.needs_pymc and getattr(problem, "pymc_model", None) is None:
            raise ValueError(
                f"engine {self.name!r} runs the PyMC model behind the Problem; build it with Problem.from_pymc(model)"
            )
        if not self.discrete and any(problem.layout.discrete):
            discrete = [n for n, d in zip(problem.layout.names, problem.layout.discrete) if d]
            raise ValueError(
                f"engine {self.name!r} needs continuous parameters, but {discrete} are discrete. "
                "Marginalise them out of the model (sum over their values, e.g. with logsumexp), "
                f"or use engine {_either(n for n, e in ENGINES.items() if e.discrete)}, which handle discrete parameters."
            )
        if not self.minibatch and _uses_minibatches(problem):
            able = _either(n for n, e in ENGINES.items() if e.minibatch)
            raise ValueError(
                f"this model's likelihood sees random minibatches (pm.Minibatch), which only stochastic optimisation "
                f"({able}) can use; {self.name!r} needs the likelihood of all the data: build the model "
                "without minibatches"
            )


#: sample()'s own arguments under the names engines' libraries give them: pointed to, not suggested by spelling.
_SAMPLE_ARGUMENTS = {"random_seed": "seed", "rng": "seed", "random_state": "seed", "nwalkers": "chains",
                     "walkers": "chains", "n_walkers": "chains", "num_chains": "chains", "nsteps": "draws",
                     "num_samples": "draws", "samples": "draws"}


def _either(names) -> str:
    """``'a', 'b' or 'c'``."""
    quoted = [repr(n) for n in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def _uses_minibatches(problem) -> bool:
    model = getattr(problem, "pymc_model", None)
    if model is None:
        return False
    from pymc.variational.minibatch_rv import MinibatchRandomVariable

    return any(isinstance(rv.owner.op, MinibatchRandomVariable) for rv in model.observed_RVs)


def get_engine(name) -> Engine:
    """The declaration of engine ``name``; ValueError naming the known engines otherwise."""
    if not isinstance(name, str) or name not in ENGINES:
        close = difflib.get_close_matches(name, list(ENGINES), n=1) if isinstance(name, str) else []
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown engine {name!r}{hint}; expected one of {sorted(ENGINES)}")
    return ENGINES[name]


# ---------------------------------------------------------------------------------------------- value checks
def non_negative_int(name: str, value) -> int:
    return check_positive_int(name, value, minimum=0)


def positive_int(name: str, value) -> int:
    return check_positive_int(name, value)


def positive_float(name: str, value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a positive number, got {value!r} ({type(value).__name__})")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value}")
    return float(value)


def fraction(name: str, value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number in [0, 1), got {value!r} ({type(value).__name__})")
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return float(value)


def _callable(name: str, value):
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {type(value).__name__}")
    return value


def _boolean(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")
    return bool(value)


def _region_batch(name: str, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer or None (UltraNest's adaptive batches), got {value!r}")
    return int(value)


def _slice_steps(name: str, value):
    if value is None or value == "auto":
        return value
    return check_positive_int(name, value)


# ---------------------------------------------------------------------------------------------- derived options
def _param_docs(*functions) -> dict[str, str]:
    """First sentence of each parameter's description in the Parameters and Other Parameters sections of
    numpydoc-style docstrings (parameter lines ``name``, ``name : type``, ``name: type`` or ``a, b``)."""
    docs: dict[str, str] = {}
    for function in functions:
        lines = (inspect.getdoc(function) or "").splitlines()
        in_parameters = False
        for i, line in enumerate(lines):
            following = lines[i + 1].strip() if i + 1 < len(lines) else ""
            if line.strip() and re.fullmatch(r"-{3,}", following):  # a section header
                in_parameters = line.strip() in ("Parameters", "Other Parameters")
                continue
            match = re.match(r"^(\w+(?:\s*,\s*\w+)*)\s*(?::.*)?$", line) if in_parameters else None
            if not match:
                continue
            body = []
            for text in lines[i + 1:]:
                if text and not text[0].isspace():
                    break
                if not text.strip() and body:
                    break
                body.append(text.strip())
            sentence = re.split(r"(?<=[.;])\s+(?=[A-Z])", " ".join(b for b in body if b), maxsplit=1)[0]
            for name in re.split(r"\s*,\s*", match.group(1)):
                docs.setdefault(name, sentence.rstrip(".;") or "see its docstring")
    return docs


def _signature_options(functions, exclude, docs, library: str) -> list[Option]:
    """Passthrough options from the named keyword parameters of ``functions`` (first one wins)."""
    seen, options = set(exclude), []
    for function in functions:
        for p in inspect.signature(function).parameters.values():
            if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) or p.name in seen or p.name == "self":
                continue
            seen.add(p.name)
            default = None if p.default is inspect.Parameter.empty else p.default
            options.append(Option(p.name, default, f"{library}: {docs.get(p.name, 'see its docstring')}",
                                  passthrough=True))
    return options


def _pool(name: str, value):
    from bayeskit.engines.parallel import check_pool

    return check_pool(name, value)


def _space(name: str, value) -> str:
    if value not in ("unconstrained", "constrained"):
        raise ValueError(f"{name} must be 'unconstrained' or 'constrained', got {value!r}")
    return value


def _space_option() -> Option:
    return Option("space", "unconstrained", "where the walk moves: 'unconstrained' (PyMC's value variables, the "
                                            "default) or 'constrained' (the parameters themselves; refused when a "
                                            "constraint lives only in a transform, e.g. ordered or a simplex)", _space)


def _log_likelihood_option() -> Option:
    return Option("log_likelihood", None, "store the pointwise log-likelihood (None: yes, unless chains * draws * "
                                          "observations > 2e7; True: always; False: never)", _boolean)


def _metropolis_options() -> tuple[Option, ...]:
    from bayeskit.samplers.metropolis import metropolis

    docs = _param_docs(metropolis)
    own = (
        Option("tune", None, "warm-up steps per chain, discarded (None: as many as draws)", non_negative_int),
        Option("initial", None, "starting points (chains, ndim), or (ndim,) shared by all chains; "
                                "None: spread over the central half of the prior"),
        _space_option(),
        _log_likelihood_option(),
    )
    # the sampler's own keywords, except those the engine sets from the Problem
    derived = [Option(p.name, p.default, docs.get(p.name, ""))
               for p in inspect.signature(metropolis).parameters.values()
               if p.kind is p.KEYWORD_ONLY and p.name not in ("integer", "var_names", "layout", "progressbar")]
    return own + tuple(derived)


def _emcee_options() -> tuple[Option, ...]:
    return (
        Option("tune", None, "burn-in steps per walker, discarded (None: as many as draws)", non_negative_int),
        Option("initial", None, "starting points (walkers, ndim), distinct and spread in every direction; "
                                "None: spread over the central half of the prior"),
        Option("moves", None, "an emcee move or list of (move, weight); None: emcee's stretch move"),
        Option("pool", None, "evaluate the walkers on a pool's workers (anything with map: multiprocessing.Pool, a "
                             "concurrent.futures or mpi4py.futures executor); None: in this process", _pool),
        _space_option(),
        _log_likelihood_option(),
    )


#: NUTS keywords bk.sample does not take: the variables and the model come from the Problem, the rng from the seed.
_NUTS_RESERVED = {"vars", "model", "blocked", "initial_point", "rng"}


@functools.cache
def pymc_nuts_keywords() -> frozenset[str]:
    """The keywords of PyMC's NUTS step (its own and BaseHMC's) that ``pm.sample`` forwards to it."""
    from pymc.step_methods.hmc.base_hmc import BaseHMC
    from pymc.step_methods.hmc.nuts import NUTS

    names = {p.name for f in (NUTS.__init__, BaseHMC.__init__) for p in inspect.signature(f).parameters.values()
             if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and p.name != "self"}
    return frozenset(names - _NUTS_RESERVED)


def _pymc_options() -> tuple[Option, ...]:
    import pymc as pm
    from pymc.step_methods.hmc.base_hmc import BaseHMC
    from pymc.step_methods.hmc.nuts import NUTS

    own = [
        Option("tune", None, "warm-up steps per chain, discarded (None: as many as draws)", non_negative_int),
        Option("step_factory", None, "callable returning PyMC step method(s), called inside the model context, "
                                     "e.g. lambda: pm.Metropolis()", _callable),
        _log_likelihood_option(),
        Option("cores", 1, "pm.sample: processes (bayeskit's default 1: reproducible, no process start-up)"),
        Option("compute_convergence_checks", True, "pm.sample: run PyMC's convergence checks (divergences, tree "
                                                   "depth, R-hat, ESS), log them and record them in attrs", _boolean),
    ]
    # set by bk.sample or by this engine: not options
    reserved = {o.name for o in own} | {"draws", "chains", "random_seed", "progressbar", "step", "model",
                                         "discard_tuned_samples", "return_inferencedata"} | _NUTS_RESERVED
    docs = _param_docs(pm.sample, NUTS.__init__, BaseHMC.__init__)
    derived = _signature_options([pm.sample], reserved, docs, "pm.sample")
    derived += _signature_options([NUTS.__init__, BaseHMC.__init__], reserved | {o.name for o in derived}, docs,
                                  "pm.sample -> NUTS")
    # pm.sample also takes settings per step method as dicts, keyed by the method's name (e.g. nuts={...})
    step_keys = [Option(method.name, None, f"pm.sample: keyword arguments for PyMC's {method.__name__} step method",
                        passthrough=True) for method in pm.STEP_METHODS]
    return tuple(own + derived + step_keys)


def _advi_options() -> tuple[Option, ...]:
    import pymc as pm
    from pymc.variational.inference import Inference
    from pymc.variational.opvi import ObjectiveFunction

    own = [
        Option("n", 20000, "optimisation steps", positive_int),
        Option("obj_n_mc", 1, "Monte Carlo draws per ELBO gradient (more: less noisy gradients)", positive_int),
        Option("learning_rate", 0.01, "Adam's learning rate", positive_float),
        Option("average_fraction", 0.2, "average the fitted Gaussian's parameters over this last fraction of the "
                                        "iterations (0: PyMC's last iterate)", fraction),
        _log_likelihood_option(),
    ]
    reserved = {o.name for o in own} | {"method", "model", "random_seed", "progressbar"}
    docs = _param_docs(pm.fit, Inference.fit, ObjectiveFunction.step_function)
    derived = _signature_options([pm.fit, Inference.fit, ObjectiveFunction.step_function], reserved, docs, "pm.fit")
    derived = [Option(o.name, None, "pm.fit: the optimiser of the ELBO (default here: pm.adam(learning_rate=learning_rate))",
                      passthrough=True) if o.name == "obj_optimizer" else o for o in derived]
    return tuple(own + derived)


def _fullrank_advi_options() -> tuple[Option, ...]:
    return tuple(o for o in _advi_options() if o.name != "start_sigma")  # pm.fit: "only available for method advi"


def _ultranest_options() -> tuple[Option, ...]:
    import ultranest

    own = [
        Option("min_num_live_points", 400, "minimum number of live points", positive_int),
        Option("log_dir", None, "write UltraNest's files (results, plots, logs) to this folder (None: no files)"),
        Option("vectorized", True, "call the likelihood on batches of points (False: one at a time)", _boolean),
        Option("slice_steps", "auto", "population slice sampling with this many steps instead of region sampling "
                                      "('auto': 4 * ndim steps when ndim > 5; None: never)", _slice_steps),
        Option("region_batch", 128, "candidates drawn per batch in region sampling (None: UltraNest's adaptive "
                                    "batches, which depend on the machine's speed)", _region_batch),
        _log_likelihood_option(),
    ]
    reserved = {o.name for o in own} | {"show_status", "viz_callback"}
    run = ultranest.ReactiveNestedSampler.run
    return tuple(own + _signature_options([run], reserved, _param_docs(run), "ReactiveNestedSampler.run"))


def _open_fraction(name: str, value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number in (0, 1), got {value!r} ({type(value).__name__})")
    if not 0 < value < 1:
        raise ValueError(f"{name} must be in (0, 1), got {value}")
    return float(value)


def _non_negative_float(name: str, value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a non-negative number, got {value!r} ({type(value).__name__})")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a non-negative finite number, got {value}")
    return float(value)


def _mass_matrix(name: str, value) -> str:
    if value not in ("diag", "dense"):
        raise ValueError(f"{name} must be 'diag' (one variance per coordinate) or 'dense' (the full covariance), "
                         f"got {value!r}")
    return value


def _gradient_options() -> tuple[Option, ...]:
    """Options shared by the from-scratch gradient engines (hmc, nuts)."""
    return (
        Option("tune", None, "warm-up transitions per chain, discarded; step size and mass matrix adapt "
                             "(None: as many as draws)", non_negative_int),
        Option("initial", None, "starting points (chains, ndim) or (ndim,) on the constrained space; None: the "
                                "model's initial point jittered (see init_jitter)"),
        Option("init_jitter", 1.0, "without initial: start each chain at the model's initial point plus U(-a, a) "
                                   "on the unconstrained space (PyMC's jitter+adapt_diag uses a = 1)",
               _non_negative_float),
        Option("target_accept", 0.8, "mean acceptance statistic the step size is adapted to (Stan's adapt_delta); "
                                     "higher: smaller steps, fewer divergences", _open_fraction),
        Option("mass_matrix", "diag", "inverse mass matrix learned in Stan's warm-up windows: 'diag' (variances) or "
                                      "'dense' (full covariance, for correlated posteriors)", _mass_matrix),
        Option("step_size", None, "first step size (None: Stan's heuristic); with tune=0 the one used",
               positive_float),
        _log_likelihood_option(),
    )


def _hmc_options() -> tuple[Option, ...]:
    return _gradient_options() + (
        Option("n_steps", None, "leapfrog steps per transition (give this or path_length)", positive_int),
        Option("path_length", None, "integration time per transition, n_steps = ceil(path_length / step_size) "
                                    "(None: 2.0, PyMC's, unless n_steps is given)", positive_float),
        Option("jitter", 0.0, "multiply the number of steps by U(1 - jitter, 1 + jitter) each transition, "
                              "which breaks the resonance of a fixed path", fraction),
        Option("max_steps", 1024, "cap on leapfrog steps per transition (PyMC's)", positive_int),
    )


def _nuts_options() -> tuple[Option, ...]:
    return _gradient_options() + (
        Option("max_treedepth", 10, "at most 2**max_treedepth - 1 leapfrog steps per transition (Stan's and "
                                    "PyMC's 10)", positive_int),
    )


def _external_nuts_common() -> list[Option]:
    """Options of PyMC's external NUTS engines (nutpie, numpyro, blackjax) that bayeskit fills in."""
    return [
        Option("tune", None, "warm-up steps per chain, discarded (None: as many as draws)", non_negative_int),
        Option("target_accept", 0.8, "mean acceptance statistic the step size is adapted to (PyMC's 0.8)",
               _open_fraction),
        _log_likelihood_option(),
        Option("compute_convergence_checks", True, "run PyMC's convergence checks (divergences, tree depth, R-hat, "
                                                   "ESS), log them and record them in attrs", _boolean),
    ]


def _nutpie_options() -> tuple[Option, ...]:
    from bayeskit.engines.external_nuts import require

    nutpie = require("nutpie")
    own = _external_nuts_common()
    # set by bk.sample or by the engine: not options
    reserved = {o.name for o in own} | {"compiled_model", "draws", "chains", "seed", "progress_bar", "save_warmup",
                                         "return_raw_trace", "blocking", "zarr_store", "model", "var_names",
                                         "initial_points", "freeze_model", "progress_template", "progress_style",
                                         "progress_rate"}
    docs = _param_docs(nutpie.sample, nutpie.compile_pymc_model)
    derived = _signature_options([nutpie.compile_pymc_model], reserved | {"jitter_rvs",
                                                                          "default_initialization_strategy"},
                                 docs, "nutpie.compile_pymc_model")
    derived = [o for o in derived if o.name in ("backend", "gradient_backend")]
    derived += _signature_options([nutpie.sample], reserved | {o.name for o in derived}, docs, "nutpie.sample")
    return tuple(own + derived)


def _jax_nuts_options(sampler: str) -> tuple[Option, ...]:
    from bayeskit.engines.external_nuts import require

    require(sampler)
    from pymc.sampling.jax import sample_jax_nuts

    own = _external_nuts_common() + [
        Option("initvals", None, "pm.sample: starting values, a dict {name: value} or one per chain", passthrough=True),
    ]
    # set by bk.sample or by the engine, or would make the result incomplete (var_names, keep_untransformed)
    reserved = {o.name for o in own} | {"draws", "chains", "random_seed", "progressbar", "quiet", "model",
                                         "var_names", "keep_untransformed", "idata_kwargs", "nuts_sampler",
                                         "postprocessing_chunks", "postprocessing_vectorize"}
    docs = _param_docs(sample_jax_nuts)
    return tuple(own + _signature_options([sample_jax_nuts], reserved, docs, "pymc.sampling.jax.sample_jax_nuts"))


ENGINES: dict[str, Engine] = {
    "metropolis": Engine(
        "metropolis", "bayeskit.engines.metropolis:run", "from-scratch adaptive random-walk Metropolis",
        discrete=True, minibatch=False, needs_pymc=False, has_tune=True, chains=None, default_draws=1000,
        needs_int_seed=False, make_options=_metropolis_options),
    "emcee": Engine(
        "emcee", "bayeskit.engines.emcee:run", "emcee's affine-invariant ensemble sampler (walkers are chains)",
        discrete=False, minibatch=False, needs_pymc=False, has_tune=True, chains=None, default_draws=1000,
        needs_int_seed=False, make_options=_emcee_options, install_hint="Install it with: pip install emcee"),
    "pymc": Engine(
        "pymc", "bayeskit.engines.pymc:run", "pm.sample: NUTS, or a compound step with discrete parameters",
        discrete=True, minibatch=False, needs_pymc=True, has_tune=True, chains=None, default_draws=1000,
        needs_int_seed=True, make_options=_pymc_options, install_hint="Install it with: pip install pymc"),
    "ultranest": Engine(
        "ultranest", "bayeskit.engines.ultranest:run", "UltraNest's nested sampling: posterior and log-evidence",
        discrete=True, minibatch=False, needs_pymc=False, has_tune=False, chains=1, default_draws=None,
        needs_int_seed=True, make_options=_ultranest_options,
        chains_reason="produces one set of equally weighted samples",
        install_hint="Install it with: pip install ultranest"),
    "advi": Engine(
        "advi", "bayeskit.engines.advi:run", "pm.fit: mean-field ADVI, draws from the fitted Gaussian",
        discrete=False, minibatch=True, needs_pymc=True, has_tune=False, chains=1, default_draws=1000,
        needs_int_seed=True, make_options=_advi_options,
        chains_reason="draws from one fitted approximation", install_hint="Install it with: pip install pymc"),
    "fullrank_advi": Engine(
        "fullrank_advi", "bayeskit.engines.advi:run", "pm.fit: full-rank ADVI, draws from the fitted Gaussian",
        discrete=False, minibatch=True, needs_pymc=True, has_tune=False, chains=1, default_draws=1000,
        needs_int_seed=True, make_options=_fullrank_advi_options,
        chains_reason="draws from one fitted approximation", install_hint="Install it with: pip install pymc"),
    "hmc": Engine(
        "hmc", "bayeskit.engines.hmc:run_hmc", "from-scratch static-path Hamiltonian Monte Carlo (needs gradients)",
        discrete=False, minibatch=False, needs_pymc=False, has_tune=True, chains=None, default_draws=1000,
        needs_int_seed=False, make_options=_hmc_options),
    "nuts": Engine(
        "nuts", "bayeskit.engines.hmc:run_nuts", "from-scratch No-U-Turn sampler, Stan's multinomial variant "
                                                 "(needs gradients)",
        discrete=False, minibatch=False, needs_pymc=False, has_tune=True, chains=None, default_draws=1000,
        needs_int_seed=False, make_options=_nuts_options),
    # PyMC's external NUTS samplers (pm.sample(nuts_sampler=...)), optional extras
    "nutpie": Engine(
        "nutpie", "bayeskit.engines.external_nuts:run_nutpie", "pm.sample(nuts_sampler='nutpie'): nutpie's NUTS (Rust) "
                                                              "on the model compiled by numba",
        discrete=False, minibatch=False, needs_pymc=True, has_tune=True, chains=None, default_draws=1000,
        needs_int_seed=True, make_options=_nutpie_options,
        install_hint='Install it with: pip install -e ".[nutpie]" (or pip install nutpie)'),
    "numpyro": Engine(
        "numpyro", "bayeskit.engines.external_nuts:run_numpyro", "pm.sample(nuts_sampler='numpyro'): NumPyro's NUTS "
                                                                "on the model translated to JAX",
        discrete=False, minibatch=False, needs_pymc=True, has_tune=True, chains=None, default_draws=1000,
        needs_int_seed=True, make_options=functools.partial(_jax_nuts_options, "numpyro"),
        install_hint='Install it with: pip install -e ".[jax]" (or pip install numpyro)'),
    "blackjax": Engine(
        "blackjax", "bayeskit.engines.external_nuts:run_blackjax", "pm.sample(nuts_sampler='blackjax'): BlackJAX's "
                                                                  "NUTS on the model translated to JAX",
        discrete=False, minibatch=False, needs_pymc=True, has_tune=True, chains=None, default_draws=1000,
        needs_int_seed=True, make_options=functools.partial(_jax_nuts_options, "blackjax"),
        install_hint='Install it with: pip install -e ".[jax]" (or pip install blackjax)'),
}
