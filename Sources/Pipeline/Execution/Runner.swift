// Runner — schedules the stages of one or more runs (the variants of one `loom run`, or a resumed run):
// a stage starts when its upstream stages are done, reuses a complete cache entry when one exists,
// and otherwise is executed by the executor, up to `jobs` at a time. Stages of different runs with
// the same fingerprint are executed once: the first is launched, the others wait for it and then
// reuse its output. Cancellation (Ctrl-C) asks every attempt to stop, then kills what is left after
// the grace period; stages that never started stay `pending` for `loom resume`. A failed stage is
// started again up to the recipe's `executor.retries` times; attempts that `loom resume` re-attached to
// (Slurm jobs still queued or running) are followed, not started again.
import Foundation

/// A run the runner should bring to completion, with the plan it was created from.
public struct ScheduledRun {
    public let id: Int64
    public let plan: Plan
    /// Attempts left running by a runner that died and taken over again, by stage name.
    public let attached: [String: any StageExecution]

    public init(id: Int64, plan: Plan, attached: [String: any StageExecution] = [:]) {
        self.id = id
        self.plan = plan
        self.attached = attached
    }
}

public final class Runner {
    public struct Options: Sendable {
        public var jobs: Int
        /// Seconds between asking attempts to stop (SIGTERM) and killing them (SIGKILL).
        public var gracePeriod: Double
        public var pollInterval: Double
        /// How often the live display is refreshed from the store.
        public var displayInterval: Double

        public init(jobs: Int = 1, gracePeriod: Double = 10, pollInterval: Double = 0.02, displayInterval: Double = 0.25) {
            self.jobs = max(1, jobs)
            self.gracePeriod = gracePeriod
            self.pollInterval = pollInterval
            self.displayInterval = displayInterval
        }
    }

    private let store: RunStore
    private let executor: any StageExecutor
    private let reporter: any RunReporter
    private let cancellation: CancellationFlag
    private let options: Options

    public init(store: RunStore, executor: any StageExecutor, reporter: any RunReporter, cancellation: CancellationFlag, options: Options) {
        self.store = store
        self.executor = executor
        self.reporter = reporter
        self.cancellation = cancellation
        self.options = options
    }

    /// Runs everything that is not done yet; returns each run's final status.
    /// - forcedStages: stage names executed even when cached, with everything downstream of them.
    public func execute(_ runs: [ScheduledRun], forcedStages: Set<String> = []) throws -> [Int64: RunStatus] {
        let layout = store.layout
        var jobs: [Job] = []
        for run in runs {
            let records = Dictionary(try store.stages(ofRun: run.id).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            let forced = run.plan.downstream(of: forcedStages.intersection(run.plan.stages.map(\.name)))
            var attachedNotes: [String] = []
            for stage in run.plan.stages {
                let job = Job(run: run.id, plan: run.plan, stage: stage, forced: forced.contains(stage.name))
                if let record = records[stage.name], record.status.isDone, !job.forced, layout.isCached(stage.fingerprint) {
                    job.state = .done(record.status)
                } else if let execution = run.attached[stage.name], let record = records[stage.name] {
                    job.state = .running(execution, attempt: record.attempt, started: record.startedAt ?? ProcessState.now)
                    attachedNotes.append("  \(job.label): re-attached\(execution.label.map { " to \($0)" } ?? "")\(record.jobState.map { " (\($0))" } ?? "")")
                }
                jobs.append(job)
            }
            let toDo = jobs.filter { $0.run == run.id && !$0.isDone }.count
            reporter.note("run \(run.id) \(run.plan.label): \(run.plan.stages.count) stages\(toDo < run.plan.stages.count ? ", \(run.plan.stages.count - toDo) already done" : "")")
            for note in attachedNotes { reporter.note(note) }
        }

        var cancelRequestedAt: Double?
        var freshFingerprints = Set<String>()
        var lastDisplay = 0.0
        while true {
            let now = ProcessState.now
            if cancellation.isCancelled, cancelRequestedAt == nil {
                cancelRequestedAt = now
                reporter.note("cancelling: \(cancellation.reason ?? "requested"); stopping \(jobs.filter(\.isRunning).count) running stage(s)")
                for job in jobs { if case .running(let execution, _, _) = job.state { execution.cancel() } }
            }
            if let requested = cancelRequestedAt, now - requested > options.gracePeriod {
                for job in jobs { if case .running(let execution, _, _) = job.state { execution.kill() } }
            }

            var changed = false
            for job in jobs {
                guard case .running(let execution, let attempt, let started) = job.state, let exit = execution.poll() else { continue }
                changed = true
                let status = try settle(job, exit: exit, attempt: attempt, started: started, cancelling: cancelRequestedAt != nil)
                if status == .failed, cancelRequestedAt == nil, job.retries < job.plan.executor.retries {
                    job.retries += 1
                    let retry = "retry \(job.retries) of \(job.plan.executor.retries)"
                    try store.resetStage(run: job.run, stage: job.stage.name, reason: "\(retry) after attempt \(attempt) failed")
                    reporter.note("  \(job.label): \(retry)")
                    job.state = .waiting
                    continue
                }
                job.state = .done(status)
                job.executedHere = status == .succeeded
                if status == .succeeded { freshFingerprints.insert(job.stage.fingerprint) }
            }

            for job in jobs {
                guard case .following(let owner) = job.state, case .done(let ownerStatus) = owner.state else { continue }
                job.state = .done(try settleFollower(job, owner: owner, ownerStatus: ownerStatus))
                changed = true
            }

            let waitingBefore = jobs.filter(\.isWaiting).count
            for job in jobs where job.isWaiting {
                let upstream = job.stage.after.compactMap { name in jobs.first { $0.run == job.run && $0.stage.name == name } }
                if upstream.contains(where: \.isBlockedOrFailed) {
                    job.state = .blocked
                    continue
                }
                guard cancelRequestedAt == nil, upstream.allSatisfy(\.isDone) else { continue }
                let fingerprint = job.stage.fingerprint
                let mustExecute = job.forced && !freshFingerprints.contains(fingerprint)
                if !mustExecute, layout.isCached(fingerprint) {
                    let manifest = CacheManifest.read(layout, fingerprint: fingerprint)
                    try store.markCached(run: job.run, stage: job.stage.name, sourceRun: manifest?.producerRun, sourceStage: manifest?.producerStage)
                    reporter.note("  \(job.label): cached\(manifest.map { " (output of run \($0.producerRun))" } ?? "")")
                    job.state = .done(.cached)
                    continue
                }
                if let owner = jobs.first(where: { $0 !== job && $0.stage.fingerprint == fingerprint && $0.isRunning }) {
                    job.state = .following(owner)
                    reporter.note("  \(job.label): same fingerprint as \(owner.label); waiting for it")
                    continue
                }
                guard jobs.filter(\.isRunning).count < options.jobs else { continue }
                launch(job, force: mustExecute)
            }

            if jobs.filter(\.isWaiting).count != waitingBefore { changed = true }
            let busy = jobs.contains { $0.isRunning || $0.isFollowing }
            let launchable = cancelRequestedAt == nil && jobs.contains { job in
                job.isWaiting && job.stage.after.allSatisfy { name in
                    jobs.first { $0.run == job.run && $0.stage.name == name }.map { !$0.isBlockedOrFailed } ?? true
                }
            }
            if !busy, !launchable { break }
            if changed || now - lastDisplay >= options.displayInterval {
                lastDisplay = now
                refreshDisplay(jobs)
            }
            usleep(UInt32(options.pollInterval * 1_000_000))
        }
        reporter.active([])

        var statuses: [Int64: RunStatus] = [:]
        for run in runs {
            let runJobs = jobs.filter { $0.run == run.id }
            let status: RunStatus
            if runJobs.allSatisfy(\.isDone) {
                status = .succeeded
            } else if cancellation.isCancelled {
                status = .cancelled
            } else {
                status = .failed
            }
            try store.finishRun(run.id, status: status)
            statuses[run.id] = status
            let executed = runJobs.filter(\.executedHere).count
            let cached = runJobs.filter { if case .done(.cached) = $0.state { true } else { false } }.count
            let failed = runJobs.filter { if case .done(.failed) = $0.state { true } else { false } }.count
            var summary = "run \(run.id) \(run.plan.label): \(status.rawValue) — \(executed) executed, \(cached) cached"
            if failed > 0 { summary += ", \(failed) failed" }
            let notRun = runJobs.filter { !$0.isDone && !$0.isFailedOrCancelled }.count
            if notRun > 0 { summary += ", \(notRun) not run" }
            reporter.note(summary)
        }
        reporter.finish()
        return statuses
    }

    // MARK: steps

    private func launch(_ job: Job, force: Bool) {
        do {
            let attempt = try store.startAttempt(run: job.run, stage: job.stage.name, pid: nil)
            let invocation = StageInvocation(home: store.layout.home, run: job.run, stage: job.stage.name, attempt: attempt,
                                             force: force, parentPID: ProcessState.currentPID)
            let launch = StageLaunch(invocation: invocation, executable: job.stage.executable,
                                     logFile: store.layout.logFile(run: job.run, stage: job.stage.name, attempt: attempt))
            do {
                let execution = try executor.start(launch)
                job.state = .running(execution, attempt: attempt, started: ProcessState.now)
                let details = [attempt > 1 ? "attempt \(attempt)" : nil, execution.label].compactMap { $0 }
                reporter.note("  \(job.label): started\(details.isEmpty ? "" : " (\(details.joined(separator: ", ")))")")
            } catch {
                try store.finishStage(run: job.run, stage: job.stage.name, status: .failed, error: "\(error)")
                reporter.note("  \(job.label): failed to start: \(error)")
                job.state = .done(.failed)
            }
        } catch {
            reporter.note("  \(job.label): cannot record the attempt: \(error)")
            job.state = .done(.failed)
        }
    }

    /// The attempt's process ended: take the status it recorded, or record why it ended without one.
    private func settle(_ job: Job, exit: ChildExit, attempt: Int, started: Double, cancelling: Bool) throws -> StageStatus {
        var record = try store.stage(run: job.run, name: job.stage.name)
        if record?.status == .running {
            let status: StageStatus = cancelling ? .cancelled : .failed
            try store.finishStage(run: job.run, stage: job.stage.name, status: status,
                                  exitCode: exit.exitCode, error: "the stage process \(exit) before recording a result")
            record = try store.stage(run: job.run, name: job.stage.name)
        }
        let status = record?.status ?? .failed
        let elapsed = StageProgress.clock(ProcessState.now - started)
        switch status {
        case .succeeded:
            reporter.note("  \(job.label): succeeded in \(elapsed)")
        case .cached:
            reporter.note("  \(job.label): cached (completed meanwhile by another process)")
        case .cancelled:
            reporter.note("  \(job.label): cancelled after \(elapsed)")
        default:
            let logFile = store.layout.logFile(run: job.run, stage: job.stage.name, attempt: attempt)
            var lines = ["  \(job.label): failed after \(elapsed): \(record?.error ?? "unknown error")"]
            lines += StageLog.tail(of: logFile, lines: 5).filter { !$0.hasPrefix("[loom ") }.map { "      | \($0)" }
            lines.append("      full log: loom logs \(job.run) \(job.stage.name)")
            reporter.note(lines.joined(separator: "\n"))
        }
        return status
    }

    private func settleFollower(_ job: Job, owner: Job, ownerStatus: StageStatus) throws -> StageStatus {
        switch ownerStatus {
        case .succeeded, .cached:
            let manifest = CacheManifest.read(store.layout, fingerprint: job.stage.fingerprint)
            try store.markCached(run: job.run, stage: job.stage.name,
                                 sourceRun: manifest?.producerRun ?? owner.run, sourceStage: manifest?.producerStage ?? owner.stage.name)
            reporter.note("  \(job.label): cached (shared with \(owner.label))")
            return .cached
        case .failed:
            try store.finishStage(run: job.run, stage: job.stage.name, status: .failed,
                                  error: "shares its fingerprint with \(owner.label) (run \(owner.run)), which failed")
            return .failed
        default:
            return .pending
        }
    }

    private func refreshDisplay(_ jobs: [Job]) {
        let active = jobs.filter { $0.isRunning || $0.isFollowing }
        guard !active.isEmpty else { return reporter.active([]) }
        let records = (try? store.stages(ofRuns: Array(Set(active.map(\.run))))) ?? []
        reporter.active(active.map { job in
            let record = records.first { $0.runID == job.run && $0.name == job.stage.name }
            switch job.state {
            case .following(let owner):
                return ActiveStage(label: job.label, status: "waiting", startedAt: nil, progress: StageProgress(message: "for \(owner.label)"))
            case .running(_, _, let started):
                let queued = record?.jobState.flatMap(SlurmJobState.init)?.isQueued == true
                return ActiveStage(label: job.label, status: queued ? "queued" : "running", startedAt: started, progress: record?.progress)
            default:
                return ActiveStage(label: job.label, status: "", startedAt: nil, progress: nil)
            }
        })
    }
}

/// One stage of one run, as the runner tracks it.
private final class Job {
    enum State {
        case waiting
        case following(Job)
        case running(any StageExecution, attempt: Int, started: Double)
        case done(StageStatus)
        /// An upstream stage failed or was cancelled: this one stays `pending`.
        case blocked
    }

    let run: Int64
    let plan: Plan
    let stage: PlannedStage
    let forced: Bool
    var state: State = .waiting
    /// Executed (and succeeded) by this runner, as opposed to done before it started or reused.
    var executedHere = false
    /// Failed attempts started again so far.
    var retries = 0

    init(run: Int64, plan: Plan, stage: PlannedStage, forced: Bool) {
        self.run = run
        self.plan = plan
        self.stage = stage
        self.forced = forced
    }

    var label: String { "\(plan.label) · \(stage.name)" }

    var isWaiting: Bool { if case .waiting = state { true } else { false } }
    var isRunning: Bool { if case .running = state { true } else { false } }
    var isFollowing: Bool { if case .following = state { true } else { false } }

    var isDone: Bool {
        if case .done(let status) = state { return status.isDone }
        return false
    }

    var isFailedOrCancelled: Bool {
        if case .done(let status) = state { return status == .failed || status == .cancelled }
        return false
    }

    var isBlockedOrFailed: Bool {
        if case .blocked = state { return true }
        if case .done(let status) = state { return !status.isDone }
        return false
    }
}

extension ChildExit {
    var exitCode: Int32 {
        switch self {
        case .exited(let code): code
        case .signalled(let signal): 128 + signal
        }
    }
}
