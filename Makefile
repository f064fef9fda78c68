# Ketamine Clinic: `make run` serves the demo clinic; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DATA_DIR ?= $(or $(KC_DATA_DIR),var)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test check pytest chromium bench lock clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	@touch $@

$(DATA_DIR)/secret_key:
	@mkdir -p -m 700 $(DATA_DIR)
	@umask 077 && $(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@

$(DATA_DIR)/audit_key:
	@mkdir -p -m 700 $(DATA_DIR)
	@umask 077 && $(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@

# The demo runs on loopback over plain http, hence KC_HTTPS=0; KC_DEMO=1 allows the public
# demo password (see docs/decisions).
RUN_ENV = KC_DATA_DIR=$(DATA_DIR) KC_SECRET_KEY_FILE=$(DATA_DIR)/secret_key \
  KC_AUDIT_KEY_FILE=$(DATA_DIR)/audit_key KC_HTTPS=$${KC_HTTPS:-0} KC_DEMO=$${KC_DEMO:-1}
run: $(STAMP) $(DATA_DIR)/secret_key $(DATA_DIR)/audit_key
	umask 077 && $(RUN_ENV) $(BIN)/kclinic demo
	umask 077 && $(RUN_ENV) exec $(BIN)/kclinic serve

check: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports
	DJANGO_SETTINGS_MODULE=ketamine_clinic.web.settings_test $(BIN)/django-admin makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=ketamine_clinic.web.settings KC_DATA_DIR=$$(mktemp -d) \
	  KC_SECRET_KEY=check-deploy-only-0123456789abcdefghijklmnopqrstuv \
	  KC_AUDIT_KEY=check-deploy-audit-only-0123456789abcdefghijklmnopq \
	  $(BIN)/django-admin check --deploy --fail-level WARNING

pytest: $(STAMP) chromium
	$(BIN)/python -m pytest

# The browser tests drive Debian's chromium and the PDF tests read text with pdftotext: each is
# installed here when missing and we are root, otherwise the exact command to run is printed.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "== installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	  else \
	    echo "The browser tests need Debian's chromium: run  sudo apt-get install chromium fonts-dejavu-core"; exit 1; \
	  fi; \
	fi
	@if ! command -v pdftotext >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "== installing poppler-utils (pdftotext) for the PDF tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null; \
	  else \
	    echo "The PDF tests need pdftotext: run  sudo apt-get install poppler-utils"; exit 1; \
	  fi; \
	fi

test: check pytest

bench: $(STAMP)
	bash benchmarks/pk/run
	@if [ -f benchmarks/web/run ]; then bash benchmarks/web/run; fi

# Refresh the constraints file from the current environment.
lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^ketamine' > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts
