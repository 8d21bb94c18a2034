"""Load the project's small data files by name, verifying each against ``data/SHA256SUMS``."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["DataError", "available", "data_dir", "load", "path"]

# name -> (file name, reader)
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
    """Folder holding the data files: ``$BAYESKIT_DATA_DIR`` if set, else the repository's ``data/``."""
    env = os.environ.get("BAYESKIT_DATA_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "data"


def available() -> list[str]:
    """Names accepted by :func:`load`."""
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


def path(name: str) -> Path:
    """Verified path of data set ``name``.

    Raises
    ------
    KeyError
        ``name`` is not a known data set.
    DataError
        The file is missing or its SHA-256 differs from ``SHA256SUMS``.
    """
    if name not in _FILES:
        raise KeyError(f"unknown data set {name!r}; expected one of {available()}")
    folder = data_dir()
    file = folder / _FILES[name]
    if not file.is_file():
        raise DataError(f"data set {name!r}: file {file} is missing")
    expected = _expected_sums(folder).get(_FILES[name])
    if expected is None:
        raise DataError(f"data set {name!r}: {_FILES[name]} has no entry in {folder / 'SHA256SUMS'}")
    actual = hashlib.sha256(file.read_bytes()).hexdigest()
    if actual != expected:
        raise DataError(
            f"data set {name!r}: {file} has SHA-256 {actual}, expected {expected} from SHA256SUMS; "
            "the file was altered (restore it with git, or regenerate SHA256SUMS if the change is deliberate)"
        )
    return file


def load(name: str) -> Any:
    """Load data set ``name`` after verifying its checksum.

    ``"coal_mining_disasters"`` gives a DataFrame with columns ``year`` and ``disasters``;
    ``"santa_gifts"`` gives the parsed JSON (a dict).
    """
    file = path(name)
    if file.suffix == ".csv":
        return pd.read_csv(file)
    return json.loads(file.read_text())
