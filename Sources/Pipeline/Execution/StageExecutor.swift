// StageExecutor — how the runner starts a stage attempt, polls it and stops it, kept apart from the
// scheduling: local child processes (LocalProcessExecutor), threads (InProcessExecutor), or Slurm jobs
// (SlurmExecutor: sbatch, sacct/squeue, scancel). The local ones let the stage record its status in the
// store; a Slurm job records into a report file that its execution ingests. Either way, when `poll`
// says the attempt ended, the store holds how.
import Foundation

/// One stage attempt to start.
public struct StageLaunch: Sendable {
    public let invocation: StageInvocation
    public let executable: StageExecutable
    public let logFile: URL

    public init(invocation: StageInvocation, executable: StageExecutable, logFile: URL) {
        self.invocation = invocation
        self.executable = executable
        self.logFile = logFile
    }
}

public protocol StageExecution: AnyObject {
    /// The pid to record while the attempt runs, when there is one on this host.
    var pid: Int32? { get }
    /// How people know the attempt besides its stage (`Slurm job 42`), if any.
    var label: String? { get }
    /// How the attempt ended, or nil while it runs.
    func poll() -> ChildExit?
    /// Asks the attempt to stop (it records itself `cancelled`).
    func cancel()
    /// Stops it now (after `cancel` went unheeded for the grace period).
    func kill()
}

extension StageExecution {
    public var label: String? { nil }
}

public protocol StageExecutor: AnyObject {
    /// The name runs record and `loom resume` picks again (`local`, `slurm`).
    var name: String { get }
    func start(_ launch: StageLaunch) throws -> any StageExecution
    /// Takes charge again of an attempt that a runner which died left `running`: records what the attempt
    /// reported meanwhile and returns it if it is still queued or running, so that it is followed instead
    /// of started twice. Nil when there is nothing to follow (it ended, or this executor cannot re-attach:
    /// local children stop when their runner dies).
    func reattach(_ stage: StageRecord, of plan: Plan) throws -> (any StageExecution)?
}

extension StageExecutor {
    public var name: String { "local" }
    public func reattach(_ stage: StageRecord, of plan: Plan) throws -> (any StageExecution)? { nil }
}
