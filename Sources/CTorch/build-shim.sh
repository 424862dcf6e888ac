#!/usr/bin/env bash
# build-shim.sh — builds libLoomTorchShim.so from these sources with the system C++ compiler, against the
# libtorch of `$LIBTORCH` or else of the `torch` package that `${PYTHON:-python3}` imports: what a machine
# without Swift (a GPU box) needs to run Loom executables built elsewhere. Flags as Package.swift's: C++17,
# -O2, libtorch linked by path with an rpath, libtorch_cuda kept with --no-as-needed, and the CUDA
# allocator's statistics (LOOM_WITH_CUDA) where libc10_cuda and CUDA's runtime headers exist.
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
  if [ -f "$lib/libc10_cuda.so" ]; then
    libs+=("$lib/libc10_cuda.so")
    cuda_home="${CUDA_HOME:-/usr/local/cuda}"
    if [ -f "$cuda_home/include/cuda_runtime_api.h" ]; then flags+=(-DLOOM_WITH_CUDA -I"$cuda_home/include"); fi
  fi
  libs+=(-Wl,--as-needed)
fi
# Data parallelism: Gloo when its headers exist (Debian's libgloo-dev, or GLOO_INCLUDE), NCCL on a CUDA
# build whose NCCL header is found (the nvidia-nccl wheel beside torch, NCCL_INCLUDE, or /usr/include).
gloo_include="${GLOO_INCLUDE:-/usr/include}"
if [ -f "$gloo_include/gloo/config.h" ]; then flags+=(-DLOOM_WITH_GLOO -DUSE_C10D_GLOO -I"$gloo_include"); fi
case " ${flags[*]} " in *LOOM_WITH_CUDA*)
  for nccl in "${NCCL_INCLUDE:-}" "$libtorch/../nvidia/nccl/include" /usr/include; do
    if [ -n "$nccl" ] && [ -f "$nccl/nccl.h" ]; then flags+=(-DLOOM_WITH_NCCL -DUSE_C10D_NCCL -I"$nccl"); break; fi
  done ;;
esac
case " ${flags[*]} " in *LOOM_WITH_CUDA*) statistics="with CUDA memory statistics" ;; *) statistics="without CUDA memory statistics" ;; esac
backends=""
case " ${flags[*]} " in *LOOM_WITH_GLOO*) backends="gloo" ;; esac
case " ${flags[*]} " in *LOOM_WITH_NCCL*) backends="${backends:+$backends, }nccl" ;; esac
echo "build-shim: compiling against $libtorch, $statistics, data-parallel backends: ${backends:-none} (a minute or two)" >&2
# One object per source, compiled in parallel, then linked.
objects="$(mktemp -d)"
trap 'rm -rf "$objects"' EXIT
printf '%s\n' "$here"/Sources/CTorch/*.cpp | xargs -P "$(nproc)" -I{} sh -c \
  '"$0" "$@" -c "{}" -o "'"$objects"'/$(basename "{}" .cpp).o"' "${CXX:-c++}" "${flags[@]}"
"${CXX:-c++}" -shared "$objects"/*.o "${libs[@]}" -Wl,-rpath,"$lib" -lstdc++ -o "$out/libLoomTorchShim.so"
echo "build-shim: wrote $out/libLoomTorchShim.so" >&2
