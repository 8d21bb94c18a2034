"""``import bayeskit`` stays light: heavy dependencies are imported by the code that uses them.

These check the mechanism (which modules an import loads), not a timing; the time is measured in
benchmarks/import_time.py.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("arviz", "matplotlib", "pymc", "pytensor", "pandas", "scipy.stats", "xarray", "tqdm")


def _loaded_after(code: str) -> dict[str, bool]:
    """Which HEAVY modules are in sys.modules after running ``code`` in a fresh interpreter."""
    probe = f"import json, sys\n{code}\nprint(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_import_bayeskit_loads_no_heavy_dependency():
    # catches: a module-level `import arviz` (or matplotlib, pymc, pandas, ...) reachable from bayeskit/__init__
    loaded = _loaded_after("import bayeskit")
    assert not any(loaded.values()), {m for m, is_loaded in loaded.items() if is_loaded}


@pytest.mark.parametrize("code, light", [
    # catches: the from-scratch samplers, the sample() front end or the data loader pulling in ArviZ, PyMC or
    # matplotlib before they run
    ("import bayeskit as bk; bk.metropolis; bk.hmc; bk.nuts", ("arviz", "matplotlib", "pymc", "pandas")),
    ("import bayeskit as bk; bk.sample; bk.Problem", ("arviz", "matplotlib", "pymc", "pytensor", "pandas")),
    ("import bayeskit as bk; bk.data; bk.diagnostics; bk.plots", ("arviz", "matplotlib", "pymc", "pandas")),
])
def test_public_names_load_only_what_they_need(code, light):
    loaded = _loaded_after(code)
    assert not any(loaded[m] for m in light), {m for m in light if loaded[m]}


def test_public_names_resolve_lazily():
    # regression check: every name of __all__ is reachable as an attribute and by `from bayeskit import ...`,
    # and `compare` stays the function even after its submodule is imported
    import bayeskit

    compare_module = sys.modules["bayeskit.compare"]  # `import bayeskit.compare as m` would give the function
    namespace: dict = {}
    exec("from bayeskit import *", namespace)
    assert set(bayeskit.__all__) <= set(namespace)
    for name in bayeskit.__all__:
        assert getattr(bayeskit, name) is not None
        assert name in dir(bayeskit)
    assert callable(bayeskit.compare) and bayeskit.compare is compare_module.compare
    # the submodules `import bayeskit` used to import as a side effect stay reachable as attributes
    for name in ("engines", "layout", "problem", "samplers"):
        assert getattr(bayeskit, name) is sys.modules[f"bayeskit.{name}"]
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        bayeskit.not_a_name  # noqa: B018


def test_compare_function_survives_importing_its_module_first():
    # catches: `import bayeskit.compare` rebinding bayeskit.compare to the module in a fresh interpreter
    code = "import bayeskit.compare, bayeskit; print(callable(bayeskit.compare))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "True"
