"""Load the project's small data files by name, verifying each against ``SHA256SUMS``.

The files are package data: they live in this package's folder (``bayeskit/data/``, with a README
saying where each came from) and are installed with the package, so :func:`load` works from a wheel
as well as from a source checkout. Nothing is downloaded at run time.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["DataError", "available", "data_dir", "load", "path"]

# name -> file, relative to the data folder
_FILES: dict[str, str] = {
    "coal_mining_disasters": "coal_mining_disasters.csv",
    "santa_gifts": "santa_gifts.json",
    "switchpoint_series": "switchpoint_series.csv",
    "evidence_references": "evidence_references.json",
    "eight_schools": "posteriordb/eight_schools.json",
    "eight_schools_reference": "posteriordb/eight_schools-eight_schools_noncentered.summary.json",
    "kidiq": "posteriordb/kidiq.json",
    "kidiq_reference": "posteriordb/kidiq-kidscore_momiq.summary.json",
    "earnings": "posteriordb/earnings.json",
    "earnings_reference": "posteriordb/earnings-earn_height.summary.json",
    "arK": "posteriordb/arK.json",
    "arK_reference": "posteriordb/arK-arK.summary.json",
    "mesquite": "posteriordb/mesquite.json",
    "mesquite_reference": "posteriordb/mesquite-logmesquite.summary.json",
    "garch": "posteriordb/garch.json",
    "garch_reference": "posteriordb/garch-garch11.summary.json",
    "low_dim_gauss_mix": "posteriordb/low_dim_gauss_mix.json",
    "low_dim_gauss_mix_reference": "posteriordb/low_dim_gauss_mix-low_dim_gauss_mix.summary.json",
    "gp_pois_regr": "posteriordb/gp_pois_regr.json",
    "gp_pois_regr_reference": "posteriordb/gp_pois_regr-gp_pois_regr.summary.json",
}


class DataError(RuntimeError):
    """A data file is missing, unreadable, or differs from its recorded checksum."""


def data_dir() -> Path:
    """Folder holding the data files.

    Returns
    -------
    pathlib.Path
        ``$BAYESKIT_DATA_DIR`` if that environment variable is set (e.g. to test a modified copy),
        else the folder of the installed package ``bayeskit.data`` (found with :mod:`importlib.resources`,
        so it is the same in a source checkout and in a wheel install).

    Raises
    ------
    DataError
        The package is not installed as files on disk (e.g. imported from a zip archive), so its data
        folder has no path; install bayeskit normally (``pip install``) instead.
    """
    env = os.environ.get("BAYESKIT_DATA_DIR")
    if env:
        return Path(env)
    folder = resources.files(__name__)
    if not isinstance(folder, Path):
        raise DataError(
            f"bayeskit's data files are not on disk ({folder!r}); install bayeskit with pip rather than "
            "importing it from an archive"
        )
    return folder


def available() -> list[str]:
    """Names accepted by :func:`load` and :func:`path`.

    Returns
    -------
    list of str
        The data set names, sorted.
    """
    return sorted(_FILES)


def _expected_sums(folder: Path) -> dict[str, str]:
    sums = folder / "SHA256SUMS"
    if not sums.is_file():
        raise DataError(f"checksum file {sums} is missing; the data folder is incomplete")
    out = {}
    for line in sums.read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            out[name.strip().lstrip("*")] = digest
    return out


def _verified(name: str) -> tuple[Path, bytes]:
    """The file of data set ``name`` and its bytes, after checking them against ``SHA256SUMS``."""
    if name not in _FILES:
        raise KeyError(f"unknown data set {name!r}; expected one of {available()}")
    folder = data_dir()
    file = folder / _FILES[name]
    if not file.is_file():
        raise DataError(f"data set {name!r}: file {file} is missing")
    expected = _expected_sums(folder).get(_FILES[name])
    if expected is None:
        raise DataError(f"data set {name!r}: {_FILES[name]} has no entry in {folder / 'SHA256SUMS'}")
    content = file.read_bytes()
    actual = hashlib.sha256(content).hexdigest()
    if actual != expected:
        raise DataError(
            f"data set {name!r}: {file} has SHA-256 {actual}, expected {expected} from SHA256SUMS; "
            "the file was altered (restore it with git, or regenerate SHA256SUMS if the change is deliberate)"
        )
    return file, content


def path(name: str) -> Path:
    """Verified path of data set ``name``.

    Parameters
    ----------
    name
        One of :func:`available`.

    Returns
    -------
    pathlib.Path
        The file, after its SHA-256 was checked against ``SHA256SUMS``.

    Raises
    ------
    KeyError
        ``name`` is not a known data set.
    DataError
        The file is missing or its SHA-256 differs from ``SHA256SUMS``.
    """
    return _verified(name)[0]


def load(name: str) -> Any:
    """Load data set ``name`` after verifying its checksum.

    Parameters
    ----------
    name
        One of :func:`available`.

    Returns
    -------
    pandas.DataFrame or dict
        A CSV file gives a DataFrame (``"coal_mining_disasters"``: columns ``year`` and ``disasters``;
        ``"switchpoint_series"``: ``t``, ``y_one_change``, ``y_reversion``); a JSON file gives the
        parsed JSON (e.g. ``"santa_gifts"``: a dict with the nine gift types under ``"gifts"``).

    Raises
    ------
    KeyError
        ``name`` is not a known data set.
    DataError
        The file is missing or its SHA-256 differs from ``SHA256SUMS``.

    Examples
    --------
    >>> from bayeskit import data
    >>> df = data.load("coal_mining_disasters")
    >>> len(df), int(df["disasters"].sum())
    (112, 191)
    """
    file, content = _verified(name)
    if file.suffix == ".csv":
        import pandas as pd

        return pd.read_csv(io.BytesIO(content))
    return json.loads(content)
