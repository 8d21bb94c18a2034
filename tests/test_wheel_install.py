"""bayeskit installs from a wheel: the data files ship as package data and load, checksums verified.

The test copies the sources (pyproject.toml, README.md, bayeskit/) to a temporary folder, builds the wheel
there with ``pip wheel --no-build-isolation`` (setuptools comes from the dev extra, so no download), installs
it with ``--no-deps --no-index`` into a fresh virtual environment created without pip, and runs Python there
from a folder outside the checkout. The fresh environment reuses the project environment's installed
dependencies (numpy, pandas, ...) through a ``.pth`` line naming that environment's site-packages: a plain
path line only appends to ``sys.path``, so the project's editable-install hook (which lives in a ``.pth``
file of that folder) is not run, and ``bayeskit`` can only come from the wheel. Everything is offline and
takes ~15 s; each run uses its own ``tmp_path``, so it is safe under pytest-xdist.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CHECK = """
import json, sys
import bayeskit
from bayeskit import data
loaded = {}
for name in data.available():
    value = data.load(name)
    loaded[name] = [type(value).__name__, len(value)]
print(json.dumps({"file": bayeskit.__file__, "data_dir": str(data.data_dir()), "loaded": loaded}))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    pytest.importorskip("setuptools", reason="building the wheel offline needs setuptools (pip install -e '.[dev]')")
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "bayeskit", src / "bayeskit", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("wheelhouse")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--wheel-dir", str(out), str(src)],
        check=True, cwd=src, env=_clean_env(),
    )
    (built,) = out.glob("bayeskit-*.whl")
    return built


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "BAYESKIT_DATA_DIR", "PYTHONHOME")}
    env.setdefault("MPLBACKEND", "Agg")
    return env


def test_wheel_holds_every_data_file_and_checksum(wheel):
    # catches: a data file (or SHA256SUMS) left out of [tool.setuptools.package-data]
    from bayeskit import data

    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"bayeskit/data/{file}" for file in data._FILES.values()} | {"bayeskit/data/SHA256SUMS"}
    assert expected <= names, sorted(expected - names)
    # catches: the repository-only generator script shipped (and importable, which would write a file)
    assert not [n for n in names if n.startswith("bayeskit/data/scripts/")]


def test_wheel_install_loads_every_data_set(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip())
    # the project's installed dependencies, without a network install (see the module docstring)
    (purelib / "_project_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index",
         str(wheel)],
        check=True, env=_clean_env(),
    )
    run_dir = tmp_path / "elsewhere"
    run_dir.mkdir()
    result = subprocess.run([str(python), "-c", CHECK], check=True, capture_output=True, text=True,
                            cwd=run_dir, env=_clean_env())
    report = json.loads(result.stdout.strip().splitlines()[-1])

    # catches: bayeskit imported from the checkout (editable hook, cwd or PYTHONPATH) instead of the wheel
    installed = Path(report["file"]).resolve()
    assert installed.is_relative_to(purelib.resolve()), installed
    assert not installed.is_relative_to(ROOT), installed
    assert Path(report["data_dir"]).resolve().is_relative_to(purelib.resolve())

    # catches: a data set missing from the install or failing its checksum there (load raises DataError)
    from bayeskit import data

    assert sorted(report["loaded"]) == data.available()
    # regression check: each installed data set has the same type and length as in the checkout
    for name, (kind, size) in report["loaded"].items():
        value = data.load(name)
        assert [kind, size] == [type(value).__name__, len(value)], name
