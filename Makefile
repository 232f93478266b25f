# Two commands matter: `make run` (the server and an SMS worker beside it) and `make test`.  Everything else is a step of theirs.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Test processes for `make test` (pytest-xdist; each gets its own PostgreSQL database): one per core here.
TEST_WORKERS ?= 2
export FLASK_APP := advocacy:create_app
# Development unless the caller says otherwise; `make test` sets testing itself.
export ADVOCACY_ENV ?= development

.PHONY: run test bench install translations i18n check-strings lint code password clean

run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load --if-empty
	$(BIN)/flask notify work --threads 2 & worker=$$!; trap 'kill $$worker' EXIT INT TERM; \
	$(BIN)/flask run --host 127.0.0.1 --port 5000

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# Every benchmark, on PostgreSQL (BENCH_POSTGRES_URL, default the local server):
# pages under gunicorn with load from a separate process (bench/results.json),
# then each domain's own (bench/handoff.py also runs bench/guard.py's guard throughput),
# then the slow load and fault tests that `make test` skips.
bench: install
	$(BIN)/python bench/served.py
	$(BIN)/python bench/cases.py
	$(BIN)/python bench/home.py
	$(BIN)/python bench/shelters.py
	$(BIN)/python bench/handoff.py
	$(BIN)/python bench/dispatch.py
	$(BIN)/python bench/audit.py
	$(BIN)/python -m pytest -q -m slow $(PYTEST_ARGS)

install: $(VENV)/.installed static/vendor/.stamp translations

$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	touch $@

# Front-end assets come from the npm registry through the lock file, into a
# git-ignored folder: no CDN at run time and no third-party code in git.
static/vendor/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	rm -rf static/vendor && mkdir -p static/vendor/uswds static/vendor/fonts static/vendor/axe-core
	cp -R node_modules/@uswds/uswds/dist/css node_modules/@uswds/uswds/dist/js \
	      node_modules/@uswds/uswds/dist/fonts node_modules/@uswds/uswds/dist/img static/vendor/uswds/
	cp -R node_modules/@fontsource/noto-sans-arabic static/vendor/fonts/noto-sans-arabic
	cp -R node_modules/@fontsource/noto-sans-myanmar static/vendor/fonts/noto-sans-myanmar
	cp node_modules/axe-core/axe.min.js static/vendor/axe-core/
	printf '@import url("noto-sans-arabic/400.css");\n@import url("noto-sans-arabic/700.css");\n@import url("noto-sans-myanmar/400.css");\n@import url("noto-sans-myanmar/700.css");\n' > static/vendor/fonts/fonts.css
	touch $@

# Compiled catalogs are build output (.mo files are never committed).  pybabel
# refuses locales without CLDR data (hmn, ksw, oj), so update and compile are
# `flask i18n` commands built on Babel's library.
translations: $(VENV)/.installed
	$(BIN)/flask i18n compile

# Extract strings into the committed template (file names without line numbers
# and no timestamp, so it changes only when strings do), merge them into every
# catalog, compile, and print each language's coverage.
i18n: $(VENV)/.installed
	$(BIN)/flask i18n extract
	$(BIN)/flask i18n update
	$(BIN)/flask i18n compile
	$(BIN)/flask i18n coverage

# Fails when the committed .pot no longer matches the strings in the code.
check-strings: $(VENV)/.installed
	$(BIN)/python -m pytest -q tests/test_i18n.py -k pot_is_current

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Development only: the current TOTP code of a demo user, e.g. `make code user=advocate`.
code: $(VENV)/.installed
	@$(BIN)/flask demo totp $(user)

# Development only: a new random password for a demo user, e.g. `make password user=advocate`.
password: $(VENV)/.installed
	@$(BIN)/flask demo password $(user)

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache .ruff_cache
