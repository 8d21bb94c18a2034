import shutil

import pytest

from bayeskit import data


def test_coal_mining_series_is_the_dated_112_year_one():
    df = data.load("coal_mining_disasters")
    assert list(df.columns) == ["year", "disasters"]
    assert len(df) == 112 and df["disasters"].sum() == 191
    assert df["year"].iloc[0] == 1851 and df["year"].iloc[-1] == 1962
    # years where the dated series differs from the 111-value PyMC array (shared/refs)
    counts = dict(zip(df["year"], df["disasters"]))
    assert (counts[1946], counts[1947]) == (1, 4)


def test_santa_gifts_has_nine_types_with_counts_summing_to_7166():
    gifts = data.load("santa_gifts")["gifts"]
    assert len(gifts) == 9
    assert sum(g["count"] for g in gifts.values()) == 7166
    assert gifts["coal"]["params"] == {"a": 0.5, "b": 0.5, "scale": 47.0}


def test_data_folder_is_the_package_folder_and_every_data_set_loads(monkeypatch):
    # catches: the loader looking outside the package (e.g. the old repository-level data/), which a wheel lacks
    from pathlib import Path

    monkeypatch.delenv("BAYESKIT_DATA_DIR", raising=False)
    assert data.data_dir() == Path(data.__file__).resolve().parent
    for name in data.available():
        assert data.path(name).is_relative_to(data.data_dir())
        data.load(name)  # raises DataError if a file is missing or altered


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(KeyError, match="unknown data set 'coal'.*coal_mining_disasters"):
        data.load("coal")


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    shutil.copytree(data.data_dir(), folder, ignore=shutil.ignore_patterns("*.py", "__pycache__", "scripts"))
    monkeypatch.setenv("BAYESKIT_DATA_DIR", str(folder))
    return folder


def test_altered_file_is_refused(data_copy):
    csv = data_copy / "coal_mining_disasters.csv"
    csv.write_text(csv.read_text().replace("1851,4", "1851,5"))
    with pytest.raises(data.DataError, match="altered"):
        data.load("coal_mining_disasters")


def test_missing_file_is_reported(data_copy):
    (data_copy / "santa_gifts.json").unlink()
    with pytest.raises(data.DataError, match="missing"):
        data.load("santa_gifts")


def test_switchpoint_series_is_what_its_script_makes(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    folder = Path(data.__file__).resolve().parent
    out = tmp_path / "series.csv"
    subprocess.run([sys.executable, str(folder / "scripts/make_switchpoint_series.py"), str(out)], check=True, cwd=tmp_path)
    assert out.read_bytes() == (folder / "switchpoint_series.csv").read_bytes()
    df = data.load("switchpoint_series")
    assert list(df.columns) == ["t", "y_one_change", "y_reversion"] and df["t"].tolist() == list(range(1, 91))
