# The two commands of the README:
#   make series   run every notebook in order (headless), executed copies in executed/
#   make test     unit tests + every notebook through pytest --nbval-lax
# Both run on every core: notebooks side by side (one kernel each, one BLAS thread each), and the tests
# on pytest-xdist workers, a whole file (or notebook) per worker so that a notebook's cells share a kernel.
# Both create (or reuse) the virtual environment .venv and install the project into it.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.bayeskit-installed

export PATH := $(abspath $(VENV))/bin:$(PATH)
export PYTHONHASHSEED := 0
JOBS ?= auto
# the dev tools plus the optional engines, MPI and the book's tools, so that every test and notebook runs
EXTRAS ?= dev,nutpie,jax,mpi,docs

.PHONY: series test install lab book benchmark clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $(STAMP)

install: $(STAMP)

series: $(STAMP)
	$(PY) scripts/run_series.py

# JAX_COMPILATION_CACHE_DIR: JAX's persistent compilation cache, so that a model the JAX engines (numpyro, blackjax) have
# compiled once in this run is not compiled again by the next test or notebook that samples it (the same graph gives
# the same program, so the numbers do not change; JAX_PERSISTENT_CACHE_* = 0 and -1 keep every program, however
# small). Only for the tests: in `make series`, a warm cache would shrink the compile times that notebook 08 shows.
test: $(STAMP)
	mkdir -p build/jax-cache
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 JAX_COMPILATION_CACHE_DIR=$(abspath build/jax-cache) \
	JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0 JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES=-1 \
	$(PY) -m pytest tests notebooks --nbval-lax --nbval-current-env --nbval-cell-timeout=600 -p no:randomly -q \
		-n $(JOBS) --dist loadfile --no-loadscope-reorder

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

# the series as a static website, fully offline, from the committed notebooks (never executed here): build/book/,
# open build/book/index.html. Warnings are errors; -E re-reads every page. tests/test_book.py runs the same command.
book: $(STAMP)
	rm -rf build/book
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
	$(PY) -m sphinx -b html -c docs -W --keep-going -E -q . build/book
	@echo "The book: build/book/index.html"

benchmark: $(STAMP)
	$(PY) benchmarks/metropolis_vs_emcee.py
	$(PY) benchmarks/problem_vectorisation.py
	$(PY) benchmarks/unconstrained_gradient.py
	$(PY) benchmarks/nuts_vs_pymc.py
	$(PY) benchmarks/problem_glue.py
	$(PY) benchmarks/ultranest_wrapper.py
	$(PY) benchmarks/from_pymc_compile.py
	$(PY) benchmarks/blas_contention.py
	$(PY) benchmarks/import_time.py
	$(PY) benchmarks/mpi_speedup.py

clean:
	rm -rf executed build .pytest_cache docs/api docs/_generated
