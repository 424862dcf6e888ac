// RuntimeTests — facts about the linked libtorch and the process-wide defaults.
import Foundation
import TestSupport
import Testing
import Torch

@Test func linkedLibtorchReportsVersionAndThreads() throws {
    let version = try TorchRuntime.version()
    #expect(version.split(separator: ".").count == 3)
    #expect(try TorchRuntime.numThreads() >= 1)
}

@Test func invalidThreadCountIsAnErrorWithMessage() throws {
    let message = errorMessage { try TorchRuntime.setNumThreads(0) }
    #expect(message?.contains("thread count must be at least 1") == true)
}

@Test func threadCountDefaultsToTheMachinesCoresUnlessLoomThreadsIsSet() throws {
    #expect(try TorchRuntime.defaultThreadCount(environment: [:]) == ProcessInfo.processInfo.activeProcessorCount)
    #expect(try TorchRuntime.defaultThreadCount(environment: ["LOOM_THREADS": "3"]) == 3)
    let message = errorMessage { _ = try TorchRuntime.defaultThreadCount(environment: ["LOOM_THREADS": "many"]) }
    #expect(message == "LOOM_THREADS must be a positive integer, got 'many'")
    // The running process got its default at first use.
    #expect(try TorchRuntime.numThreads() == TorchRuntime.defaultThreadCount())
}

// The shim links libtorch by path with an rpath to its directory: the process must map the very
// libtorch it was built against, not another one found first on the system's library path.
@Test func theLoadedLibtorchIsTheOneTheShimWasBuiltAgainst() throws {
    let location = try TorchRuntime.libraryLocation()
    #expect(!location.builtAgainst.isEmpty)
    let loadedDirectory = URL(fileURLWithPath: location.loaded).resolvingSymlinksInPath().deletingLastPathComponent()
    #expect(loadedDirectory.path == URL(fileURLWithPath: location.builtAgainst).resolvingSymlinksInPath().path)
    #expect(URL(fileURLWithPath: location.loaded).lastPathComponent == "libtorch_cpu.so")
    // The headers the shim compiled against and the library it runs with are one release.
    #expect(try TorchRuntime.buildSetting("TORCH_VERSION").map { $0.hasPrefix(try TorchRuntime.version()) } == true)
    #expect(try TorchRuntime.buildSetting("BLAS_INFO") != nil)
}

@Test func loomsKernelLoopsRunOnEveryLibtorchThread() throws {
    // ATen's header-only parallel_for runs serially in a shim compiled without OpenMP (Swift's clang); Loom's
    // kernels fork through libtorch's OpenMP runtime instead, so each of libtorch's threads takes a share.
    let threads = try TorchRuntime.numThreads()
    let loop = try TorchRuntime.parallelLoopCheck(items: 64)
    #expect(loop.openMP, "the torch wheel's libtorch is an OpenMP build and loads libgomp")
    #expect(loop.threads == min(threads, 64))
    #expect(try TorchRuntime.parallelLoopCheck(items: 1).threads == 1)
    // A kernel's exception on any thread comes back as an error, and the loop runs again afterwards.
    #expect(errorMessage { _ = try TorchRuntime.parallelLoopCheck(items: 64, failAt: 63) }?.contains("item 63 failed") == true)
    #expect(errorMessage { _ = try TorchRuntime.parallelLoopCheck(items: 64, failAt: 0) }?.contains("item 0 failed") == true)
    #expect(try TorchRuntime.parallelLoopCheck(items: 64).threads == loop.threads)
}
