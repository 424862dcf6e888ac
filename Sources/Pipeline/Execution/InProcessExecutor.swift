// InProcessExecutor — runs each stage attempt on a thread of the runner's own process, with the
// registry it is given. Pipeline's tests use it to drive stage kinds that exist only in the test
// binary; it also suits embedding Loom in another program. Child processes a kind starts get a
// process group of their own, so cancelling them never signals the host process.
import Foundation

public final class InProcessExecutor: StageExecutor {
    private let driver: StageDriver

    public init(registry: StageKindRegistry, role: StageExecutable = .loom, heartbeatInterval: Double = 1) {
        driver = StageDriver(registry: registry, role: role, childrenJoinProcessGroup: false, heartbeatInterval: heartbeatInterval)
    }

    public func start(_ launch: StageLaunch) throws -> any StageExecution {
        let store = try RunStore(home: launch.invocation.home)
        let execution = InProcessExecution()
        let driver = driver
        // The stage shares the runner's process, so there is no parent to watch.
        let own = launch.invocation
        let invocation = StageInvocation(home: own.home, run: own.run, stage: own.stage, attempt: own.attempt, force: own.force, parentPID: nil)
        Thread.detachNewThread {
            let outcome = driver.execute(invocation, store: store, cancellation: execution.cancellation)
            execution.finish(outcome)
        }
        return execution
    }
}

final class InProcessExecution: StageExecution, Sendable {
    let cancellation = CancellationFlag()
    private let outcome = Locked<StageOutcome?>(nil)

    func finish(_ outcome: StageOutcome) { self.outcome.withLock { $0 = outcome } }

    var pid: Int32? { ProcessState.currentPID }
    func poll() -> ChildExit? { outcome.current.map { .exited($0.exitCode) } }
    func cancel() { cancellation.cancel(reason: "cancelled by the runner") }
    /// A thread cannot be killed; the stage stops at its next cancellation check.
    func kill() { cancel() }
}
