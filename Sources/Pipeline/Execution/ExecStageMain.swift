// ExecStageMain — the whole of an `exec-stage` subcommand, shared by `loom` and `loom-torch` (each
// passes its registry and who it is): parse the invocation, open the store (or, in a batch job, the
// job directory's plan and report file), turn SIGTERM/SIGINT/SIGHUP into cancellation, run the stage
// driver, and return the exit status.
import Foundation

public enum ExecStageMain {
    public static func run(arguments: [String], registry: StageKindRegistry, role: StageExecutable) -> Int32 {
        let invocation: StageInvocation
        do {
            invocation = try StageInvocation(arguments: arguments)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            return 2
        }
        let cancellation = CancellationFlag()
        let signals = SignalWatcher(signals: [SIGTERM, SIGINT, SIGHUP]) { signal in
            cancellation.cancel(reason: "received \(ChildExit.signalName(signal) ?? "signal \(signal)")")
        }
        defer { signals.stop() }
        let driver = StageDriver(registry: registry, role: role, childrenJoinProcessGroup: true)
        let launch: DataParallelLaunch?
        do {
            launch = try DataParallelLaunch.fromEnvironment()
        } catch {
            return refuse("\(error)")
        }
        if let launch, launch.rank != 0 { return runFollower(invocation, launch: launch, driver: driver, cancellation: cancellation) }
        if let jobDirectory = invocation.jobDirectory {
            return runJob(invocation, directory: JobDirectory(url: jobDirectory), driver: driver, cancellation: cancellation, launch: launch)
        }
        let store: RunStore
        do {
            store = try RunStore(home: invocation.home)
        } catch {
            return refuse("cannot open the run store in \(invocation.home.path): \(error)")
        }
        return driver.execute(invocation, store: store, cancellation: cancellation, dataParallel: launch).exitCode
    }

    /// A data-parallel rank other than 0: reads the plan (from the job directory, or the store) and
    /// computes beside rank 0, recording nothing.
    private static func runFollower(_ invocation: StageInvocation, launch: DataParallelLaunch, driver: StageDriver,
                                    cancellation: CancellationFlag) -> Int32 {
        let plan: Plan
        do {
            if let jobDirectory = invocation.jobDirectory {
                plan = try JobDirectory(url: jobDirectory).readPlan()
            } else {
                plan = try RunStore(home: invocation.home).plan(ofRun: invocation.run)
            }
        } catch {
            return refuse("rank \(launch.rank): cannot read the plan of run \(invocation.run): \(ErrorText.describe(error))")
        }
        let outcome = driver.executeFollower(invocation, plan: plan, layout: StoreLayout(home: invocation.home), launch: launch,
                                             cancellation: cancellation)
        if case .failed(let message) = outcome { FileHandle.standardError.write(Data("rank \(launch.rank): \(message)\n".utf8)) }
        return outcome.exitCode
    }

    /// A batch job (possibly on another node): the store is the runner's alone.
    private static func runJob(_ invocation: StageInvocation, directory: JobDirectory, driver: StageDriver,
                               cancellation: CancellationFlag, launch: DataParallelLaunch?) -> Int32 {
        let recorder: ReportFileRecorder
        do {
            recorder = try ReportFileRecorder(file: directory.report)
        } catch {
            return refuse("cannot write to \(directory.url.path): \(error)")
        }
        let plan: Plan
        do {
            plan = try directory.readPlan()
        } catch {
            let message = "cannot read the plan in \(directory.plan.path): \(ErrorText.describe(error))"
            try? recorder.finish(.failed, exitCode: nil, error: message)
            return refuse(message)
        }
        return driver.execute(invocation, plan: plan, layout: StoreLayout(home: invocation.home), recorder: recorder,
                              cancellation: cancellation, dataParallel: launch).exitCode
    }

    /// The attempt cannot even start: says why on stderr (the attempt's log) and returns status 2.
    private static func refuse(_ message: String) -> Int32 {
        FileHandle.standardError.write(Data("exec-stage: \(message)\n".utf8))
        return 2
    }
}
