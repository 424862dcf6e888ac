// ProcessGroup — the ranks of one data-parallel job, joined through libtorch's c10d: a TCPStore
// rendezvous (rank 0 serves it) and a Gloo (CPU tensors) or NCCL (CUDA tensors) process group. It
// offers what a data-parallel trainer needs: the gradient all-reduce after backward (libtorch has no
// C++ DistributedDataParallel, so the trainer calls it itself), a sum of a few numbers, a broadcast.
//
// Every collective is bounded by the group's timeout: when a rank dies (killed, out of memory) the
// others fail with an error instead of waiting forever — Gloo notices a closed connection at once.
import CTorch
#if canImport(Glibc)
import Glibc
#endif

/// A c10d collective backend.
public enum ProcessGroupBackend: String, Sendable, CaseIterable {
    /// CPU tensors (Gloo runs inside libtorch).
    case gloo
    /// CUDA tensors.
    case nccl

    /// The backend for tensors on `device`.
    public static func `for`(_ device: Device) -> ProcessGroupBackend {
        if case .cuda = device { return .nccl }
        return .gloo
    }

    /// The backends this build of the torch shim can create (Gloo needs Gloo's headers when the shim is
    /// built, NCCL libtorch's CUDA build).
    public static var available: [ProcessGroupBackend] {
        guard let names = ctorch_process_group_backends() else { return [] }
        defer { ctorch_free_string(names) }
        return String(cString: names).split(separator: ",").compactMap { ProcessGroupBackend(rawValue: String($0)) }
    }
}

public final class ProcessGroup: @unchecked Sendable {
    let handle: OpaquePointer
    public let rank: Int
    public let worldSize: Int
    public let backend: ProcessGroupBackend
    public let timeoutSeconds: Double

    /// Joins the group: blocks until all `worldSize` ranks have reached the store at `host:port` (or the
    /// timeout passes, which throws).
    public init(host: String, port: Int, rank: Int, worldSize: Int, backend: ProcessGroupBackend, timeoutSeconds: Double) throws {
        try TorchRuntime.ensureConfigured()
        // A peer that dies closes its sockets; a Gloo or store write to one then raises SIGPIPE, whose default
        // action kills this process before the collective can fail with an error naming the peer (seen: rank 0
        // "killed by signal 13" instead of "rank 1 … killed by signal 9"). Ignored, the write fails with EPIPE
        // and c10d throws. (Python, and so torchrun's ranks, ignore SIGPIPE the same way.)
        signal(SIGPIPE, SIG_IGN)
        var out: OpaquePointer? = nil
        try check {
            ctorch_process_group_new(host, Int32(port), Int32(rank), Int32(worldSize), backend.rawValue, Int64(timeoutSeconds * 1000), &out, $0)
        }
        self.handle = out!
        self.rank = rank
        self.worldSize = worldSize
        self.backend = backend
        self.timeoutSeconds = timeoutSeconds
    }

    deinit {
        ctorch_process_group_free(handle)
    }

    /// Sums `tensors` over every rank in place (one collective), then multiplies them by `scale`.
    public func allReduce(_ tensors: [Tensor], scale: Double = 1) throws {
        guard !tensors.isEmpty else { return }
        let handles: [OpaquePointer?] = tensors.map { $0.handle }
        try withExtendedLifetime(tensors) {
            try check { ctorch_process_group_all_reduce(handle, handles, handles.count, scale, $0) }
        }
    }

    /// Averages the gradients of `parameters` over the ranks, in place: what makes N ranks of batch b
    /// step like one rank of batch N·b. A parameter without a gradient takes part with zeros, so every
    /// rank reduces the same buffer.
    public func averageGradients(_ parameters: [Tensor]) throws {
        var grads: [Tensor] = []
        grads.reserveCapacity(parameters.count)
        for parameter in parameters {
            if let grad = parameter.grad {
                grads.append(grad)
            } else {
                let zeros = try withNoGrad { try parameter.detach().zerosLike() }
                try parameter.setGrad(zeros)
                grads.append(parameter.grad ?? zeros)
            }
        }
        try withNoGrad { try allReduce(grads, scale: 1 / Double(worldSize)) }
    }

    /// The sum of `values` over every rank, element by element (float64 on the CPU; for NCCL on the
    /// group's CUDA device).
    public func sum(_ values: [Double], device: Device = .cpu) throws -> [Double] {
        let tensor = try Tensor(values).to(device)
        try allReduce([tensor])
        return try tensor.to(Device.cpu).toArray(Double.self)
    }

    /// Copies rank `root`'s `tensors` into every other rank's, in place.
    public func broadcast(_ tensors: [Tensor], root: Int = 0) throws {
        guard !tensors.isEmpty else { return }
        let handles: [OpaquePointer?] = tensors.map { $0.handle }
        try withExtendedLifetime(tensors) {
            try check { ctorch_process_group_broadcast(handle, handles, handles.count, Int32(root), $0) }
        }
    }
}
