// InProcessExecutor — runs each stage attempt on a thread of the runner's own process, with the
// registry it is given. Pipeline's tests use it to drive stage kinds that exist only in the test
// binary; it also suits embedding Loom in another program. Child processes a kind starts get a
// process group of their own, so cancelling them never signals the host process.
//
// With `reportFiles`, an attempt records the way a Slurm job does — into its job directory's report
// file, which the execution ingests into the store — so the report-file route is tested without a
// cluster.
import Foundation

public final class InProcessExecutor: StageExecutor {
    private let driver: StageDriver
    private let reportFiles: Bool

    public init(registry: StageKindRegistry, role: StageExecutable = .loom, heartbeatInterval: Double = 1, reportFiles: Bool = false) {
        driver = StageDriver(registry: registry, role: role, childrenJoinProcessGroup: false, heartbeatInterval: heartbeatInterval)
        self.reportFiles = reportFiles
    }

    public func start(_ launch: StageLaunch) throws -> any StageExecution {
        let store = try RunStore(home: launch.invocation.home)
        let own = launch.invocation
        let driver = driver
        guard reportFiles else {
            let execution = InProcessExecution(ingester: nil)
            // The stage shares the runner's process, so there is no parent to watch.
            let invocation = StageInvocation(home: own.home, run: own.run, stage: own.stage, attempt: own.attempt, force: own.force,
                                             parentPID: nil, jobDirectory: own.jobDirectory)
            let (outcome, cancellation) = (execution.outcome, execution.cancellation)
            Thread.detachNewThread {
                let result = driver.execute(invocation, store: store, cancellation: cancellation)
                outcome.withLock { $0 = result }
            }
            return execution
        }
        let directory = store.layout.jobDirectory(run: own.run, stage: own.stage, attempt: own.attempt)
        try? FileManager.default.removeItem(at: directory.url)
        let recorder = try ReportFileRecorder(file: directory.report)
        let plan = try store.plan(ofRun: own.run)
        let invocation = StageInvocation(home: own.home, run: own.run, stage: own.stage, attempt: own.attempt, force: own.force,
                                         parentPID: nil, jobDirectory: directory.url)
        let execution = InProcessExecution(ingester: ReportIngester(store: store, run: own.run, stage: own.stage, directory: directory))
        let (outcome, cancellation) = (execution.outcome, execution.cancellation)
        Thread.detachNewThread {
            let result = driver.execute(invocation, plan: plan, layout: store.layout, recorder: recorder, cancellation: cancellation)
            outcome.withLock { $0 = result }
        }
        return execution
    }
}

final class InProcessExecution: StageExecution {
    let cancellation = CancellationFlag()
    /// Set by the stage's thread when the attempt ends.
    let outcome = Locked<StageOutcome?>(nil)
    /// Reads the attempt's report file into the store, when it records through one.
    private let ingester: ReportIngester?

    init(ingester: ReportIngester?) { self.ingester = ingester }

    var pid: Int32? { ProcessState.currentPID }

    func poll() -> ChildExit? {
        try? ingester?.ingestIfDue()
        guard let outcome = outcome.current else { return nil }
        try? ingester?.ingest(final: true)
        return .exited(outcome.exitCode)
    }

    func cancel() { cancellation.cancel(reason: "cancelled by the runner") }
    /// A thread cannot be killed; the stage stops at its next cancellation check.
    func kill() { cancel() }
}
