# Réciproque: one job per target. `make run` and `make test` are all a fresh machine needs.

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
export RECIPROQUE_VAR_DIR ?= $(CURDIR)/var
PG_URL    ?= postgres://postgres@127.0.0.1:5432/reciproque
REDIS_URL_TEST ?= redis://127.0.0.1:6379/5

.PHONY: run run-cluster demo test test-unit test-scaleout test-browser e2e lint bench soak messages css fonts system-deps clean

$(VENV)/.installed: requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.txt
	$(PY) -m pip install --quiet -r requirements-test.txt
	@touch $@

## run: install, migrate, and start the embedded server (SQLite, one process) on 0.0.0.0
run: $(VENV)/.installed fonts
	$(PY) manage.py migrate --noinput
	$(PY) manage.py compilemessages --ignore=.venv >/dev/null 2>&1 || true
	$(PY) manage.py collectstatic --noinput -v 0
	$(PY) manage.py announce
	$(VENV)/bin/daphne --bind 0.0.0.0 --port $(PORT) --access-log /dev/null \
	  --websocket_timeout -1 config.asgi:application

## demo: a demo facilitator and workshop (prints the URLs); then `make run`
demo: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo

# Installs the Debian packages listed in $$missing when run as root, else names them and stops.
APT_INSTALL = if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Missing system packages:$$missing (run: sudo apt-get install -y$$missing)"; exit 1; \
	  fi; \
	fi

# package=font family (_ for spaces): text, Arabic and other scripts, emoji, CJK.
FONTS := fonts-dejavu-core=DejaVu_Sans fonts-noto-core=Noto_Sans_Arabic \
  fonts-noto-color-emoji=Noto_Color_Emoji fonts-droid-fallback=Droid_Sans_Fallback

## fonts: the fonts that emoji and every script people type need, on screen and in the PDF
fonts:
	@missing=""; \
	for pair in $(FONTS); do \
	  family=$$(echo "$${pair#*=}" | tr _ ' '); \
	  fc-list -q "$$family" 2>/dev/null || missing="$$missing $${pair%%=*}"; \
	done; \
	$(APT_INSTALL)

## system-deps: the fonts, Chromium (browser tests), poppler (PDF checks), zbar (QR decoding), gettext
system-deps: fonts
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	command -v zbarimg  >/dev/null || missing="$$missing zbar-tools"; \
	command -v msgfmt   >/dev/null || missing="$$missing gettext"; \
	$(APT_INSTALL)

## test: everything: lint, unit and consumer tests, scale-out tests, real-browser tests
test: $(VENV)/.installed-test system-deps
	$(VENV)/bin/ruff check .
	$(PY) manage.py compilemessages --ignore=.venv >/dev/null
	$(MAKE) --no-print-directory test-unit
	$(MAKE) --no-print-directory test-scaleout
	$(MAKE) --no-print-directory test-browser

# Includes the fault tests against real Daphne processes (tests/faults, ~1 min) and the
# 1,000 seeded runs of the sync fuzz (~6 min; FUZZ_RUNS=<n> for fewer while you work).
test-unit: $(VENV)/.installed-test
	$(PY) -m pytest -q -m "not browser and not scaleout" tests

# The sync tests again, on PostgreSQL and Redis, plus two real Daphne workers.
# Skipped with a reason when the servers are missing; required when CI=true.
test-scaleout: $(VENV)/.installed-test
	@if $(PY) tests/scaleout/servers.py "$(PG_URL)" "$(REDIS_URL_TEST)"; then \
	  DATABASE_URL="$(PG_URL)" REDIS_URL="$(REDIS_URL_TEST)" $(PY) -m pytest -q -m "not browser" \
	    tests/test_sync.py tests/test_consumer.py tests/scaleout; \
	elif [ "$$CI" = "true" ]; then \
	  echo "CI=true: PostgreSQL and Redis are required for the scale-out tests"; exit 1; \
	else \
	  echo "SKIPPED scale-out tests: PostgreSQL ($(PG_URL)) or Redis ($(REDIS_URL_TEST)) not reachable"; \
	fi

# Playwright and pytest-asyncio clash in one process: browser tests run on their own.
test-browser: $(VENV)/.installed-test system-deps
	$(PY) -m pytest -q -p no:asyncio -m browser tests/browser

e2e: test-browser

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .

## bench: the fan-out benchmark (heavy, ~12 min; never part of `make test`): docs/performance.md
bench: $(VENV)/.installed-test
	$(PY) bench/run.py

## soak: minutes of kill -9 / SIGTERM and restarts under load, then 2,000 more seeded fuzz
## runs (seeds 1000-2999; make test runs 0-999). SOAK_SECONDS=300 and FUZZ_RUNS=2000 by
## default: ~20 min. Never part of `make test`.
soak: $(VENV)/.installed-test
	SOAK=1 SOAK_SECONDS="$${SOAK_SECONDS:-300}" $(PY) -m pytest -q -s -m soak tests/faults
	FUZZ_FIRST="$${FUZZ_FIRST:-1000}" FUZZ_RUNS="$${FUZZ_RUNS:-2000}" \
	  $(PY) -m pytest -q -s tests/sync_fuzz/ -k random_faults

## run-cluster: WORKERS (2) Daphne workers on PostgreSQL + Redis behind a balancer on PORT
run-cluster: $(VENV)/.installed
	DATABASE_URL="$${DATABASE_URL:-$(PG_URL)}" REDIS_URL="$${REDIS_URL:-redis://127.0.0.1:6379/0}" \
	  WORKERS="$${WORKERS:-2}" $(PY) bench/cluster.py --port $(PORT)

## messages: refresh the translation catalogues after changing UI strings
messages: $(VENV)/.installed
	$(PY) manage.py makemessages -l fr -l en --ignore=.venv --ignore=var --no-obsolete
	$(PY) manage.py compilemessages --ignore=.venv

## css: trim Bootstrap to the classes the templates, scripts and forms use (tools/trim_css.py)
css: $(VENV)/.installed
	$(PY) tools/trim_css.py

clean:
	rm -rf $(VENV) var staticfiles
