"""Execute every notebook in notebooks/ in order, headless, on all cores.

Executed copies go to executed/ (git-ignored). Each notebook runs in its own kernel; several run at
once (one per core by default). While they run, a line per finished code cell shows progress; at the
end, each notebook's status and wall time. Exit status is non-zero if any notebook failed.

    python scripts/run_series.py              # all notebooks, then the exercises' solutions
    python scripts/run_series.py 01 03        # only notebooks whose names start with these
    python scripts/run_series.py --jobs 1     # one at a time
    python scripts/run_series.py --inplace    # maintainers: refresh the committed outputs

The exercises' worked solutions (notebooks/solutions/) are queued after the series.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
OUT = ROOT / "executed"


def execute(path: Path, target: Path, timeout: int) -> tuple[str, float, str]:
    """Run one notebook in a fresh kernel, write it to ``target``; return (status, seconds, detail)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    # Each kernel gets one BLAS thread: notebooks run side by side, one per core.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    nb = nbformat.read(path, as_version=4)
    label = str(path.relative_to(NOTEBOOKS))
    n_code = sum(cell.cell_type == "code" for cell in nb.cells)
    start = time.perf_counter()
    done = 0

    def progress(cell, cell_index, execute_reply):
        nonlocal done
        done += 1
        print(f"  {label}: cell {done}/{n_code} done at {time.perf_counter() - start:6.1f} s", flush=True)

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", on_cell_executed=progress,
                            resources={"metadata": {"path": str(path.parent)}})
    status, detail = "ok", ""
    try:
        client.execute()
    except CellExecutionError as exc:
        status = "FAILED"
        lines = str(exc).strip().splitlines()
        detail = lines[-1] if lines else ""
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return status, time.perf_counter() - start, detail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("prefixes", nargs="*", help="run only notebooks whose file names start with these")
    parser.add_argument("--inplace", action="store_true", help="write outputs back into notebooks/")
    parser.add_argument("--timeout", type=int, default=600, help="per-cell timeout in seconds (default 600)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="notebooks run at once (default: the number of cores)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")

    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")) + sorted(NOTEBOOKS.glob("solutions/[0-9][0-9]_*.ipynb"))
    if args.prefixes:
        paths = [p for p in paths if any(p.name.startswith(x) or str(p.relative_to(NOTEBOOKS)).startswith(x)
                                         for x in args.prefixes)]
    if not paths:
        print("no notebooks matched", file=sys.stderr)
        return 1
    OUT.mkdir(exist_ok=True)
    total = time.perf_counter()
    results = {}
    jobs = min(args.jobs, len(paths))
    print(f"running {len(paths)} notebooks, {jobs} at a time", flush=True)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(execute, p, p if args.inplace else OUT / p.relative_to(NOTEBOOKS), args.timeout): p
                   for p in paths}
        for future in as_completed(futures):
            path = futures[future]
            results[path] = future.result()
            status, elapsed, _ = results[path]
            print(f"{status:6s} {str(path.relative_to(NOTEBOOKS)):55s} {elapsed:7.1f} s", flush=True)
    print("\nsummary, in series order:")
    for path in paths:
        status, elapsed, detail = results[path]
        print(f"{status:6s} {str(path.relative_to(NOTEBOOKS)):55s} {elapsed:7.1f} s", flush=True)
        if status != "ok":
            print(f"       {detail}", flush=True)
    failures = sum(results[p][0] != "ok" for p in paths)
    print(f"{len(paths) - failures}/{len(paths)} notebooks ran in {time.perf_counter() - total:.1f} s; "
          f"executed copies in {(NOTEBOOKS if args.inplace else OUT).relative_to(ROOT)}/")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
