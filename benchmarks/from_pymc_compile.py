"""``Problem.from_pymc`` against PyMC's own ``model.compile_logp``: the time from a PyMC model to its first
log-density value, with a cold PyTensor cache (a fresh compile directory per run, as on a fresh machine) and a
warm one.

bayeskit: ``Problem.from_pymc(model)`` then ``problem.log_density`` at one point (what every sampler needs first).
PyMC: ``model.compile_logp()`` then the function at the initial point. Each measurement runs in its own process;
the two alternate, so load hits both alike. Medians over the repeats; ratio bayeskit / PyMC.

    python benchmarks/from_pymc_compile.py [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

CHILD = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
import numpy as np, pymc as pm
import bayeskit as bk
which, model_name = sys.argv[1], sys.argv[2]

def build():
    if model_name == "10-gift":
        from bayeskit.models import ten_gift_model
        return ten_gift_model().pymc_model()
    y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
    s = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])
    with pm.Model() as m:  # eight schools, non-centred
        mu = pm.Normal("mu", 0, 5)
        tau = pm.HalfCauchy("tau", 5)
        theta_raw = pm.Normal("theta_raw", 0, 1, shape=8)
        pm.Normal("y", mu + tau * theta_raw, s, observed=y)
    return m

model = build()
start = time.perf_counter()
if which == "pymc":
    value = float(model.compile_logp()(model.initial_point()))
else:
    problem = bk.Problem.from_pymc(model)
    value = float(problem.log_density(problem._compiled.initial_z[None, :])[0])
print(json.dumps({"seconds": time.perf_counter() - start, "value": value}))
"""


def run(which: str, model: str, cold: bool, warm_dir: str) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    with tempfile.TemporaryDirectory(prefix="pytensor-cold-") as fresh:
        env["PYTENSOR_FLAGS"] = f"compiledir={fresh if cold else warm_dir}"
        out = subprocess.run([sys.executable, "-c", CHILD, which, model], env=env, capture_output=True, text=True,
                             check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    import numpy as np

    with tempfile.TemporaryDirectory(prefix="pytensor-warm-") as warm_dir:
        for model in ("10-gift", "eight schools"):
            for cold in (True, False):
                times = {"pymc": [], "bayeskit": []}
                if not cold:  # fill the warm cache first
                    run("pymc", model, False, warm_dir), run("bayeskit", model, False, warm_dir)
                for _ in range(args.repeats):
                    for which in ("pymc", "bayeskit"):
                        times[which].append(run(which, model, cold, warm_dir)["seconds"])
                p, b = np.median(times["pymc"]), np.median(times["bayeskit"])
                print(f"{model:14s} {'cold' if cold else 'warm'} cache: PyMC compile_logp {p:6.2f} s, "
                      f"Problem.from_pymc + log_density {b:6.2f} s: ratio {b / p:.2f}x (goal <= 1.3x)", flush=True)


if __name__ == "__main__":
    main()
