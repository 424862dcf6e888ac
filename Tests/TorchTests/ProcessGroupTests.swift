// ProcessGroupTests — a c10d group of one rank in this process: its collectives are identities a trainer
// relies on (the all-reduce's scale, a sum, a broadcast from rank 0, gradients made for parameters
// without one), and a backend this build lacks is refused by name, saying what the build needed.
// Multi-rank groups run in DataParallelCLITests (separate processes, as c10d requires).
import Foundation
import LoomCore
import TestSupport
import Testing
import Torch

@Suite struct ProcessGroupTests {
    private func group(_ backend: ProcessGroupBackend) throws -> ProcessGroup {
        try ProcessGroup(host: "127.0.0.1", port: FreePort.onLoopback(), rank: 0, worldSize: 1, backend: backend, timeoutSeconds: 20)
    }

    @Test(.enabled(if: ProcessGroupBackend.available.contains(.gloo), "this shim was built without Gloo's headers"))
    func aGroupOfOneReducesSumsAndBroadcastsAsIdentities() throws {
        let group = try group(.gloo)
        #expect(group.rank == 0 && group.worldSize == 1)
        let tensor = try Tensor([Float(1.5), -2, 4])
        try group.allReduce([tensor], scale: 0.5)
        #expect(try tensor.toArray(Float.self) == [0.75, -1, 2])
        #expect(try group.sum([3, 0.25]) == [3, 0.25])
        let broadcast = try Tensor([Float(7), 8])
        try group.broadcast([broadcast])
        #expect(try broadcast.toArray(Float.self) == [7, 8])
        // A parameter that took no part in the loss gets a zero gradient, so every rank reduces one buffer.
        let used = try Tensor([Float(1), 2]).setRequiresGrad()
        let unused = try Tensor([Float(3)]).setRequiresGrad()
        try used.mul(used).sum().backward()
        try group.averageGradients([used, unused])
        #expect(try used.grad?.toArray(Float.self) == [2, 4])
        #expect(try unused.grad?.toArray(Float.self) == [0])
    }

    @Test func aBackendThisBuildLacksIsRefusedSayingWhatItNeeded() throws {
        let missing = ProcessGroupBackend.allCases.filter { !ProcessGroupBackend.available.contains($0) }
        for backend in missing {
            let message = errorMessage { _ = try group(backend) }
            #expect(message?.hasPrefix("this build of the torch shim has no \(backend == .gloo ? "Gloo" : "NCCL") backend: ") == true,
                    "\(message ?? "no error")")
            #expect(message?.contains("process group rendezvous at 127.0.0.1:") == true, "\(message ?? "")")
        }
        // A CPU-only libtorch can have no NCCL, so on this project's machines the NCCL refusal runs here.
        if try TorchRuntime.buildSetting("CUDA_VERSION") == nil { #expect(missing.contains(.nccl)) }
    }
}
