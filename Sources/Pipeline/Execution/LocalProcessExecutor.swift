// LocalProcessExecutor — runs each stage attempt as a child process on this machine:
// `<loom or loom-torch> exec-stage …` in a process group of its own (Ctrl-C reaches only the runner,
// which then stops children in order), with stdout and stderr appended to the attempt's log.
import Foundation

public final class LocalProcessExecutor: StageExecutor {
    private let executables: [StageExecutable: String]
    private let environment: [String: String]

    /// - executables: the path of each executable (`loom` is normally this process's own binary).
    public init(executables: [StageExecutable: String], environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.executables = executables
        self.environment = environment
    }

    public func start(_ launch: StageLaunch) throws -> any StageExecution {
        let path = try Self.path(of: launch.executable, in: executables)
        try FileManager.default.createDirectory(at: launch.logFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        let child = try ChildProcess.spawn(
            executable: path, arguments: ["exec-stage"] + launch.invocation.arguments, environment: environment,
            outputFile: launch.logFile.path, newProcessGroup: true)
        return LocalProcessExecution(child: child)
    }

    /// The path of `executable` in `executables`, checked.
    static func path(of executable: StageExecutable, in executables: [StageExecutable: String]) throws -> String {
        guard let path = executables[executable] else {
            throw ChildProcessError(executable: executable.rawValue, reason: "no path configured")
        }
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw ChildProcessError(
                executable: path,
                reason: executable == .loomTorch
                    ? "not found (build it with `swift build --product loom-torch`, or set LOOM_TORCH)"
                    : "not found or not executable")
        }
        return path
    }
}

final class LocalProcessExecution: StageExecution {
    let child: ChildProcess

    init(child: ChildProcess) { self.child = child }

    var pid: Int32? { child.pid }
    func poll() -> ChildExit? { child.poll() }
    func cancel() { child.signal(SIGTERM) }
    func kill() { child.signal(SIGKILL) }
}
