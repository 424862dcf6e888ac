// StageInvocation — the arguments of `exec-stage`, written by the runner and read by the stage
// process, in one place so both sides agree:
//   exec-stage --home DIR --run ID --stage NAME --attempt N [--force] [--parent PID] [--job-dir DIR]
import Foundation

public struct StageInvocation: Sendable, Equatable {
    public let home: URL
    public let run: Int64
    public let stage: String
    public let attempt: Int
    /// Execute even if a complete cache entry exists (`loom run --force`).
    public let force: Bool
    /// The runner's pid: the stage cancels itself if its parent goes away.
    public let parentPID: Int32?
    /// A batch job's directory (`jobs/<run>/<stage>.<attempt>/`): the stage reads its plan from there and
    /// records into its report file instead of opening the run store.
    public let jobDirectory: URL?

    public init(home: URL, run: Int64, stage: String, attempt: Int, force: Bool, parentPID: Int32?, jobDirectory: URL? = nil) {
        self.home = home
        self.run = run
        self.stage = stage
        self.attempt = attempt
        self.force = force
        self.parentPID = parentPID
        self.jobDirectory = jobDirectory
    }

    public var arguments: [String] {
        var arguments = ["--home", home.path, "--run", String(run), "--stage", stage, "--attempt", String(attempt)]
        if force { arguments.append("--force") }
        if let parentPID { arguments += ["--parent", String(parentPID)] }
        if let jobDirectory { arguments += ["--job-dir", jobDirectory.path] }
        return arguments
    }

    public init(arguments: [String]) throws {
        var values: [String: String] = [:]
        var force = false
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "--force":
                force = true
                index += 1
            case "--home", "--run", "--stage", "--attempt", "--parent", "--job-dir":
                guard index + 1 < arguments.count else { throw StageInvocationError("\(argument) needs a value") }
                values[argument] = arguments[index + 1]
                index += 2
            default:
                throw StageInvocationError("unexpected argument '\(argument)'")
            }
        }
        guard let home = values["--home"] else { throw StageInvocationError("--home is required") }
        guard let run = values["--run"].flatMap({ Int64($0) }) else { throw StageInvocationError("--run needs a run id") }
        guard let stage = values["--stage"] else { throw StageInvocationError("--stage is required") }
        guard let attempt = values["--attempt"].flatMap({ Int($0) }), attempt > 0 else {
            throw StageInvocationError("--attempt needs a positive number")
        }
        let parent = try values["--parent"].map { text -> Int32 in
            guard let pid = Int32(text) else { throw StageInvocationError("--parent needs a pid") }
            return pid
        }
        self.init(home: URL(fileURLWithPath: home), run: run, stage: stage, attempt: attempt, force: force, parentPID: parent,
                  jobDirectory: values["--job-dir"].map { URL(fileURLWithPath: $0) })
    }

    public static let usage = "exec-stage --home DIR --run ID --stage NAME --attempt N [--force] [--parent PID] [--job-dir DIR]"
}

public struct StageInvocationError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "exec-stage: \(message) (usage: \(StageInvocation.usage))" }
}
