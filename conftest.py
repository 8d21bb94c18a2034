"""Order of the test files for `make test`: the longest first.

`make test` runs each file (each notebook) whole on one of pytest-xdist's workers (`--dist loadfile`), and hands
out files in collection order (`--no-loadscope-reorder`; xdist's own order, by number of tests, put the few-test
but long files such as the book's or the calibration tests last, where one worker then ran alone for minutes).
Longest-first (LPT) leaves the short files to fill the gaps at the end.

The costs are seconds per file measured in one `make test` run (issue 15, under load, so only their order matters);
a file not listed counts 2 s per test. Within a file the order is never changed: a notebook's cells share a kernel.
"""

from __future__ import annotations

from pathlib import Path

MEASURED_SECONDS = {
    "tests/test_posteriordb.py": 277,
    "tests/test_book.py": 256,
    "tests/test_model_coverage.py": 239,
    "notebooks/05_nested_sampling.ipynb": 214,
    "notebooks/07_uncertainty_quantification.ipynb": 199,
    "tests/test_calibration.py": 191,
    "notebooks/06_variational_inference.ipynb": 191,
    "tests/test_external_nuts.py": 168,
    "notebooks/03_gift_weights.ipynb": 162,
    "notebooks/solutions/02_hamiltonian_monte_carlo_solutions.ipynb": 160,
    "tests/test_engines.py": 147,
    "notebooks/04_switchpoints.ipynb": 140,
    "notebooks/solutions/07_uncertainty_quantification_solutions.ipynb": 123,
    "notebooks/02_hamiltonian_monte_carlo.ipynb": 110,
    "tests/test_unconstrained.py": 102,
    "notebooks/08_inside_a_ppl.ipynb": 95,
    "tests/test_mpi.py": 88,
    "notebooks/solutions/04_switchpoints_solutions.ipynb": 69,
    "notebooks/solutions/03_gift_weights_solutions.ipynb": 67,
    "notebooks/solutions/06_variational_inference_solutions.ipynb": 59,
    "tests/test_regression.py": 58,
    "notebooks/solutions/05_nested_sampling_solutions.ipynb": 51,
    "notebooks/01_metropolis_from_scratch.ipynb": 44,
    "notebooks/solutions/08_inside_a_ppl_solutions.ipynb": 43,
    "notebooks/solutions/01_metropolis_from_scratch_solutions.ipynb": 40,
    "tests/test_nuts.py": 37,
    "tests/test_engine_registry.py": 36,
    "tests/test_course_nested_demos.py": 33,
    "tests/test_vi.py": 29,
    "tests/test_results.py": 24,
}
SECONDS_PER_UNLISTED_TEST = 2


def pytest_collection_modifyitems(session, config, items):
    """Sort the items by their file's cost, longest first, keeping each file's items in their order."""
    root = Path(str(config.rootpath))
    files, count = {}, {}
    for item in items:
        try:
            key = Path(str(item.path)).resolve().relative_to(root).as_posix()
        except ValueError:  # a file outside the repository
            key = item.nodeid.split("::")[0]
        files[item] = key
        count[key] = count.get(key, 0) + 1
    first_seen = {}
    for position, item in enumerate(items):
        first_seen.setdefault(files[item], position)

    def cost(key):
        return MEASURED_SECONDS.get(key, SECONDS_PER_UNLISTED_TEST * count[key])

    items[:] = sorted(items, key=lambda item: (-cost(files[item]), first_seen[files[item]]))
