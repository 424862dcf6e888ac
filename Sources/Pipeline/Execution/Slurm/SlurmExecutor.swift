// SlurmExecutor — runs each stage attempt as a Slurm batch job, the way Snakemake's Slurm plugin and
// Nextflow do: the runner submits a stage when its inputs are ready (`sbatch --parsable`, no up-front
// dependency chains), asks Slurm about every job in flight at once every few seconds (sacct, else
// squeue/scontrol), and cancels with scancel.
//
// The job runs `loom[-torch] exec-stage … --job-dir DIR` with the attempt's job directory (JobDirectory)
// on the shared filesystem: the runner writes the plan and the script there, the stage appends its
// status, heartbeat, metrics, progress and artifacts to the report file, and this executor ingests that
// file into the store — only the runner writes SQLite. A stage's liveness is its heartbeat in that file,
// never a parent pid. A job ended by Slurm (time limit, node failure, out of memory, someone's scancel)
// is recorded `failed` with Slurm's reason, and `loom resume` submits it again; a job still queued or
// running when its runner died is re-attached to by `loom resume`, by the job id the store keeps.
import Foundation
import LoomCore

/// Runs stage attempts as Slurm batch jobs (see the file header).
public final class SlurmExecutor: StageExecutor {
    public struct Options {
        /// The path of each executable, as the compute nodes see it (a shared filesystem).
        public var executables: [StageExecutable: String]
        /// Resources the command line sets for every stage (`--gpus 0`), over the recipe's.
        public var resources: SlurmResources
        /// Seconds between two questions to Slurm about the jobs in flight.
        public var pollInterval: Double
        /// A running job with no line in its report file for this long is cancelled and failed.
        public var heartbeatTimeout: Double

        public init(executables: [StageExecutable: String], resources: SlurmResources = SlurmResources(),
                    pollInterval: Double = 5, heartbeatTimeout: Double = 300) {
            self.executables = executables
            self.resources = resources
            self.pollInterval = pollInterval
            self.heartbeatTimeout = heartbeatTimeout
        }
    }

    public let name = "slurm"
    let store: RunStore
    let client: SlurmClient
    let options: Options
    private var plans: [Int64: Plan] = [:]
    private var inFlight: [SlurmExecution] = []
    private var lastPoll = 0.0

    /// Submits for the runs of `store`, which this executor also records the jobs' reports into.
    public init(store: RunStore, options: Options, client: SlurmClient = SlurmClient()) {
        self.store = store
        self.options = options
        self.client = client
    }

    public func start(_ launch: StageLaunch) throws -> any StageExecution {
        let invocation = launch.invocation
        let executable = try LocalProcessExecutor.path(of: launch.executable, in: options.executables)
        let plan = try plan(of: invocation.run)
        guard let stage = plan.stage(named: invocation.stage) else {
            throw SlurmError("run \(invocation.run) has no stage '\(invocation.stage)'")
        }
        let directory = store.layout.jobDirectory(run: invocation.run, stage: stage.name, attempt: invocation.attempt)
        try? FileManager.default.removeItem(at: directory.url)
        try FileManager.default.createDirectory(at: directory.url, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: launch.logFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFile.write(plan.json.canonicalJSON, to: directory.plan)
        let jobInvocation = StageInvocation(home: invocation.home, run: invocation.run, stage: invocation.stage, attempt: invocation.attempt,
                                            force: invocation.force, parentPID: nil, jobDirectory: directory.url)
        let processes = max(1, stage.params["processes"]?.intValue ?? 1)
        try AtomicFile.write(Self.script(executable: executable, invocation: jobInvocation, plan: plan, processes: processes), to: directory.script)
        chmod(directory.script.path, 0o755)

        let resources = plan.executor.resources(for: stage, commandLine: options.resources)
        let sbatchOptions = ["--job-name=loom-\(invocation.run)-\(stage.name)", "--output=\(launch.logFile.path)", "--open-mode=append",
                             "--chdir=\(plan.projectDirectory)"] + resources.sbatchOptions(tasks: processes)
        let jobID: String
        do {
            jobID = try client.submit(script: directory.script, options: sbatchOptions)
        } catch let error as SlurmError {
            guard let gpus = resources.gpus, gpus > 0 else { throw error }
            throw SlurmError("\(error) — the job asked for \(gpus) GPU(s): model kinds ask for one unless the recipe's executor section or `--gpus 0` says otherwise")
        }
        try store.recordJob(run: invocation.run, stage: stage.name, jobID: jobID, state: "PENDING")
        let execution = SlurmExecution(executor: self, jobID: jobID, run: invocation.run, stage: stage.name,
                                       ingester: ReportIngester(store: store, run: invocation.run, stage: stage.name, directory: directory))
        inFlight.append(execution)
        return execution
    }

    public func reattach(_ record: StageRecord, of plan: Plan) throws -> (any StageExecution)? {
        guard let jobID = record.jobID else { return nil }
        plans[record.runID] = plan
        let directory = store.layout.jobDirectory(run: record.runID, stage: record.name, attempt: record.attempt)
        let execution = SlurmExecution(executor: self, jobID: jobID, run: record.runID, stage: record.name,
                                       ingester: ReportIngester(store: store, run: record.runID, stage: record.name, directory: directory))
        execution.update(try client.states(of: [jobID])[jobID])
        if execution.poll() != nil { return nil }
        inFlight.append(execution)
        return execution
    }

    /// Asks Slurm about every job in flight, at most every `pollInterval` seconds.
    func refreshIfDue() {
        let now = ProcessState.now
        guard now - lastPoll >= options.pollInterval else { return }
        lastPoll = now
        inFlight.removeAll(where: \.hasEnded)
        guard !inFlight.isEmpty else { return }
        // A controller that does not answer is asked again next time; no job is judged on its silence.
        guard let statuses = try? client.states(of: inFlight.map(\.jobID)) else { return }
        for execution in inFlight { execution.update(statuses[execution.jobID]) }
    }

    /// The next poll asks Slurm at once (a stage said it stopped: how did its job end?).
    func refreshSoon() { lastPoll = 0 }

    private func plan(of run: Int64) throws -> Plan {
        if let plan = plans[run] { return plan }
        let plan = try store.plan(ofRun: run)
        plans[run] = plan
        return plan
    }

    /// The batch script: one exec of the stage driver, in the project directory (`--chdir`). A
    /// data-parallel stage (`processes: N`, submitted with `--ntasks=N`) runs its N ranks through `srun`:
    /// each reads its rank from SLURM_PROCID, and they meet at the job's first node on a port derived
    /// from the job id; `--kill-on-bad-exit` stops every rank when one fails.
    static func script(executable: String, invocation: StageInvocation, plan: Plan, processes: Int = 1) -> String {
        let quoted = ([executable, "exec-stage"] + invocation.arguments).map(shellQuoted).joined(separator: " ")
        let header = """
            #!/bin/sh
            # Loom run \(invocation.run) (\(plan.label)), stage \(invocation.stage), attempt \(invocation.attempt):
            # written by the runner and submitted with sbatch. The stage reports through report.jsonl beside it.

            """
        guard processes > 1 else { return header + "exec \(quoted)\n" }
        return header + """
            # \(processes) data-parallel ranks; rank 0 (SLURM_PROCID 0) reports for the stage.
            MASTER_ADDR=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
            MASTER_PORT=$((20000 + SLURM_JOB_ID % 20000))
            export MASTER_ADDR MASTER_PORT
            exec srun --ntasks=\(processes) --kill-on-bad-exit=1 \(quoted)

            """
    }

    static func shellQuoted(_ word: String) -> String {
        if !word.isEmpty, word.allSatisfy({ $0.isLetter || $0.isNumber || "/._-+=:,@".contains($0) }) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// One stage attempt submitted as a Slurm job.
final class SlurmExecution: StageExecution {
    let jobID: String
    private unowned let executor: SlurmExecutor
    private let run: Int64
    private let stage: String
    private let ingester: ReportIngester
    /// Slurm's latest word on the job; nil before the first answer.
    private var status: SlurmJobStatus?
    /// Slurm answered without the job: it ended long enough ago to be forgotten.
    private var forgotten = false
    private var runningSince: Double?
    private var cancelRequested = false
    /// Why this runner gave up on a job whose stage stopped reporting.
    private var silence: String?
    private var exit: ChildExit?

    init(executor: SlurmExecutor, jobID: String, run: Int64, stage: String, ingester: ReportIngester) {
        self.executor = executor
        self.jobID = jobID
        self.run = run
        self.stage = stage
        self.ingester = ingester
    }

    var pid: Int32? { nil }
    var label: String? { "Slurm job \(jobID)" }
    var hasEnded: Bool { exit != nil }

    func update(_ status: SlurmJobStatus?) {
        guard let status else {
            forgotten = true
            return
        }
        if status.state != self.status?.state {
            try? executor.store.updateJobState(run: run, stage: stage, state: status.state.name)
        }
        self.status = status
        if status.state.name == "RUNNING", runningSince == nil { runningSince = ProcessState.now }
    }

    func poll() -> ChildExit? {
        if let exit { return exit }
        try? ingester.ingestIfDue()
        switch ingester.finished {
        case .succeeded?, .cached?:
            // The output is in the cache and the job's one process is exiting with status 0: no need to
            // wait for Slurm to notice the job ended.
            try? executor.store.updateJobState(run: run, stage: stage, state: "COMPLETED")
            return end(.exited(0))
        case .some:
            if status?.state.isTerminal != true { executor.refreshSoon() }
        case nil:
            break
        }
        executor.refreshIfDue()
        if forgotten || status?.state.isTerminal == true { return settle() }
        checkHeartbeat()
        return nil
    }

    func cancel() {
        cancelRequested = true
        executor.client.cancel(jobID)
        executor.refreshSoon()
    }

    func kill() {
        executor.client.cancel(jobID, signal: "KILL")
        executor.client.cancel(jobID)
    }

    /// A running job whose stage has written nothing for too long (a hung node, an unreachable
    /// filesystem) is cancelled and failed; resume submits it again.
    private func checkHeartbeat() {
        guard silence == nil, status?.state.name == "RUNNING", let runningSince else { return }
        let lastSign = max(ingester.lastSign ?? runningSince, runningSince)
        let quiet = ProcessState.now - lastSign
        guard quiet > executor.options.heartbeatTimeout else { return }
        silence = "no heartbeat from Slurm job \(jobID) for \(Int(quiet)) s; cancelled it"
        executor.client.cancel(jobID)
        executor.refreshSoon()
    }

    /// The job ended: record the rest of its report, then how it ended if the stage could not say, or
    /// Slurm's reason where Slurm ended it.
    private func settle() -> ChildExit {
        try? ingester.ingest(final: true)
        let store = executor.store
        let ending = status.map { "Slurm job \(jobID) ended \($0.summary)" } ?? "Slurm job \(jobID) is no longer known to Slurm"
        let record = try? store.stage(run: run, name: stage)
        if record?.status == .running {
            let error = silence ?? "\(ending) before the stage recorded a result"
            try? store.finishStage(run: run, stage: stage, status: cancelRequested && silence == nil ? .cancelled : .failed,
                                   exitCode: exitCode, error: error)
        } else if record?.status != .succeeded, record?.status != .cached, !cancelRequested, status?.state.endedByScheduler != nil {
            try? store.finishStage(run: run, stage: stage, status: .failed, exitCode: exitCode, error: ending)
        }
        return end(.exited(exitCode ?? 1))
    }

    /// The exit status of the job's script, from Slurm's `exit:signal`.
    private var exitCode: Int32? {
        guard let text = status?.exitCode, let code = text.split(separator: ":").first.flatMap({ Int32($0) }) else { return nil }
        let signal = text.split(separator: ":").dropFirst().first.flatMap { Int32($0) } ?? 0
        return signal > 0 ? 128 + signal : code
    }

    private func end(_ exit: ChildExit) -> ChildExit {
        self.exit = exit
        return exit
    }
}
