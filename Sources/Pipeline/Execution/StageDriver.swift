// StageDriver — executes one attempt of one stage, given a registry of kind implementations: it is
// the body of `loom exec-stage` and `loom-torch exec-stage` (each passes its own registry) and of the
// in-process executor. What it records goes through a StageRecorder: straight into the store, or, in
// a Slurm job, into the attempt's report file for the runner to ingest.
//
// Order of work: take the fingerprint's lock (one executor per fingerprint across every process on
// this store; the kernel drops it if we die), reuse the cache entry if another process completed it
// meanwhile, discard leftovers of dead attempts, run the kind in an empty output directory with a
// heartbeat, then digest the outputs, write the manifest and rename the directory into the cache.
import Foundation
import LoomCore

public enum StageOutcome: Sendable, Equatable {
    case succeeded
    case cached
    case failed(String)
    case cancelled(String)

    /// The exit status of an `exec-stage` process with this outcome.
    public var exitCode: Int32 {
        switch self {
        case .succeeded, .cached: 0
        case .failed: 1
        case .cancelled: 130
        }
    }
}

public struct StageDriver: Sendable {
    public let registry: StageKindRegistry
    /// The executable this driver runs in; a kind registered for another one is refused clearly.
    public let role: StageExecutable
    /// True in an `exec-stage` process (the runner signals its whole process group).
    public let childrenJoinProcessGroup: Bool
    public let heartbeatInterval: Double

    public init(registry: StageKindRegistry, role: StageExecutable, childrenJoinProcessGroup: Bool, heartbeatInterval: Double = 1) {
        self.registry = registry
        self.role = role
        self.childrenJoinProcessGroup = childrenJoinProcessGroup
        self.heartbeatInterval = heartbeatInterval
    }

    /// Executes the attempt of a local process or an in-process stage: reads the plan from the store
    /// and records into it.
    public func execute(
        _ invocation: StageInvocation, store: RunStore, cancellation: CancellationFlag, dataParallel: DataParallelLaunch? = nil
    ) -> StageOutcome {
        let recorder = StoreRecorder(store: store, run: invocation.run, stage: invocation.stage)
        let plan: Plan
        do {
            plan = try store.plan(ofRun: invocation.run)
        } catch {
            let message = "cannot read the plan of run \(invocation.run): \(error)"
            try? recorder.finish(.failed, exitCode: nil, error: message)
            return .failed(message)
        }
        return execute(invocation, plan: plan, layout: store.layout, recorder: recorder, cancellation: cancellation, dataParallel: dataParallel)
    }

    /// Executes the attempt of `plan`'s stage, recording through `recorder` (the store, or a Slurm job's
    /// report file).
    public func execute(
        _ invocation: StageInvocation, plan: Plan, layout: StoreLayout, recorder: any StageRecorder, cancellation: CancellationFlag,
        dataParallel: DataParallelLaunch? = nil
    ) -> StageOutcome {
        let run = invocation.run, stageName = invocation.stage
        func finish(_ outcome: StageOutcome, log: StageLog?) -> StageOutcome {
            switch outcome {
            case .failed(let message):
                log?.error(message)
                try? recorder.finish(.failed, exitCode: nil, error: message)
            case .cancelled(let reason):
                log?.info("cancelled: \(reason)")
                try? recorder.finish(.cancelled, exitCode: nil, error: reason)
            case .succeeded, .cached:
                break
            }
            return outcome
        }

        guard let stage = plan.stage(named: stageName) else {
            return finish(.failed("run \(run) has no stage '\(stageName)'"), log: nil)
        }
        let log: StageLog
        do {
            log = try StageLog(file: layout.logFile(run: run, stage: stageName, attempt: invocation.attempt))
        } catch {
            return finish(.failed(ErrorText.describe(error)), log: nil)
        }
        guard let descriptor = registry.descriptor(named: stage.kind) else {
            return finish(.failed("unknown stage kind '\(stage.kind)' in \(role.rawValue) (kinds: \(registry.kindNames.joined(separator: ", ")))"), log: log)
        }
        guard descriptor.version == stage.kindVersion else {
            return finish(.failed("stage kind '\(stage.kind)' is version \(descriptor.version) in this build but the run was planned with version \(stage.kindVersion): start a new run"), log: log)
        }
        guard let implementation = registry.implementation(named: stage.kind) else {
            return finish(.failed("stage kind '\(stage.kind)' runs in `\(descriptor.executable.rawValue) exec-stage`; \(role.rawValue) has no implementation of it"), log: log)
        }
        try? recorder.processStarted(pid: ProcessState.currentPID, host: ProcessState.hostName)
        log.info("stage \(stageName) of run \(run) (\(plan.label)): kind \(stage.kind) v\(stage.kindVersion), attempt \(invocation.attempt), fingerprint \(stage.fingerprint)")

        let progress = ProgressReporter()
        let metrics = MetricsLogger(recorder: recorder)
        let heartbeat = Heartbeat(interval: heartbeatInterval) {
            try? recorder.heartbeat(progress: progress.takeUnsent())
            metrics.flushRecordingFailure()
            if let parent = invocation.parentPID, getppid() != parent {
                cancellation.cancel(reason: "the runner (pid \(parent)) exited")
            }
        }
        heartbeat.start()
        defer { heartbeat.stop() }

        // One executor per fingerprint: a concurrent run of the same stage waits here, then reuses it.
        let lock: FileLock
        do {
            var acquired = try FileLock.tryAcquire(layout.lockFile(stage.fingerprint))
            if acquired == nil {
                log.info("another process is executing fingerprint \(stage.fingerprint); waiting for it")
                progress.report(message: "waiting for another process running the same stage")
            }
            while acquired == nil {
                if let reason = cancellation.reason { return finish(.cancelled(reason), log: log) }
                usleep(100_000)
                acquired = try FileLock.tryAcquire(layout.lockFile(stage.fingerprint))
            }
            lock = acquired!
        } catch {
            return finish(.failed(ErrorText.describe(error)), log: log)
        }
        defer { lock.release() }

        if !invocation.force, layout.isCached(stage.fingerprint) {
            let manifest = CacheManifest.read(layout, fingerprint: stage.fingerprint)
            log.info("a complete cache entry appeared meanwhile; reusing it")
            try? recorder.markCached(sourceRun: manifest?.producerRun, sourceStage: manifest?.producerStage)
            return .cached
        }

        let work = layout.workDirectory(stage.fingerprint)
        let attemptDirectory = work.appendingPathComponent("attempt-\(run)-\(invocation.attempt)")
        let output = attemptDirectory.appendingPathComponent("out")
        let scratch = attemptDirectory.appendingPathComponent("scratch")
        let resume = layout.resumeDirectory(stage.fingerprint)
        let paramsFile = attemptDirectory.appendingPathComponent("params.json")
        var inputs: [String: URL] = [:]
        do {
            // We hold the lock, so anything here but `resume/` is left by a dead or failed attempt.
            for leftover in (try? FileManager.default.contentsOfDirectory(atPath: work.path)) ?? [] where leftover != "resume" {
                log.info("discarding \(leftover) left by an earlier attempt")
                try FileManager.default.removeItem(at: work.appendingPathComponent(leftover))
            }
            for directory in [output, scratch, resume] {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            }
            try AtomicFile.write(stage.params.prettyJSON, to: paramsFile)
            switch Self.cachedInputs(of: stage, layout: layout) {
            case .success(let found): inputs = found
            case .failure(let missing):
                return finish(.failed("\(missing) (removed by hand?): rerun it with --force \(missing.upstream)"), log: log)
            }
        } catch {
            return finish(.failed("cannot prepare the stage directories: \(ErrorText.describe(error))"), log: log)
        }

        let context = StageContext(
            run: run, stage: stageName, kind: stage.kind, variant: plan.variant, attempt: invocation.attempt,
            fingerprint: stage.fingerprint, outputDirectory: output, resumeDirectory: resume, scratchDirectory: scratch,
            inputDirectories: inputs, projectDirectory: URL(fileURLWithPath: plan.projectDirectory),
            params: StageParameters(stage.params), paramsFile: paramsFile, metrics: metrics, progress: progress, log: log,
            cancellation: cancellation, childrenJoinProcessGroup: childrenJoinProcessGroup, cacheRoot: layout.cacheRoot,
            dataParallel: dataParallel)

        do {
            try implementation.run(context)
        } catch let cancelled as StageCancelled {
            try? metrics.flush()
            return finish(.cancelled(cancelled.reason), log: log)
        } catch {
            try? metrics.flush()
            if let reason = cancellation.reason { return finish(.cancelled(reason), log: log) }
            return finish(.failed(ErrorText.describe(error)), log: log)
        }
        do {
            try metrics.flush()
        } catch {
            return finish(.failed("cannot record metrics: \(ErrorText.describe(error))"), log: log)
        }
        if metrics.droppedCount > 0 {
            log.warning("\(metrics.droppedCount) non-finite metric values (NaN or infinity) were not recorded")
        }
        do {
            try promote(stage: stage, invocation: invocation, output: output, context: context, layout: layout, recorder: recorder, log: log)
        } catch {
            return finish(.failed(ErrorText.describe(error)), log: log)
        }
        try? FileManager.default.removeItem(at: work)
        return .succeeded
    }

    /// Executes a data-parallel rank other than 0 of the attempt: the same kind with the same inputs and
    /// resume directory (rank 0's checkpoints), joining rank 0's collectives, but recording nothing —
    /// no lock, no heartbeat, no metrics, an output directory of its own that is removed at the end.
    /// Its log is `<stage>.<attempt>.rank-<r>.log` beside the attempt's. A follower started by rank 0
    /// on this node (LOOM_RANK_PARENT) stops when rank 0 is gone.
    public func executeFollower(
        _ invocation: StageInvocation, plan: Plan, layout: StoreLayout, launch: DataParallelLaunch, cancellation: CancellationFlag
    ) -> StageOutcome {
        let stageName = invocation.stage
        let attemptLog = layout.logFile(run: invocation.run, stage: stageName, attempt: invocation.attempt)
        let logFile = attemptLog.deletingPathExtension().appendingPathExtension("rank-\(launch.rank).log")
        let log: StageLog
        do {
            log = try StageLog(file: logFile)
        } catch {
            return .failed(ErrorText.describe(error))
        }
        func fail(_ message: String) -> StageOutcome {
            log.error(message)
            return .failed(message)
        }
        guard let stage = plan.stage(named: stageName) else { return fail("run \(invocation.run) has no stage '\(stageName)'") }
        guard let descriptor = registry.descriptor(named: stage.kind), descriptor.version == stage.kindVersion,
              let implementation = registry.implementation(named: stage.kind) else {
            return fail("stage kind '\(stage.kind)' v\(stage.kindVersion) has no implementation in \(role.rawValue)")
        }
        log.info("stage \(stageName) of run \(invocation.run): \(launch); rank 0 records the stage")
        let rankParent = ProcessInfo.processInfo.environment["LOOM_RANK_PARENT"].flatMap { Int32($0) }
        let watchdog = Heartbeat(interval: heartbeatInterval) {
            if let rankParent, getppid() != rankParent { cancellation.cancel(reason: "rank 0 (pid \(rankParent)) exited") }
        }
        watchdog.start()
        defer { watchdog.stop() }

        let own = FileManager.default.temporaryDirectory
            .appendingPathComponent("loom-rank-\(stage.fingerprint.prefix(16))-\(launch.rank)-\(ProcessState.currentPID)", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: own) }
        let output = own.appendingPathComponent("out"), scratch = own.appendingPathComponent("scratch")
        let paramsFile = own.appendingPathComponent("params.json")
        var inputs: [String: URL] = [:]
        do {
            for directory in [output, scratch] { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
            try AtomicFile.write(stage.params.prettyJSON, to: paramsFile)
            switch Self.cachedInputs(of: stage, layout: layout) {
            case .success(let found): inputs = found
            case .failure(let missing): return fail("\(missing)")
            }
        } catch {
            return fail("cannot prepare the rank's directories: \(ErrorText.describe(error))")
        }
        let context = StageContext(
            run: invocation.run, stage: stageName, kind: stage.kind, variant: plan.variant, attempt: invocation.attempt,
            fingerprint: stage.fingerprint, outputDirectory: output, resumeDirectory: layout.resumeDirectory(stage.fingerprint),
            scratchDirectory: scratch, inputDirectories: inputs, projectDirectory: URL(fileURLWithPath: plan.projectDirectory),
            params: StageParameters(stage.params), paramsFile: paramsFile, metrics: MetricsLogger(recorder: FollowerRecorder()),
            progress: ProgressReporter(), log: log, cancellation: cancellation, childrenJoinProcessGroup: childrenJoinProcessGroup,
            cacheRoot: layout.cacheRoot, dataParallel: launch)
        do {
            try implementation.run(context)
        } catch let cancelled as StageCancelled {
            log.info("cancelled: \(cancelled.reason)")
            return .cancelled(cancelled.reason)
        } catch {
            if let reason = cancellation.reason { return .cancelled(reason) }
            return fail(ErrorText.describe(error))
        }
        log.info("rank \(launch.rank) finished")
        return .succeeded
    }

    /// An upstream stage whose output is not in the cache.
    struct MissingInput: Error, CustomStringConvertible {
        let upstream: String
        var description: String { "the output of upstream stage '\(upstream)' is missing from the cache" }
    }

    /// The cache entry of each upstream stage of `stage`, by stage name.
    static func cachedInputs(of stage: PlannedStage, layout: StoreLayout) -> Result<[String: URL], MissingInput> {
        var inputs: [String: URL] = [:]
        for upstream in stage.after {
            guard let fingerprint = stage.inputFingerprints[upstream], layout.isCached(fingerprint) else {
                return .failure(MissingInput(upstream: upstream))
            }
            inputs[upstream] = layout.cacheEntry(fingerprint)
        }
        return .success(inputs)
    }

    /// Digests the outputs, writes the manifest, and renames the output directory into the cache.
    private func promote(
        stage: PlannedStage, invocation: StageInvocation, output: URL, context: StageContext, layout: StoreLayout,
        recorder: any StageRecorder, log: StageLog
    ) throws {
        if FileManager.default.fileExists(atPath: output.appendingPathComponent(StoreLayout.manifestName).path) {
            throw PromotionError("the stage wrote \(StoreLayout.manifestName), a name Loom reserves for the cache manifest")
        }
        for (path, name) in context.artifactNames.sorted(by: { $0.key < $1.key })
        where !FileManager.default.fileExists(atPath: output.appendingPathComponent(path).path) {
            throw PromotionError("artifact '\(name)' was registered at \(path), but the stage did not write it")
        }
        let artifacts = try CacheManifest.artifacts(in: output, names: context.artifactNames)
        let manifest = CacheManifest(
            fingerprint: stage.fingerprint, kind: stage.kind, kindVersion: stage.kindVersion, params: stage.portableParams,
            inputs: stage.inputFingerprints, producerRun: invocation.run, producerStage: stage.name,
            producerAttempt: invocation.attempt, createdAt: ProcessState.now, artifacts: artifacts)
        try AtomicFile.write(manifest.json.prettyJSON, to: output.appendingPathComponent(StoreLayout.manifestName))

        try FileManager.default.createDirectory(at: layout.cacheRoot, withIntermediateDirectories: true)
        let entry = layout.cacheEntry(stage.fingerprint)
        var replaced: URL?
        if FileManager.default.fileExists(atPath: entry.path) {
            // --force: the fresh output replaces the old entry; move it aside first so the swap is two renames.
            replaced = layout.workDirectory(stage.fingerprint).appendingPathComponent("replaced-\(UUID().uuidString.prefix(8))")
            try FileManager.default.moveItem(at: entry, to: replaced!)
        }
        try FileManager.default.moveItem(at: output, to: entry)
        AtomicFile.syncDirectory(layout.cacheRoot)
        if let replaced { try? FileManager.default.removeItem(at: replaced) }
        try recorder.recordArtifacts(artifacts)
        try recorder.finish(.succeeded, exitCode: 0, error: nil)
        let bytes = artifacts.reduce(Int64(0)) { $0 + $1.bytes }
        log.info("succeeded: \(artifacts.count) files, \(bytes) bytes, cached as \(stage.fingerprint)")
    }
}

struct PromotionError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `action` every `interval` seconds on its own thread until stopped.
final class Heartbeat: Sendable {
    private let interval: Double
    private let action: @Sendable () -> Void
    private let stopped = Locked(false)
    private let finished = DispatchSemaphore(value: 0)

    init(interval: Double, action: @escaping @Sendable () -> Void) {
        self.interval = interval
        self.action = action
    }

    func start() {
        Thread.detachNewThread { [self] in
            var last = ProcessState.now
            while !stopped.current {
                usleep(50_000)
                if ProcessState.now - last >= interval {
                    action()
                    last = ProcessState.now
                }
            }
            finished.signal()
        }
    }

    /// Stops and waits for the thread, so no heartbeat lands after the final status.
    func stop() {
        stopped.withLock { $0 = true }
        finished.wait()
    }
}
