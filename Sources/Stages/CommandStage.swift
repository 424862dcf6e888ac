// CommandStage — the `command` kind (DVC's `cmd`): runs a shell command with the stage contract in its
// environment and reads what it reports from a JSON-lines file.
//
//   $LOOM_OUTPUT          its own empty output directory (everything written there is the output)
//   $LOOM_INPUT_<STAGE>   each upstream stage's output directory (stage name upper-cased, '-' → '_')
//   $LOOM_PARAMS          its resolved parameters as a JSON file
//   $LOOM_METRICS         a file to append JSON lines to (metrics, progress, artifact names; see
//                         CommandReports)
//   $LOOM_RESUME          a directory kept across failed attempts, for checkpoints (Loom keeps its
//                         own `.loom-*` files there too)
//   $LOOM_VAR_<NAME>      each scalar of `vars`
//   $LOOM_RUN, $LOOM_STAGE, $LOOM_ATTEMPT, $LOOM_VARIANT, $LOOM_PROJECT
// It runs with /bin/sh -c in the project directory; a non-zero exit fails the stage.
import Foundation
import Pipeline

public struct CommandStage: StageKind {
    public static let descriptor = StageKindDescriptor(
        name: "command", version: 1,
        summary: "Run a shell command; its output directory, inputs and parameters come in environment variables.",
        executable: .loom,
        schema: ParamSchema([
            .string("run", required: true, doc: "shell command, run with /bin/sh -c in the project directory"),
            .list("deps", of: .path(.any), doc: "files, directories or patterns the command reads; their content enters the fingerprint"),
            .map("env", of: .string, doc: "extra environment variables"),
            .any("vars", default: .object([:]), doc: "values for the command: in $LOOM_PARAMS, and each scalar as $LOOM_VAR_<NAME>"),
        ]))

    /// The parameters as the kind reads them.
    public struct Parameters: KindParameters, Sendable, Equatable {
        public var run: String
        public var env: [String: String]
        /// Any JSON value (a map's scalars also become $LOOM_VAR_<NAME>); `deps` is read by the planner only.
        public var vars: JSONValue
    }

    public init() {}

    public var descriptor: StageKindDescriptor { Self.descriptor }

    public func run(_ context: StageContext) throws {
        let command = try Parameters.load(context.params).run
        // The reports file lives in the resume directory: lines a killed attempt wrote but Loom had
        // not recorded yet are recorded by the next attempt, so the metric curve has no holes.
        let reports = try CommandReports(directory: context.resumeDirectory, context: context)
        try reports.recordLeftovers()
        let environment = try Self.environment(for: context, reportsFile: reports.file)
        context.log.info("$ \(command)")
        let child = try context.spawn(executable: "/bin/sh", arguments: ["-c", command], environment: environment)
        let exit = try context.wait(for: child) { reports.readIfDue() }
        try reports.readAll()
        guard exit.succeeded else { throw CommandFailure(command: command, exit: exit) }
    }

    static func environment(for context: StageContext, reportsFile: URL) throws -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["LOOM_OUTPUT"] = context.outputDirectory.path
        environment["LOOM_PARAMS"] = context.paramsFile.path
        environment["LOOM_METRICS"] = reportsFile.path
        environment["LOOM_RESUME"] = context.resumeDirectory.path
        environment["LOOM_RUN"] = String(context.run)
        environment["LOOM_STAGE"] = context.stage
        environment["LOOM_ATTEMPT"] = String(context.attempt)
        environment["LOOM_VARIANT"] = context.variant
        environment["LOOM_PROJECT"] = context.projectDirectory.path
        for (stage, directory) in context.inputDirectories {
            environment["LOOM_INPUT_\(environmentName(stage))"] = directory.path
        }
        let parameters = try Parameters.load(context.params)
        for (name, value) in parameters.vars.objectValue ?? [:] {
            switch value {
            case .string, .int, .double, .bool: environment["LOOM_VAR_\(environmentName(name))"] = value.displayText
            default: continue
            }
        }
        for (name, value) in parameters.env {
            environment[name] = value
        }
        return environment
    }

    /// `tokenizer-2` → `TOKENIZER_2`.
    public static func environmentName(_ name: String) -> String {
        String(name.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }
}

public struct CommandFailure: Error, CustomStringConvertible {
    public let command: String
    public let exit: ChildExit
    public var description: String {
        let shown = command.count > 60 ? String(command.prefix(57)) + "..." : command
        return "command `\(shown)` \(exit)"
    }
}
