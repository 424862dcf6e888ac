// swift-tools-version:6.1
// Loom — a LoRA fine-tuning pipeline orchestrator. The map of the modules is in README.md ("Code map").
//
// Two executables: `loom` (the CLI people type; never links libtorch, so it starts in milliseconds)
// and `loom-torch` (model verbs and model stage kinds; the only product that links libtorch).
//
// libtorch is found at Debian's paths (`apt install libtorch-dev`), or under `$LIBTORCH`
// (`$LIBTORCH/include`, `$LIBTORCH/lib`, rpath), the way tch-rs does it. A CUDA build of libtorch
// under `$LIBTORCH` also links `torch_cuda`/`c10_cuda` (with --no-as-needed, as nothing names them).
import Foundation
import PackageDescription

let environment = Context.environment
let libtorch = environment["LIBTORCH"].flatMap { $0.isEmpty ? nil : $0 }
let torchIncludeRoot = libtorch.map { "\($0)/include" } ?? "/usr/include"
let torchLibDir = libtorch.map { "\($0)/lib" } ?? "/usr/lib/x86_64-linux-gnu"
let torchHasCUDA = FileManager.default.fileExists(atPath: "\(torchLibDir)/libtorch_cuda.so")

var torchLinkFlags = ["-L\(torchLibDir)", "-Xlinker", "-rpath", "-Xlinker", torchLibDir]
if torchHasCUDA {
    torchLinkFlags += ["-Xlinker", "--no-as-needed", "-ltorch_cuda", "-lc10_cuda", "-Xlinker", "--as-needed"]
}

let package = Package(
    name: "Loom",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "loom", targets: ["loom"]),
        .executable(name: "loom-torch", targets: ["loom-torch"]),
        // Loaded at run time with dlopen(RTLD_LOCAL | RTLD_DEEPBIND), never linked: Debian's
        // libsentencepiece bundles protobuf-lite 3.14 and exports its symbols, which collide with the
        // libprotobuf 3.21 that libtorch loads (a process linking both aborts before `main`).
        .library(name: "LoomSentencePiece", type: .dynamic, targets: ["CSentencePiece"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // MARK: model core (torch side)
        .target(
            name: "CTorch",
            cxxSettings: [
                .unsafeFlags([
                    "-std=c++17", "-O2",
                    "-I\(torchIncludeRoot)",
                    "-I\(torchIncludeRoot)/torch/csrc/api/include",
                ]),
            ],
            linkerSettings: [
                .unsafeFlags(torchLinkFlags),
                .linkedLibrary("torch"),
                .linkedLibrary("torch_cpu"),
                .linkedLibrary("c10"),
                .linkedLibrary("stdc++"),
            ]
        ),
        .target(name: "Torch", dependencies: ["CTorch", "LoomCore"]),
        .target(name: "LLM", dependencies: ["Torch", "LoomCore"]),

        // MARK: tokenizers (CSentencePiece is only ever reached through the LoomSentencePiece product)
        .target(
            name: "CSentencePiece",
            cxxSettings: [.unsafeFlags(["-std=c++17", "-O2"])],
            linkerSettings: [
                .linkedLibrary("sentencepiece"),
                .linkedLibrary("sentencepiece_train"),
                .linkedLibrary("stdc++"),
            ]
        ),
        .target(name: "Tokenizers", dependencies: ["LoomCore"]),

        // MARK: corpus, orchestration, reports (torch-free)
        .target(name: "LoomCore", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // zlib's raw inflate for EPUB and .fb2.zip, read in memory (Sources/CZlib; Debian: zlib1g-dev).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "Corpus", dependencies: ["LoomCore", "CZlib", .product(name: "Crypto", package: "swift-crypto")]),
        .target(
            name: "Pipeline",
            dependencies: [
                "LoomCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API for the one hot loop GRDB's argument binding would slow (metric rows).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(name: "Stages", dependencies: ["Pipeline", "Corpus", "Tokenizers", "LoomCore"]),
        .target(name: "ModelStages", dependencies: ["Stages", "LLM", "Tokenizers", "Corpus"]),
        .target(name: "Report", dependencies: ["Pipeline", "LoomCore"]),

        // MARK: executables
        .executableTarget(
            name: "loom",
            dependencies: [
                "Pipeline", "Stages", "Corpus", "Tokenizers", "Report", "LoomCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "loom-torch",
            dependencies: [
                "ModelStages", "Stages", "LLM", "Torch", "Pipeline", "Tokenizers", "LoomCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: tests (fixtures under Tests/Fixtures; they never read ../shared)
        .target(name: "TestSupport", dependencies: ["LoomCore"], path: "Tests/TestSupport"),
        .testTarget(name: "LoomCoreTests", dependencies: ["LoomCore", "TestSupport"]),
        .testTarget(name: "TorchTests", dependencies: ["Torch", "LoomCore", "TestSupport"]),
        .testTarget(name: "LLMTests", dependencies: ["LLM", "Torch", "LoomCore", "TestSupport"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "LoomCore", "TestSupport"]),
        .testTarget(name: "CorpusTests", dependencies: ["Corpus", "CZlib", "LoomCore", "TestSupport"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "LoomCore", "TestSupport"]),
        .target(name: "StageTestSupport", dependencies: ["Stages", "Pipeline", "LoomCore", "TestSupport"], path: "Tests/StageTestSupport"),
        .testTarget(name: "StagesTests", dependencies: ["Stages", "Pipeline", "Corpus", "Tokenizers", "LoomCore", "TestSupport", "StageTestSupport"]),
        .testTarget(
            name: "ModelStagesTests",
            dependencies: ["ModelStages", "Stages", "Pipeline", "LLM", "Torch", "Tokenizers", "Corpus", "LoomCore", "TestSupport", "StageTestSupport"]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "Pipeline", "LoomCore", "TestSupport"]),
        .testTarget(name: "LoomCLITests", dependencies: ["LoomCore", "TestSupport"]),
    ],
    cxxLanguageStandard: .cxx17
)
