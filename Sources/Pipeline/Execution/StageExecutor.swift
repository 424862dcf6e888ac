// StageExecutor — how the runner starts a stage attempt, polls it and stops it, kept apart from the
// scheduling so that another backend (Slurm: sbatch, squeue, scancel) can be added without touching
// the runner. The stage itself records its status in the store; the executor only reports how the
// attempt's process ended.
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
    /// How the attempt ended, or nil while it runs.
    func poll() -> ChildExit?
    /// Asks the attempt to stop (it records itself `cancelled`).
    func cancel()
    /// Stops it now (after `cancel` went unheeded for the grace period).
    func kill()
}

public protocol StageExecutor: AnyObject {
    func start(_ launch: StageLaunch) throws -> any StageExecution
}
