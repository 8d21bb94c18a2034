"""Make bayeskit/data/switchpoint_series.csv: the synthetic series of notebook 04.

Run: ``python bayeskit/data/scripts/make_switchpoint_series.py [output.csv]`` (default output: the data
folder's ``switchpoint_series.csv``, wherever you run it from).

Two series on the times t = 1..90, drawn with NumPy's default generator and seed 20261121:
* ``y_one_change``: 45 points from N(-1, 1), then 45 from N(5, 2) (the change is after t = 45);
* ``y_reversion``: 30 points from N(-1, 1), 30 from N(5, 2), then 30 from N(-1, 1) again
  (changes after t = 30 and t = 60).

Values are written with 6 decimals. After regenerating, update bayeskit/data/SHA256SUMS.
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261121

rng = np.random.default_rng(SEED)
t = np.arange(1, 91)
one = np.concatenate([rng.normal(-1, 1, 45), rng.normal(5, 2, 45)])
reversion = np.concatenate([rng.normal(-1, 1, 30), rng.normal(5, 2, 30), rng.normal(-1, 1, 30)])
pd.DataFrame({"t": t, "y_one_change": one.round(6), "y_reversion": reversion.round(6)}).to_csv(
    sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "switchpoint_series.csv", index=False)
