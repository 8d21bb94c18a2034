"""Time of ``import bayeskit`` in a fresh interpreter, against ``import numpy`` and ``import arviz``.

Each statement runs in its own fresh subprocess (``python -c``; the interpreter's start-up is measured
separately and subtracted), the three in turn, ``--rounds`` times, so that load from other processes hits
them alike; the medians are reported, with bayeskit's ratio to each peer. The goal (issue 18) is
``import bayeskit`` under 1.5 s; before heavy dependencies were imported where used it took ~4.7 s, of
which ArviZ (through ``bayeskit.diagnostics``) was 3.9 s. ``python -X importtime -c "import bayeskit"``
shows where the time goes.

    python benchmarks/import_time.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

STATEMENTS = {"bayeskit": "import bayeskit", "numpy": "import numpy", "arviz": "import arviz"}
GOAL_S = 1.5


def run_once(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7, help="fresh interpreters per statement")
    args = parser.parse_args()
    for code in [*STATEMENTS.values(), "pass"]:  # warm the file-system cache and the bytecode caches
        run_once(code)
    times: dict[str, list[float]] = {name: [] for name in [*STATEMENTS, "startup"]}
    for _ in range(args.rounds):
        times["startup"].append(run_once("pass"))
        for name, code in STATEMENTS.items():
            times[name].append(run_once(code))
    startup = statistics.median(times["startup"])
    median = {name: statistics.median(t) - startup for name, t in times.items() if name != "startup"}
    print(f"import time, median of {args.rounds} fresh interpreters (start-up {startup:.3f} s subtracted):")
    for name, seconds in median.items():
        print(f"  import {name:<9} {seconds:6.3f} s")
    ours = median["bayeskit"]
    print(f"bayeskit / numpy = {ours / median['numpy']:.2f}, bayeskit / arviz = {ours / median['arviz']:.2f}; "
          f"goal {GOAL_S} s: {'met' if ours < GOAL_S else 'NOT met'} ({ours:.3f} s)")


if __name__ == "__main__":
    main()
