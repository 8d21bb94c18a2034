"""Execute every notebook in notebooks/ in order, headless.

Executed copies go to executed/ (git-ignored); each notebook's status and wall time is
printed. Exit status is non-zero if any notebook failed.

    python scripts/run_series.py              # all notebooks
    python scripts/run_series.py 01 03        # only notebooks whose names start with these
    python scripts/run_series.py --inplace    # maintainers: refresh the committed outputs

The exercises' worked solutions (notebooks/solutions/) run after the series, in the same order.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
OUT = ROOT / "executed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("prefixes", nargs="*", help="run only notebooks whose file names start with these")
    parser.add_argument("--inplace", action="store_true", help="write outputs back into notebooks/")
    parser.add_argument("--timeout", type=int, default=600, help="per-cell timeout in seconds (default 600)")
    args = parser.parse_args(argv)

    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")) + sorted(NOTEBOOKS.glob("solutions/[0-9][0-9]_*.ipynb"))
    if args.prefixes:
        paths = [p for p in paths if any(p.name.startswith(x) or str(p.relative_to(NOTEBOOKS)).startswith(x)
                                         for x in args.prefixes)]
    if not paths:
        print("no notebooks matched", file=sys.stderr)
        return 1
    OUT.mkdir(exist_ok=True)
    failures = 0
    total = time.perf_counter()
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, timeout=args.timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        start = time.perf_counter()
        status = "ok"
        try:
            client.execute()
        except CellExecutionError as exc:
            status = "FAILED"
            failures += 1
            first = str(exc).strip().splitlines()
            detail = first[-1] if first else ""
        elapsed = time.perf_counter() - start
        target = path if args.inplace else OUT / path.relative_to(NOTEBOOKS)
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        print(f"{status:6s} {str(path.relative_to(NOTEBOOKS)):55s} {elapsed:7.1f} s", flush=True)
        if status != "ok":
            print(f"       {detail}", flush=True)
    print(f"{len(paths) - failures}/{len(paths)} notebooks ran in {time.perf_counter() - total:.1f} s; "
          f"executed copies in {(NOTEBOOKS if args.inplace else OUT).relative_to(ROOT)}/")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
