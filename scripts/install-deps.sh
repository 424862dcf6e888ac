#!/usr/bin/env bash
# Installs what Loom needs and this machine lacks: a few Debian packages (SQLite, SentencePiece, zlib,
# Python's venv, the fortunes-ru demo corpus) and the project virtual environment `.venv/` with the
# pinned torch (whose libtorch the shim links) and tokenizers (scripts/requirements.txt).
# `install-deps.sh hf` also adds Hugging Face's reference stack (scripts/requirements-hf.txt) for the
# fixture scripts, the benchmarks' anchors and scripts/check-hf-load.py; `install-deps.sh bench` adds
# the orchestrator benchmark's anchors, DVC and MLflow (scripts/requirements-bench.txt); `install-deps.sh
# llama-cpp` adds the Hugging Face stack and llama.cpp itself (scripts/requirements-llama-cpp.txt: the
# llama_cpp binding, built from source) for scripts/check-gguf.py --llama-cpp; `install-deps.sh slurm` adds
# Debian's Slurm and munge, for `make test-slurm` (scripts/slurm-cluster.sh runs them).
# Quiet when everything is already there. LOOM_PYTHON picks the interpreter that makes the venv.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  libsqlite3-dev        # the run store (GRDB)
  libsentencepiece-dev  # tokenizer training
  fortunes-ru           # the demo corpus (/usr/share/games/fortunes/ru)
  zlib1g-dev            # inflate for EPUB and .fb2.zip (corpus readers)
  libgloo-dev           # Gloo's headers: the torch shim's data-parallel process groups (libtorch runs Gloo itself)
  python3
  python3-venv          # the project virtual environment (.venv/)
)
# The English fortunes the tokenizer fixtures train on besides fortunes-ru (scripts/make-tokenizer-fixtures.py).
if [ "${1:-}" = hf ] || [ "${1:-}" = llama-cpp ]; then packages+=(fortunes); fi
if [ "${1:-}" = slurm ]; then
  # A one-node cluster for the Slurm executor's tests; no slurmdbd, so sacct reports accounting disabled.
  packages+=(slurmctld slurmd slurm-client munge)
fi

if ! command -v swift >/dev/null; then
  echo "install-deps: swift is not on PATH; install Swift 6.1 or later (https://www.swift.org/install/linux/)" >&2
  exit 1
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo=()
  if [ "$(id -u)" != 0 ]; then sudo=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The venv is (re)filled when a requirements file changed since it was last filled: a stamp holds their
# digest. A venv whose interpreter is gone (the Python it was made from was removed) is made again.
requirements=scripts/requirements.txt
case "${1:-}" in
  hf) requirements=scripts/requirements-hf.txt ;;
  bench) requirements=scripts/requirements-bench.txt ;;
  llama-cpp) requirements=scripts/requirements-llama-cpp.txt ;;
esac
python=${LOOM_PYTHON:-python3}
if [ -d .venv ] && ! .venv/bin/python -c "" 2>/dev/null; then
  echo "install-deps: .venv/ is broken (its interpreter does not start); making it again"
  rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
  echo "install-deps: creating the project virtual environment .venv/ ($("$python" --version 2>&1))"
  "$python" -m venv .venv
fi
stamp=.venv/.loom-$(basename "$requirements" .txt).sha256
digest=$(cat scripts/requirements*.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]; then
  echo "install-deps: installing $requirements into .venv/ (torch is a large download on a first install)"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$requirements"
  echo "$digest" >"$stamp"
fi
