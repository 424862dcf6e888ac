#!/usr/bin/env bash
# Installs what Loom needs and this machine lacks: Debian packages (libtorch, OpenBLAS with OpenMP,
# SQLite, SentencePiece, the fortunes-ru demo corpus) and the Python `tokenizers` package that one
# test uses to check exported tokenizer.json files. Quiet when everything is already there.
set -euo pipefail

packages=(
  libtorch-dev          # libtorch 1.13 (CPU); set LIBTORCH=/path for another build (e.g. CUDA)
  libopenblas0-openmp   # the BLAS libtorch uses: ~30x faster than reference BLAS
  libsqlite3-dev        # the run store (GRDB)
  libsentencepiece-dev  # tokenizer training
  fortunes-ru           # the demo corpus (/usr/share/games/fortunes/ru)
  zlib1g-dev            # inflate for EPUB and .fb2.zip (corpus readers)
  python3
)

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

# Debian's libtorch takes whichever libblas.so.3 is selected; make sure it is OpenBLAS (OpenMP).
openblas=/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3
if [ -e "$openblas" ] && [ "$(readlink -f /etc/alternatives/libblas.so.3-x86_64-linux-gnu 2>/dev/null)" != "$(readlink -f "$openblas")" ]; then
  sudo=()
  if [ "$(id -u)" != 0 ]; then sudo=(sudo); fi
  "${sudo[@]}" update-alternatives --set libblas.so.3-x86_64-linux-gnu "$openblas"
fi

if ! python3 -c "import tokenizers" 2>/dev/null; then
  echo "install-deps: installing the Python package tokenizers (used by the tokenizer export test)"
  python3 -m pip install -q tokenizers 2>/dev/null \
    || python3 -m pip install -q --user --break-system-packages tokenizers 2>/dev/null \
    || echo "install-deps: could not install tokenizers; the export test will say it was skipped" >&2
fi
