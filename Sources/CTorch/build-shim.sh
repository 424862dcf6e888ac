#!/usr/bin/env bash
# build-shim.sh — builds libLoomTorchShim.so from these sources with the system C++ compiler, against the
# libtorch of `$LIBTORCH` or else of the `torch` package that `${PYTHON:-python3}` imports: what a machine
# without Swift (a GPU box) needs to run Loom executables built elsewhere. Flags as Package.swift's: C++17,
# -O2, libtorch linked by path with an rpath, libtorch_cuda kept with --no-as-needed, Gloo and NCCL
# (data parallelism) where their headers are found.
#
# Usage: Sources/CTorch/build-shim.sh OUTPUT_DIRECTORY    (writes OUTPUT_DIRECTORY/libLoomTorchShim.so)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: build-shim.sh OUTPUT_DIRECTORY}"
mkdir -p "$out"
libtorch="${LIBTORCH:-$("${PYTHON:-python3}" -c 'import os, torch; print(os.path.dirname(torch.__file__))')}"
lib="$libtorch/lib"
[ -f "$lib/libtorch_cpu.so" ] || { echo "build-shim: no libtorch_cpu.so under $lib (set LIBTORCH or PYTHON)" >&2; exit 1; }
flags=(-std=c++17 -O2 -fPIC -Wno-c++20-extensions
       -I"$here/Sources/CTorch/include" -I"$libtorch/include" -I"$libtorch/include/torch/csrc/api/include"
       -DLOOM_LIBTORCH_LIB="\"$lib\"")
libs=("$lib/libtorch.so" "$lib/libtorch_cpu.so" "$lib/libc10.so")
if [ -f "$lib/libtorch_cuda.so" ]; then
  libs+=(-Wl,--no-as-needed "$lib/libtorch_cuda.so")
  if [ -f "$lib/libc10_cuda.so" ]; then libs+=("$lib/libc10_cuda.so"); fi
  libs+=(-Wl,--as-needed)
fi
# Data parallelism: Gloo when its headers exist (Debian's libgloo-dev, or GLOO_INCLUDE).
gloo_include="${GLOO_INCLUDE:-/usr/include}"
if [ -f "$gloo_include/gloo/config.h" ]; then flags+=(-DLOOM_WITH_GLOO -DUSE_C10D_GLOO -I"$gloo_include"); fi
# NCCL on a CUDA build: nccl.h (NCCL_INCLUDE, the nvidia-nccl wheel beside torch, or /usr/include), and
# CUDA's headers, which c10d's NCCL header includes through ATen's CUDA context: the toolkit's (CUDA_HOME,
# the nvcc on PATH, or /usr/local/cuda) first, then those of the CUDA wheels torch depends on (cu13: nvidia/cu13/include;
# cu12: nvidia/<library>/include), which hold cuBLAS/cuSPARSE/cuSOLVER headers a toolkit may lack.
# CUDA 13 keeps CCCL (<nv/target>, included by cuda_fp16.h) under include/cccl, which nvcc adds by
# itself and a host compiler does not. One header compiled first says whether it all fits together;
# if not, the shim is built without NCCL and says why (everything else works without it).
nccl_note=""
if [ -f "$lib/libtorch_cuda.so" ]; then
  nccl_flags=()
  # The toolkit: CUDA_HOME, else the one whose nvcc is on PATH, else /usr/local/cuda.
  nvcc="$(command -v nvcc || true)"
  toolkit="${CUDA_HOME:-${nvcc:+$(dirname "$(dirname "$(readlink -f "$nvcc")")")}}"
  for include in "${toolkit:-/usr/local/cuda}/include" /usr/local/cuda/include "$libtorch"/../nvidia/cu13/include "$libtorch"/../nvidia/*/include; do
    case " ${nccl_flags[*]} " in *" -I$include "*) continue ;; esac  # each directory once (cu13 is also in the glob)
    if [ -d "$include" ]; then
      nccl_flags+=(-I"$include")
      if [ -d "$include/cccl" ]; then nccl_flags+=(-I"$include/cccl"); fi
    fi
  done
  for include in "${NCCL_INCLUDE:-}" "$libtorch/../nvidia/nccl/include" "$libtorch/../nvidia/cu13/include" /usr/include; do
    if [ -n "$include" ] && [ -f "$include/nccl.h" ]; then nccl_flags+=(-I"$include"); nccl_found=1; break; fi
  done
  if [ -z "${nccl_found:-}" ]; then
    nccl_note="no nccl.h found (set NCCL_INCLUDE)"
  elif probe="$(echo '#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>' |
                "${CXX:-c++}" "${flags[@]}" -DUSE_C10D_NCCL "${nccl_flags[@]}" -fsyntax-only -x c++ - 2>&1)"; then
    flags+=(-DLOOM_WITH_NCCL -DUSE_C10D_NCCL "${nccl_flags[@]}")
  else
    nccl_note="c10d's NCCL header does not compile with the CUDA headers found (set CUDA_HOME to a CUDA toolkit): $(echo "$probe" | grep -m1 'error')"
  fi
fi
backends=""
case " ${flags[*]} " in *LOOM_WITH_GLOO*) backends="gloo" ;; esac
case " ${flags[*]} " in *LOOM_WITH_NCCL*) backends="${backends:+$backends, }nccl" ;; esac
if [ -n "$nccl_note" ]; then echo "build-shim: building without NCCL: $nccl_note" >&2; fi
echo "build-shim: compiling against $libtorch, data-parallel backends: ${backends:-none} (a minute or two)" >&2
# One object per source, compiled in parallel, then linked.
objects="$(mktemp -d)"
trap 'rm -rf "$objects"' EXIT
printf '%s\n' "$here"/Sources/CTorch/*.cpp | xargs -P "$(nproc)" -I{} sh -c \
  '"$0" "$@" -c "{}" -o "'"$objects"'/$(basename "{}" .cpp).o"' "${CXX:-c++}" "${flags[@]}"
"${CXX:-c++}" -shared "$objects"/*.o "${libs[@]}" -Wl,-rpath,"$lib" -lstdc++ -o "$out/libLoomTorchShim.so"
echo "build-shim: wrote $out/libLoomTorchShim.so" >&2
