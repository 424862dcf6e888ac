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
    }
    linkFlags += ["-Xlinker", "-rpath", "-Xlinker", lib]
    // Data parallelism (ctorch_distributed.cpp): Gloo when its headers exist (the wheel compiles Gloo in
    // but ships no gloo/*.h; Debian's libgloo-dev has them), NCCL on a CUDA build with NCCL's header.
    let glooInclude = environment["GLOO_INCLUDE"] ?? "/usr/include"
    if FileManager.default.fileExists(atPath: "\(glooInclude)/gloo/config.h") {
        compileFlags += ["-DLOOM_WITH_GLOO", "-DUSE_C10D_GLOO", "-I\(glooInclude)"]
    }
    // NCCL on a CUDA build: nccl.h, and CUDA's headers, which c10d's NCCL header includes through ATen's
    // CUDA context — the toolkit's first (searched as build-shim.sh searches), then the CUDA wheels' beside torch (cu13: nvidia/cu13/include;
    // cu12: nvidia/<library>/include); CUDA 13 keeps CCCL (<nv/target>) under include/cccl, which nvcc adds
    // by itself and a host compiler does not. Only where all of it is found (build-shim.sh, which a GPU box
    // without Swift uses, also compiles the header first and says why when it does not).
    if !cuda.isEmpty {
        let nvidia = "\(libtorch)/../nvidia"
        // The toolkit as build-shim.sh finds it: CUDA_HOME, else the one whose nvcc is on PATH, else /usr/local/cuda.
        let nvcc = (environment["PATH"] ?? "").split(separator: ":").map { "\($0)/nvcc" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
        let toolkit = environment["CUDA_HOME"]
            ?? nvcc.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent().path }
            ?? "/usr/local/cuda"
        let wheelIncludes = ((try? FileManager.default.contentsOfDirectory(atPath: nvidia)) ?? []).sorted().map { "\(nvidia)/\($0)/include" }
        var cudaIncludes: [String] = []
        for include in ["\(toolkit)/include", "/usr/local/cuda/include", "\(nvidia)/cu13/include"] + wheelIncludes
        where !cudaIncludes.contains(include) && FileManager.default.fileExists(atPath: include) {
            cudaIncludes += [include] + (FileManager.default.fileExists(atPath: "\(include)/cccl") ? ["\(include)/cccl"] : [])
        }
        func found(_ header: String, in includes: [String]) -> String? {
            includes.first { FileManager.default.fileExists(atPath: "\($0)/\(header)") }
        }
        let ncclIncludes = [environment["NCCL_INCLUDE"], "\(nvidia)/nccl/include", "\(nvidia)/cu13/include", "/usr/include"].compactMap { $0 }
        if let nccl = found("nccl.h", in: ncclIncludes),
           ["cuda_runtime_api.h", "crt/host_config.h", "nv/target", "cusparse.h", "cublas_v2.h"].allSatisfy({ found($0, in: cudaIncludes) != nil }) {
            compileFlags += ["-DLOOM_WITH_NCCL", "-DUSE_C10D_NCCL"] + cudaIncludes.map { "-I\($0)" } + ["-I\(nccl)"]
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
