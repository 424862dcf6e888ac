// DataParallelRanks — the ranks of a data-parallel training stage (`processes: N` on `train` and
// `pretrain-base`). Started first thing in the kind's run, so that every rank loads its model and data
// at the same time:
//   - launched by `srun`, `torchrun --no-python` or our own rank 0 (the environment says so,
//     StageContext.dataParallel): this process is one rank and starts nothing;
//   - `processes: N` with no launcher: this process (the stage) becomes rank 0 and starts ranks
//     1…N-1 on this node — the same `exec-stage` command with RANK, WORLD_SIZE, LOCAL_RANK,
//     MASTER_ADDR=127.0.0.1 and a free MASTER_PORT — and waits for them at the end.
// `group(device:)` then joins c10d's process group (Gloo for CPU tensors, NCCL for CUDA ones) with
// the stage's timeout: a rank that dies makes the others fail within it.
import Foundation
import LLM
import LoomCore
import Pipeline
import Stages
import Torch

final class DataParallelRanks {
    /// This process's place; nil for a single-process stage.
    let launch: DataParallelLaunch?
    let timeoutSeconds: Double
    private var children: [(rank: Int, process: ChildProcess)] = []
    private let context: StageContext

    private init(context: StageContext, launch: DataParallelLaunch?, timeoutSeconds: Double) {
        self.context = context
        self.launch = launch
        self.timeoutSeconds = timeoutSeconds
    }

    deinit {
        // A rank 0 that failed or was cancelled takes its ranks down with it.
        for child in children where child.process.poll() == nil { child.process.signal(SIGKILL) }
    }

    /// The ranks of `context`'s stage: joins the launch the environment describes, or starts
    /// `processes - 1` more ranks on this node.
    static func start(_ context: StageContext, processes: Int, timeoutSeconds: Double) throws -> DataParallelRanks {
        if let launch = context.dataParallel {
            guard processes == 1 || processes == launch.worldSize else {
                throw ParameterConstraintError(
                    "processes", "is \(processes) but the launcher started \(launch.worldSize) ranks (WORLD_SIZE); make them agree")
            }
            if launch.rank == 0 { context.log.info("data parallel: \(launch)") }
            return DataParallelRanks(context: context, launch: launch, timeoutSeconds: timeoutSeconds)
        }
        guard processes > 1 else { return DataParallelRanks(context: context, launch: nil, timeoutSeconds: timeoutSeconds) }
        // The other ranks run this very command; a stage run inside another program (the in-process
        // executor of tests and benchmarks) has no command to start again.
        guard CommandLine.arguments.dropFirst().first == "exec-stage" else {
            throw ParameterConstraintError("processes", "\(processes) ranks need stage \(context.stage) to run as its own `loom-torch exec-stage` process (loom run's local or slurm executor), but here it runs inside another program")
        }
        let port = try FreePort.onLoopback()
        let launch = DataParallelLaunch(rank: 0, localRank: 0, worldSize: processes, masterAddress: "127.0.0.1", masterPort: port)
        let ranks = DataParallelRanks(context: context, launch: launch, timeoutSeconds: timeoutSeconds)
        let executable = try Self.executablePath()
        var environment = ProcessInfo.processInfo.environment
        environment["LOOM_RANK_PARENT"] = String(getpid())
        for rank in 1..<processes {
            let follower = DataParallelLaunch(rank: rank, localRank: rank, worldSize: processes, masterAddress: "127.0.0.1", masterPort: port)
            let child = try context.spawn(
                executable: executable, arguments: Array(CommandLine.arguments.dropFirst()),
                environment: environment.merging(follower.environment) { $1 })
            ranks.children.append((rank, child))
        }
        context.log.info("data parallel: \(processes) processes on this node (ranks 1…\(processes - 1): pids \(ranks.children.map { String($0.process.pid) }.joined(separator: ", "))), rendezvous 127.0.0.1:\(port)")
        return ranks
    }

    /// This executable, as the kernel knows it (the ranks run the very same binary).
    private static func executablePath() throws -> String {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw DataParallelLaunchError("cannot find this executable (\(path)) to start the other ranks")
        }
        return path
    }

    var rank: Int { launch?.rank ?? 0 }
    var worldSize: Int { launch?.worldSize ?? 1 }

    /// The device this rank computes on: CUDA ranks of one node take one GPU each (cuda:LOCAL_RANK)
    /// unless the recipe named an index.
    func device(_ resolved: Device, requested: String) -> Device {
        guard let launch, case .cuda = resolved, requested == "auto" || requested == "cuda" else { return resolved }
        return .cuda(launch.localRank)
    }

    /// Joins the process group (nil for a single process); blocks until every rank has arrived.
    func group(device: Device) throws -> ProcessGroup? {
        guard let launch else { return nil }
        let backend = ProcessGroupBackend.for(device)
        guard ProcessGroupBackend.available.contains(backend) else {
            throw DataParallelLaunchError(
                "\(backend.rawValue) is not in this build of the torch shim (it has: \(ProcessGroupBackend.available.map(\.rawValue).joined(separator: ", ").nilIfEmpty ?? "none")); "
                    + (backend == .gloo ? "install Debian's libgloo-dev and rebuild (make)" : "build the shim against libtorch's CUDA build with NCCL's header"))
        }
        context.progress.report(message: "waiting for \(launch.worldSize) ranks at \(launch.masterAddress):\(launch.masterPort)")
        let group = try ProcessGroup(
            host: launch.masterAddress, port: launch.masterPort, rank: launch.rank, worldSize: launch.worldSize, backend: backend,
            timeoutSeconds: timeoutSeconds)
        context.log.info("joined the \(backend.rawValue) process group as rank \(launch.rank) of \(launch.worldSize)")
        return group
    }

    /// `error` with what became of the ranks this process started, when one of them has ended (a
    /// collective fails as soon as a peer's connection closes, which may be just before its exit is seen).
    func explain(_ error: Error) -> Error {
        guard !children.isEmpty else { return error }
        let deadline = Date().addingTimeInterval(1)
        var ended: [String] = []
        repeat {
            ended = children.compactMap { child in child.process.poll().map { "rank \(child.rank) (pid \(child.process.pid)) \($0)" } }
            if !ended.isEmpty { break }
            usleep(50_000)
        } while Date() < deadline
        guard !ended.isEmpty else { return error }
        return DataParallelLaunchError("\(ended.joined(separator: "; ")), so this rank's collective failed: \(ErrorText.describe(error))")
    }

    /// Waits for the ranks this process started; one that failed fails the stage (its log says why).
    func finish() throws {
        for (rank, child) in children {
            let exit = try context.wait(for: child)
            guard case .exited(0) = exit else {
                throw DataParallelLaunchError("rank \(rank) (pid \(child.pid)) \(exit); see its log \(context.log.file.deletingPathExtension().lastPathComponent).rank-\(rank).log")
            }
        }
        children = []
    }
}

private extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
