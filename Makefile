# Two commands do everything on a fresh machine: `make run` and `make test` (see README.md).
SHELL := /bin/bash
ENGINE := .venv/engine
HUB := .venv/hub
RASA := $(ENGINE)/bin/rasa
DATA_DIR ?= var
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONPATH := $(CURDIR)
TRAINING_DATA := data/nlu data/rules.yml
# Tests that need Rasa run in the engine environment; the hub's, and the end-to-end ones, in the hub's.
ENGINE_TESTS := tests/nlu tests/actions tests/engine tests/test_procedures.py tests/test_guide.py \
	tests/test_care_and_car_procedures.py \
	tests/test_plain_japanese.py tests/test_domain.py tests/scripts
HUB_TESTS := tests/hub tests/channels tests/browser tests/test_privacy.py tests/test_volunteer_sessions.py tests/test_phone_numbers.py \
	tests/test_launcher.py tests/e2e tests/console

.PHONY: run test install debian-packages model check lint bench presynthesise clean

# Plain HTTP on this machine: the console's cookies go without the Secure flag (never set this behind HTTPS).
run: install check model
	CONSOLE_INSECURE_COOKIES=1 $(HUB)/bin/python -m bot.launcher --data-dir $(DATA_DIR)

test: install check lint model
	$(ENGINE)/bin/python -m pytest $(ENGINE_TESTS) -q -p no:cacheprovider
	$(RASA) test core --stories tests/stories --model models --out var/test-results/core --fail-on-prediction-errors --quiet
	$(HUB)/bin/python -m pytest $(HUB_TESTS) -q -p no:cacheprovider -n 2 --dist loadfile

install: debian-packages $(ENGINE)/.installed $(HUB)/.installed node_modules/.installed

# Debian packages from requirements/debian.txt (browser tests, servers the tests start on loopback).
debian-packages:
	scripts/install-debian-packages

$(ENGINE)/.installed: requirements/engine.lock scripts/find-python310
	@python310=$$(scripts/find-python310) || exit 1; \
	  [ -x $(ENGINE)/bin/python ] || $$python310 -m venv $(ENGINE)
	$(ENGINE)/bin/pip install -q -r requirements/engine.lock
	touch $@

$(HUB)/.installed: requirements/hub.lock
	@python3 -c 'import sys; assert sys.version_info >= (3, 10), "the hub needs python3 3.10 or newer"'
	[ -x $(HUB)/bin/python ] || python3 -m venv $(HUB)
	$(HUB)/bin/pip install -q -r requirements/hub.lock
	touch $@

# Chart.js (served by the console) and axe-core (browser tests), exactly as package-lock.json pins them.
node_modules/.installed: package.json package-lock.json | debian-packages
	@command -v npm >/dev/null || { echo "npm is missing: apt-get install npm (or a Node.js that ships it)"; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# Trains only when config, domain, training data or the NLU components changed (the model file is named after
# a hash of them), and keeps the newest three models.
model: $(ENGINE)/.installed
	$(ENGINE)/bin/python scripts/train_model.py --config config.yml --domain domain.yml --data $(TRAINING_DATA) \
	  --out models --keep 3

# Content and configuration; `rasa data validate` runs inside tests/test_domain.py.
check: install
	$(ENGINE)/bin/python -m bot.procedures check

lint: $(HUB)/.installed
	$(HUB)/bin/ruff check .
	$(HUB)/bin/ruff format --check .
	$(HUB)/bin/mypy

bench: install model
	$(ENGINE)/bin/python bench/nlu_bench.py
	$(HUB)/bin/python bench/turn_bench.py
	$(HUB)/bin/python bench/line_bench.py
	$(HUB)/bin/python bench/console_bench.py
	$(HUB)/bin/python bench/load.py
	$(HUB)/bin/python bench/speech_bench.py

# The kiosk's voice for every fixed answer and procedure step, made once into $(DATA_DIR)/speech so that the kiosk
# speaks them at once: Google's voice when it answers, else the offline one (no internet needed). The first run
# takes minutes on two cores; later runs skip what is cached. `make run` does not wait for it.
presynthesise: install
	$(HUB)/bin/python -m bot.hub.speech.presynthesise --data-dir $(DATA_DIR)

clean:
	rm -rf .venv models var node_modules
