// swift-tools-version:6.1
// LoomTorchShim — Loom's C shim over libtorch, built as a shared library of its own
// (libLoomTorchShim.so) behind the plain-C header `ctorch.h`. The Swift executables link only this
// library, never libtorch, so they do not depend on the libtorch version: on a machine with another
// torch (a GPU box's CUDA build) the same library is rebuilt from these sources with `build-shim.sh`
// (beside this file; no Swift needed there) and found through LD_LIBRARY_PATH.
//
// Which libtorch: `$LIBTORCH` when set (a directory holding include/ and lib/, as tch-rs takes it),
// else the `torch` package of the project's virtual environment (`.venv/`, created by `make` with the
// pinned wheel — tch-rs's LIBTORCH_USE_PYTORCH route). Its libraries are linked by path, never by
// `-l` (the Swift driver searches the system's library directories first, where another libtorch may
// live), and found again at run time through an rpath to their directory.
import Foundation
import PackageDescription

let environment = Context.environment
let projectRoot = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().deletingLastPathComponent()

/// `.venv/lib/python3.*/site-packages/torch` under the project root, when the venv holds torch.
func virtualEnvironmentTorch() -> String? {
    let lib = projectRoot.appendingPathComponent(".venv/lib")
    let pythons = (try? FileManager.default.contentsOfDirectory(atPath: lib.path)) ?? []
    for python in pythons.sorted() where python.hasPrefix("python") {
        let torch = lib.appendingPathComponent(python).appendingPathComponent("site-packages/torch")
        if FileManager.default.fileExists(atPath: torch.appendingPathComponent("lib/libtorch_cpu.so").path) {
            return torch.path
        }
    }
    return nil
}

let libtorch = environment["LIBTORCH"].flatMap { $0.isEmpty ? nil : $0 } ?? virtualEnvironmentTorch()

var compileFlags = ["-std=c++17", "-O2"]
var linkFlags: [String] = []
if let libtorch {
    let lib = "\(libtorch)/lib"
    compileFlags += [
        "-I\(libtorch)/include", "-I\(libtorch)/include/torch/csrc/api/include",
        "-DLOOM_LIBTORCH_LIB=\"\(lib)\"",
    ]
    func library(_ name: String) -> String { "\(lib)/lib\(name).so" }
    linkFlags += ["torch", "torch_cpu", "c10"].flatMap { ["-Xlinker", library($0)] }
    // A CUDA build: nothing names libtorch_cuda's symbols (its kernels register themselves when it
    // loads), so it is kept with --no-as-needed.
    let cuda = ["torch_cuda", "c10_cuda"].filter { FileManager.default.fileExists(atPath: library($0)) }
    if !cuda.isEmpty {
        linkFlags += ["-Xlinker", "--no-as-needed"] + cuda.flatMap { ["-Xlinker", library($0)] } + ["-Xlinker", "--as-needed"]
        // The allocator's statistics (peak device memory) need CUDA's runtime headers as well.
        let cudaHome = environment["CUDA_HOME"] ?? "/usr/local/cuda"
        if cuda.contains("c10_cuda"), FileManager.default.fileExists(atPath: "\(cudaHome)/include/cuda_runtime_api.h") {
            compileFlags += ["-DLOOM_WITH_CUDA", "-I\(cudaHome)/include"]
        }
    }
    linkFlags += ["-Xlinker", "-rpath", "-Xlinker", lib]
    // Data parallelism (ctorch_distributed.cpp): Gloo when its headers exist (the wheel compiles Gloo in
    // but ships no gloo/*.h; Debian's libgloo-dev has them), NCCL on a CUDA build with NCCL's header.
    let glooInclude = environment["GLOO_INCLUDE"] ?? "/usr/include"
    if FileManager.default.fileExists(atPath: "\(glooInclude)/gloo/config.h") {
        compileFlags += ["-DLOOM_WITH_GLOO", "-DUSE_C10D_GLOO", "-I\(glooInclude)"]
    }
    if compileFlags.contains("-DLOOM_WITH_CUDA") {
        let ncclIncludes = [environment["NCCL_INCLUDE"], "\(libtorch)/../nvidia/nccl/include", "/usr/include"].compactMap { $0 }
        if let nccl = ncclIncludes.first(where: { FileManager.default.fileExists(atPath: "\($0)/nccl.h") }) {
            compileFlags += ["-DLOOM_WITH_NCCL", "-DUSE_C10D_NCCL", "-I\(nccl)"]
        }
    }
} else {
    // ctorch_internal.hpp turns this into one #error that says how to get a libtorch.
    compileFlags += ["-DLOOM_LIBTORCH_MISSING"]
}

let package = Package(
    name: "LoomTorchShim",
    products: [.library(name: "LoomTorchShim", type: .dynamic, targets: ["CTorch"])],
    targets: [
        .target(
            name: "CTorch",
            cxxSettings: [.unsafeFlags(compileFlags)],
            linkerSettings: [.unsafeFlags(linkFlags), .linkedLibrary("stdc++")]
        ),
    ],
    cxxLanguageStandard: .cxx17
)
