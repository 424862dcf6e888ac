// StageContext — everything a stage kind's `run` may use: its own empty output directory, the output
// directories of its upstream stages, its resolved parameters, a stable resume directory for
// checkpoints, metrics, artifacts, progress, the attempt's log, and cancellation.
//
// A training kind resumes like this: at start, load the newest checkpoint from `resumeDirectory` if
// there is one; every N steps call `try metrics.flush()` and then write the checkpoint atomically
// (AtomicFile, or write-then-rename), so the recorded curve always reaches the checkpoint; between
// steps call `try checkCancellation()`. Write final outputs only to `outputDirectory`.
import Foundation

public final class StageContext: Sendable {
    public let run: Int64
    public let stage: String
    public let kind: String
    public let variant: String
    /// 1 for the first attempt; a resumed stage gets the next number.
    public let attempt: Int
    public let fingerprint: String

    /// Empty at the start of every attempt; becomes `cache/<fingerprint>/` when the stage succeeds.
    public let outputDirectory: URL
    /// The same directory on every attempt of this fingerprint, kept when an attempt fails or is
    /// killed and removed once the stage succeeds: where training writes checkpoints to resume from.
    public let resumeDirectory: URL
    /// Private scratch space for this attempt (never part of the output).
    public let scratchDirectory: URL
    /// Completed output directory of each upstream stage, by stage name.
    public let inputDirectories: [String: URL]
    /// Where relative paths in the recipe resolve (commands run here).
    public let projectDirectory: URL
    /// The home's completed outputs (`cache/`), read-only: where a kind may find content-addressed pieces
    /// of earlier outputs to link instead of computing them again (the token store's per-book files).
    /// nil where the stage runs outside a Loom home.
    public let cacheRoot: URL?
    /// Which rank of a data-parallel stage this process is (nil: the only one). Rank 0 is the stage;
    /// another rank is a follower whose output directory is private and whose records are dropped.
    public let dataParallel: DataParallelLaunch?
    /// True for a data-parallel rank other than 0.
    public var isFollower: Bool { (dataParallel?.rank ?? 0) != 0 }

    public let params: StageParameters
    /// The resolved parameters as a JSON file (`$LOOM_PARAMS` for commands).
    public let paramsFile: URL
    public let metrics: MetricsLogger
    public let progress: ProgressReporter
    public let log: StageLog

    private let cancellation: CancellationFlag
    private let registeredArtifacts = Locked<[String: String]>([:])
    /// Whether children may join this process's group (true in `exec-stage`, whose group the runner
    /// signals as a whole); in-process stages give children their own group instead.
    let childrenJoinProcessGroup: Bool

    init(
        run: Int64, stage: String, kind: String, variant: String, attempt: Int, fingerprint: String,
        outputDirectory: URL, resumeDirectory: URL, scratchDirectory: URL, inputDirectories: [String: URL],
        projectDirectory: URL, params: StageParameters, paramsFile: URL, metrics: MetricsLogger,
        progress: ProgressReporter, log: StageLog, cancellation: CancellationFlag, childrenJoinProcessGroup: Bool, cacheRoot: URL? = nil,
        dataParallel: DataParallelLaunch? = nil
    ) {
        self.cacheRoot = cacheRoot
        self.dataParallel = dataParallel
        self.run = run
        self.stage = stage
        self.kind = kind
        self.variant = variant
        self.attempt = attempt
        self.fingerprint = fingerprint
        self.outputDirectory = outputDirectory
        self.resumeDirectory = resumeDirectory
        self.scratchDirectory = scratchDirectory
        self.inputDirectories = inputDirectories
        self.projectDirectory = projectDirectory
        self.params = params
        self.paramsFile = paramsFile
        self.metrics = metrics
        self.progress = progress
        self.log = log
        self.cancellation = cancellation
        self.childrenJoinProcessGroup = childrenJoinProcessGroup
    }

    /// The output directory of upstream stage `name`.
    public func input(_ name: String) throws -> URL {
        guard let url = inputDirectories[name] else {
            throw StageInputError(stage: stage, requested: name, known: inputDirectories.keys.sorted())
        }
        return url
    }

    /// Names a file of the output (`adapter` → `adapter/adapter_model.safetensors`). Every file of the
    /// output directory is recorded with its digest anyway; a name makes it easy to find.
    public func registerArtifact(name: String, path: String) {
        registeredArtifacts.withLock { $0[path] = name }
    }

    var artifactNames: [String: String] { registeredArtifacts.current }

    public var isCancelled: Bool { cancellation.isCancelled }

    /// Throws `StageCancelled` once cancellation was requested; call it between steps.
    public func checkCancellation() throws {
        if let reason = cancellation.reason { throw StageCancelled(reason: reason) }
    }

    // MARK: child processes

    /// Starts a child process whose stdout and stderr go to this attempt's log.
    public func spawn(executable: String, arguments: [String], environment: [String: String], workingDirectory: URL? = nil) throws -> ChildProcess {
        guard let path = ChildProcess.resolveExecutable(executable, path: environment["PATH"]) else {
            throw ChildProcessError(executable: executable, reason: "not found on PATH")
        }
        return try ChildProcess.spawn(
            executable: path, arguments: arguments, environment: environment,
            workingDirectory: (workingDirectory ?? projectDirectory).path, outputFile: log.file.path,
            newProcessGroup: !childrenJoinProcessGroup)
    }

    /// Waits for a child; on cancellation sends it SIGTERM, then SIGKILL after `gracePeriod` seconds,
    /// and throws `StageCancelled`.
    public func wait(for child: ChildProcess, gracePeriod: Double = 10, whileWaiting: () -> Void = {}) throws -> ChildExit {
        var terminateSentAt: Double?
        while true {
            if let exit = child.poll() {
                let stopSignals = [SIGTERM, SIGINT, SIGHUP]
                let stopped = switch exit {
                case .signalled(let signal): stopSignals.contains(signal)
                case .exited(let code): stopSignals.contains(code - 128)
                }
                if stopped {
                    // The runner signals the whole process group: the child may die before this
                    // process's own signal handler has recorded the cancellation.
                    let deadline = ProcessState.now + 0.5
                    while !cancellation.isCancelled, ProcessState.now < deadline { usleep(10_000) }
                }
                if let reason = cancellation.reason { throw StageCancelled(reason: reason) }
                return exit
            }
            if cancellation.isCancelled {
                let now = ProcessState.now
                if terminateSentAt == nil {
                    child.signal(SIGTERM)
                    terminateSentAt = now
                } else if now - terminateSentAt! > gracePeriod {
                    child.signal(SIGKILL)
                }
            }
            whileWaiting()
            usleep(20_000)
        }
    }
}

public struct StageInputError: Error, CustomStringConvertible {
    public let stage: String
    public let requested: String
    public let known: [String]
    public var description: String {
        "stage \(stage) has no input '\(requested)' (its inputs: \(known.isEmpty ? "none" : known.joined(separator: ", ")); add it to `after:`)"
    }
}
