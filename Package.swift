// swift-tools-version:6.1
// Loom — a LoRA fine-tuning pipeline orchestrator. The map of the modules is in README.md ("Code map").
//
// Two executables people run: `loom` (the CLI people type; never links libtorch, so it starts in
// milliseconds) and `loom-torch` (model verbs and model stage kinds); a third, `loom-bench`, holds the
// benchmarks' instruments. libtorch is reached only through the shim's
// shared library, `LoomTorchShim` (the local package in Sources/CTorch, which says how its libtorch is
// found: the pinned wheel in the project's `.venv/`, or `$LIBTORCH`), so the Swift code does not depend
// on the libtorch version.
import PackageDescription

let package = Package(
    name: "Loom",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "loom", targets: ["loom"]),
        .executable(name: "loom-torch", targets: ["loom-torch"]),
        // The benchmarks' instruments (bench/*/run, and tests that need a process of their own); not shipped.
        .executable(name: "loom-bench", targets: ["loom-bench"]),
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
        .package(path: "Sources/CTorch"),
    ],
    targets: [
        // MARK: model core (torch side)
        .target(name: "Torch", dependencies: [.product(name: "LoomTorchShim", package: "CTorch"), "LoomCore"]),
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
        .executableTarget(
            name: "loom-bench",
            dependencies: ["LLM", "Torch", "LoomCore", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        // MARK: tests (fixtures under Tests/Fixtures; they never read ../shared)
        .target(name: "TestSupport", dependencies: ["LoomCore"], path: "Tests/TestSupport"),
        .testTarget(name: "LoomCoreTests", dependencies: ["LoomCore", "TestSupport"]),
        .testTarget(name: "TorchTests", dependencies: ["Torch", "LoomCore", "TestSupport"]),
        .testTarget(name: "LLMTests", dependencies: ["LLM", "Torch", "LoomCore", "TestSupport"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "LoomCore", "TestSupport"]),
        .testTarget(name: "CorpusTests", dependencies: ["Corpus", "CZlib", "LoomCore", "TestSupport"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "LoomCore", "TestSupport"]),
        .target(name: "StageTestSupport", dependencies: ["Stages", "Pipeline", "LoomCore", "Corpus", "Tokenizers", "TestSupport"], path: "Tests/StageTestSupport"),
        .testTarget(name: "StagesTests", dependencies: ["Stages", "Pipeline", "Corpus", "Tokenizers", "LoomCore", "TestSupport", "StageTestSupport"]),
        .testTarget(
            name: "ModelStagesTests",
            dependencies: ["ModelStages", "Stages", "Pipeline", "LLM", "Torch", "Tokenizers", "Corpus", "LoomCore", "TestSupport", "StageTestSupport"]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "Pipeline", "LoomCore", "TestSupport"]),
        .testTarget(name: "LoomCLITests", dependencies: ["LoomCore", "TestSupport"]),
    ],
    cxxLanguageStandard: .cxx17
)
