# skyhawk: `make run` serves the whole service locally, `make test` runs every test (README, "Three commands").
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.11 is the Lambda runtime; fall back to python3 where 3.11 is not installed.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STAGE ?= dev
# make deploy: ENABLE_CDN=true|false turns CloudFront on or off (unset: the stage keeps what it has),
# CDN_PRIVATE_KEY_FILE=<pem> signs with your key, CODE_BUCKET=<bucket> instead of skyhawk-<stage>-code-<account>;
# make destroy: YES=1 does not ask, FORCE=1 for prod.
ENABLE_CDN ?=
CDN_PRIVATE_KEY_FILE ?=
CODE_BUCKET ?=

.PHONY: help venv run test lint bench package capacity deploy deploy-data destroy openapi chromium

help:
	@echo "make run          local service: API http://127.0.0.1:8080, embedded moto 127.0.0.1:4566"
	@echo "make test         lint, then the unit/api/infra tests and, alongside, the HTTP end-to-end tests"
	@echo "make lint         cfn-lint infra/*.yaml, ruff (ruff.toml: lint, and format on chalicelib and infra) and mypy (mypy.ini) on the code"
	@echo "make bench        benchmarks as one JSON document, polls/s side by side with goosebit from PyPI"
	@echo "                  (BENCH_ARGS=\"--only polls --no-goosebit\" and so on: python -m bench --help)"
	@echo "make package      STAGE=dev: chalice package with infra's merge templates into out/ + cfn-lint (needs PyPI)"
	@echo "make capacity     measure per-request units and times, the functions' invocations, rewrite docs/capacity.md"
	@echo "make openapi      rebuild the OpenAPI documents chalicelib/openapi/*.json (tools/openapi_docs)"
	@echo "make deploy       STAGE=dev [ENABLE_CDN=true] [CODE_BUCKET=...]: the whole stage in AWS (package, stacks,"
	@echo "                  first admin), prints its URLs; again: changes only what changed"
	@echo "make deploy-data  STAGE=dev [ENABLE_CDN=true]: only the data stack"
	@echo "make destroy      STAGE=dev [YES=1] [FORCE=1]: delete the stage (stacks, tables, artifacts, code)"

# Re-installs only when a requirements file changed. rauc-hawkbit is the real DDI client of the e2e
# tests; --no-deps because its gbulb dependency needs pygobject, which cannot build here, and the
# module used (rauc_hawkbit.ddi) needs only aiohttp. pip is not upgraded: chalice pins pip<26.3.
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	$(PY) -m pip install --disable-pip-version-check -q --no-deps rauc-hawkbit==0.2.0
	touch $(STAMP)

# The operator CLI (skyhawk_cli/, pyproject.toml): `.venv/bin/skyhawk`. Installed as a copy, not editable (the
# venv may serve several checkouts), and again whenever its sources change; setuptools' build/ is not kept.
CLI := $(VENV)/bin/skyhawk
$(CLI): $(STAMP) pyproject.toml $(wildcard skyhawk_cli/*.py)
	$(PY) -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation --force-reinstall .
	rm -rf build
	touch $(CLI)

venv: $(STAMP) $(CLI)

# The console's browser tests (tests/e2e/test_console_e2e.py) drive Debian's chromium with Playwright; Playwright
# never downloads a browser of its own. Installed when missing, as root; otherwise say how.
CHROMIUM := /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || { if [ "$$(id -u)" = 0 ]; then \
	  echo "installing Debian's chromium for the console's browser tests"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else echo "$(CHROMIUM) is missing: the console's browser tests need it (sudo apt-get install chromium)"; fi; }

run: venv
	$(PY) -m infra.launcher

# e2e runs in its own pytest process: the launcher points AWS_ENDPOINT_URL at its moto, which would break
# the mock_aws tests in the same process. It runs alongside the others (it waits on HTTP more than it
# computes) and its output follows theirs. Both runs always complete; either failing fails the target.
test: venv lint chromium
	@status=0; e2e_log=$$(mktemp); start=$$(date +%s); \
	$(PY) -m pytest tests/e2e -q > $$e2e_log 2>&1 & e2e=$$!; \
	echo "$(PY) -m pytest -n 2 tests/unit tests/api tests/infra -q"; \
	$(PY) -m pytest -n 2 tests/unit tests/api tests/infra -q || status=1; \
	wait $$e2e || status=1; \
	echo "$(PY) -m pytest tests/e2e -q"; cat $$e2e_log; rm -f $$e2e_log; \
	echo "make test: $$(( $$(date +%s) - start )) s"; \
	exit $$status

lint: venv
	$(VENV)/bin/cfn-lint infra/*.yaml
	$(VENV)/bin/ruff check chalicelib infra app.py bench examples skyhawk_cli tools
	$(VENV)/bin/ruff format --check chalicelib infra
	$(VENV)/bin/mypy skyhawk_cli
	$(VENV)/bin/mypy infra
	$(PY) -m tools.openapi_docs --check
	$(VENV)/bin/mypy chalicelib

# The documents served at /openapi/<name>.json: hawkBit's (tools/openapi_docs/hawkbit) patched and extended, and
# skyhawk's own; tests/unit/test_openapi_documents.py fails while they are out of date.
openapi: venv
	$(PY) -m tools.openapi_docs

# goosebit is installed by the bench itself into .bench/goosebit-venv (never into requirements*.txt).
bench: venv
	@$(PY) -m bench $(BENCH_ARGS)

# Needs PyPI: chalice runs `pip download` for the Lambda's requirements.txt. The merge templates make API
# Gateway answer unknown routes as the app does (404 in hawkBit's error shape), not with its own 403, give
# devices their front door, a function URL (docs/capacity.md), give the functions' role the data stack's
# policy (parameter AppPolicyArn), add the jobs queue with its dead-letter queue (infra/jobs-queue.json) and the
# DMF inbound FIFO queue with its dead-letter queue and the DMF consumer's event source (infra/dmf-queue.json);
# chalice takes one merge template, so they are merged first. infra/lambda_package.py then leaves the service
# models no code uses out of the zip and adds the modules compiled (docs/capacity.md, "What Lambda gets").
MERGE_TEMPLATES := infra/api-gateway-responses.json infra/device-function-url.json infra/app-policy.json infra/jobs-queue.json infra/dmf-queue.json infra/change-feed.json infra/cdn-settings.json
package: venv
	rm -rf out && mkdir out
	$(PY) -m infra.merge_templates $(MERGE_TEMPLATES) > out/merge-template.json
	AWS_DEFAULT_REGION=us-east-1 $(VENV)/bin/chalice package --stage $(STAGE) \
	  --merge-template out/merge-template.json out/
	$(PY) -m infra.lambda_package out/deployment.zip
	$(VENV)/bin/cfn-lint out/sam.json

# The capacity and cost model (docs/capacity.md): measure units, sizes and times in-process against moto, and each
# function's invocations and cold start (the memory .chalice/config.json must set), then rewrite the page's tables.
capacity: venv
	$(PY) docs/capacity/measure.py > docs/capacity/measured.json.new
	mv docs/capacity/measured.json.new docs/capacity/measured.json
	$(PY) docs/capacity/functions.py > docs/capacity/functions.json.new
	mv docs/capacity/functions.json.new docs/capacity/functions.json
	$(PY) docs/capacity/model.py --write

# Not run by the tests (tests/infra/test_deploy.py runs infra/deploy.py against moto): these act on the AWS account of
# your current credentials and region (AWS_PROFILE, AWS_DEFAULT_REGION).
DEPLOY_ARGS = --stage $(STAGE) $(if $(filter true,$(ENABLE_CDN)),--cdn,$(if $(filter false,$(ENABLE_CDN)),--no-cdn)) \
  $(if $(CDN_PRIVATE_KEY_FILE),--cdn-private-key-pem $(CDN_PRIVATE_KEY_FILE)) $(if $(CODE_BUCKET),--code-bucket $(CODE_BUCKET))
deploy: package
	$(PY) -m infra.deploy deploy $(DEPLOY_ARGS) --package-dir out

deploy-data: venv
	$(PY) -m infra.deploy deploy $(DEPLOY_ARGS) --data-only

destroy: venv
	$(PY) -m infra.deploy destroy --stage $(STAGE) $(if $(YES),--yes) $(if $(FORCE),--force) \
	  $(if $(CODE_BUCKET),--code-bucket $(CODE_BUCKET))
