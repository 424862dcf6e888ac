// StageRunning — what `loom run` and `loom resume` share: the local executor (stages run as
// `loom exec-stage` or `loom-torch exec-stage` children), Ctrl-C handling, the live display, and
// the exit status (0 all succeeded, 1 something failed, 130 cancelled).
import ArgumentParser
import Foundation
import Pipeline

enum StageRunning {
    static func execute(_ runs: [ScheduledRun], store: RunStore, jobs: Int, forcedStages: Set<String>) throws -> [Int64: RunStatus] {
        let cancellation = CancellationFlag()
        let signals = SignalWatcher(signals: [SIGINT, SIGTERM, SIGHUP]) { signal in
            cancellation.cancel(reason: signal == SIGINT ? "interrupted (Ctrl-C)" : "received signal \(signal)")
        }
        defer { signals.stop() }
        let ownExecutable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let executor = LocalProcessExecutor(executables: [.loom: ownExecutable, .loomTorch: ModelVerbs.torchExecutable()])
        let runner = Runner(store: store, executor: executor, reporter: ConsoleReporter.standardOutput(),
                            cancellation: cancellation, options: Runner.Options(jobs: jobs))
        return try runner.execute(runs, forcedStages: forcedStages)
    }

    static func exit(for statuses: [Int64: RunStatus]) throws {
        if statuses.values.contains(.cancelled) { throw ExitCode(130) }
        if statuses.values.contains(where: { $0 != .succeeded }) { throw ExitCode(1) }
    }
}
