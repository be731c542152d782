# The two commands of the README:
#   make reproduce   set up .venv (if absent) and run the whole workflow + HTML report
#   make test        set up .venv with the dev extras (and Chromium for the browser test), run the lints and the tests
PYTHON ?= python3
VENV   ?= .venv
CORES  ?= all
BIN     = $(VENV)/bin

.PHONY: reproduce test lint bench browser clean-results

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip "setuptools>=77"   # 77: the SPDX license of pyproject.toml

# pip byte-compiles every installed module on one core (35 of the 53 s of `pip install -e .`);
# instead install with --no-compile, then compile site-packages on every core, leaving out the
# packages' own test suites (37 % of their files; nothing imports them). The .pyc files must
# exist: with PYTHONDONTWRITEBYTECODE set, every job would recompile its imports (src/ too: the
# editable install). Like pip, a module that does not compile is reported, not fatal.
PIP_INSTALL = $(BIN)/python -m pip install --no-compile
# numba's on-disk cache of the kNN kernels (one core), filled while the byte-compile runs
KERNELS = $(BIN)/python -c "from astroanom.detect.knn import compile_kernels; compile_kernels()"
BYTE_COMPILE = $(BIN)/python -c "import compileall, re, sysconfig; [compileall.compile_dir(d, quiet=1, workers=0, rx=re.compile('/tests?/')) for d in (sysconfig.get_paths()['purelib'], 'src')]"

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP_INSTALL) -e .
	$(BYTE_COMPILE) & pid=$$!; $(KERNELS) && wait $$pid
	touch $@

# The tests also exercise the optional plug-ins (pyod, coniferest, learned) and the SLURM profile.
# torch first, pinned: that release's CPU wheel (about 200 MB) satisfies the `learned` extra, so
# pip does not fetch a newer CUDA build of several GB.
TORCH ?= torch==2.13.0
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP_INSTALL) '$(TORCH)'
	$(PIP_INSTALL) -e '.[dev,slurm,pyod,coniferest,scale,learned,morphology]'
	$(BYTE_COMPILE) & pid=$$!; $(KERNELS) && wait $$pid
	touch $(VENV)/.installed $@

reproduce: $(VENV)/.installed
	$(BIN)/snakemake --cores $(CORES)
	$(BIN)/snakemake --report results/report.html
	@echo "Done: figures and tables under results/, report in results/report.html"

# Debian's Chromium drives the labeller's end-to-end browser test; installed when absent and root.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: chromium not found and not root; the browser test will be skipped"; fi; }

test: $(VENV)/.installed-dev browser lint
	$(BIN)/python -m pytest -q -n 2 --dist loadfile   # 2 workers; a file's tests stay on one (module fixtures)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff format --check src workflow tests benchmarks
	$(BIN)/ruff check src workflow tests benchmarks
	$(BIN)/snakefmt --check workflow
	$(BIN)/snakemake --lint

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_simulation.py

clean-results:
	rm -rf results .snakemake
