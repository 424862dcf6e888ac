// StageRunning — what `loom run` and `loom resume` share: the executor options (`--executor local|slurm`,
// `-j`, `--gpus`), the executor itself (local `loom exec-stage` / `loom-torch exec-stage` children, or
// Slurm jobs running them), Ctrl-C handling, the live display, and the exit status (0 all succeeded,
// 1 something failed, 130 cancelled).
import ArgumentParser
import Foundation
import Pipeline

/// Which executor runs the stages.
enum ExecutorChoice: String, ExpressibleByArgument, CaseIterable {
    case local
    case slurm
}

struct ExecutorOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Where stages run: local (child processes) or slurm (one sbatch job per stage).", valueName: "local|slurm"))
    var executor: ExecutorChoice?

    @Option(name: [.short, .long], help: "Stages to execute at once (local; default 1), or Slurm jobs queued at once (default: the recipe's executor.max_jobs, else 100).")
    var jobs: Int?

    @Option(name: .long, help: ArgumentHelp("Slurm: GPUs per job for every stage, over the recipe (0 for none; model kinds ask for 1 by default).", valueName: "n"))
    var gpus: Int?

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if let gpus, gpus < 0 { throw ValidationError("--gpus must be 0 or more, got \(gpus)") }
        if gpus != nil, executor == .local { throw ValidationError("--gpus asks Slurm for GPUs: use it with --executor slurm") }
    }
}

enum StageRunning {
    /// The executor `choice` names, for runs of `plans`, and how many stages it runs at once.
    static func executor(_ choice: ExecutorChoice, options: ExecutorOptions, store: RunStore, plans: [Plan]) throws -> (any StageExecutor, Int) {
        let ownExecutable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let executables: [StageExecutable: String] = [.loom: ownExecutable, .loomTorch: ModelVerbs.torchExecutable()]
        switch choice {
        case .local:
            if options.gpus != nil { throw CLIError("--gpus asks Slurm for GPUs; this run uses the local executor (add --executor slurm)", exitCode: 2) }
            return (LocalProcessExecutor(executables: executables), options.jobs ?? 1)
        case .slurm:
            let client = SlurmClient()
            if let problem = client.clusterProblem() {
                throw CLIError("--executor slurm: no Slurm cluster answers here (\(problem)); on one machine, `scripts/slurm-cluster.sh start` starts one")
            }
            let slurmOptions = SlurmExecutor.Options(
                executables: executables, resources: SlurmResources(gpus: options.gpus),
                pollInterval: plans.compactMap(\.executor.pollSeconds).min() ?? 5)
            let jobs = options.jobs ?? plans.compactMap(\.executor.maxJobs).min() ?? 100
            return (SlurmExecutor(store: store, options: slurmOptions, client: client), jobs)
        }
    }

    static func execute(_ runs: [ScheduledRun], store: RunStore, executor: any StageExecutor, jobs: Int, forcedStages: Set<String>) throws -> [Int64: RunStatus] {
        let cancellation = CancellationFlag()
        let signals = SignalWatcher(signals: [SIGINT, SIGTERM, SIGHUP]) { signal in
            cancellation.cancel(reason: signal == SIGINT ? "interrupted (Ctrl-C)" : "received signal \(signal)")
        }
        defer { signals.stop() }
        let runner = Runner(store: store, executor: executor, reporter: ConsoleReporter.standardOutput(),
                            cancellation: cancellation, options: Runner.Options(jobs: jobs))
        return try runner.execute(runs, forcedStages: forcedStages)
    }

    static func exit(for statuses: [Int64: RunStatus]) throws {
        if statuses.values.contains(.cancelled) { throw ExitCode(130) }
        if statuses.values.contains(where: { $0 != .succeeded }) { throw ExitCode(1) }
    }
}
