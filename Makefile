# Loom — the two commands a newcomer needs are `make demo` and `make test`.
SWIFT ?= swift
LOOM_HOME ?= runs

.PHONY: deps venv-hf venv-bench build release test demo bench clean

# Debian packages and the project virtual environment .venv/ (the pinned torch the shim links).
deps:
	@scripts/install-deps.sh

# .venv/ plus Hugging Face's reference stack (transformers, PEFT): fixture scripts and benchmark anchors.
venv-hf:
	@scripts/install-deps.sh hf

# .venv/ plus DVC and MLflow, the anchors bench/orchestrator measures Loom against.
venv-bench:
	@scripts/install-deps.sh bench

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# Installs what is missing, builds everything (tests included) and runs every test.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# The whole demo recipe on the embedded default data, end to end; then the variants side by side and
# the HTML report. A second `make demo` finds every stage in the cache.
demo: release
	.build/release/loom run recipes/demo.yaml --home $(LOOM_HOME)
	.build/release/loom compare demo --home $(LOOM_HOME)
	.build/release/loom report demo --home $(LOOM_HOME) --out $(LOOM_HOME)/demo-report.html

bench: release
	@for b in bench/*/run; do echo "== $$b"; $$b; done

clean:
	rm -rf .build
