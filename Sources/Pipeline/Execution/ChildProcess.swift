// ChildProcess — a child started with posix_spawn, for the control Foundation's Process lacks: its own
// process group (so Ctrl-C reaches only the runner, which then cancels children in order), stdout and
// stderr appended to a log file, signal dispositions reset, and non-blocking reaping with waitpid.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum ChildExit: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)

    public var succeeded: Bool { self == .exited(0) }

    public var description: String {
        switch self {
        case .exited(let code): "exited with status \(code)"
        case .signalled(let signal): "killed by signal \(signal)\(ChildExit.signalName(signal).map { " (\($0))" } ?? "")"
        }
    }

    static func signalName(_ signal: Int32) -> String? {
        switch signal {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        case SIGKILL: "SIGKILL"
        case SIGSEGV: "SIGSEGV"
        case SIGABRT: "SIGABRT"
        case SIGBUS: "SIGBUS"
        case SIGHUP: "SIGHUP"
        default: nil
        }
    }
}

public struct ChildProcessError: Error, CustomStringConvertible {
    public let executable: String
    public let reason: String
    public var description: String { "cannot start \(executable): \(reason)" }
}

public final class ChildProcess: Sendable {
    public let pid: pid_t
    /// The process group signals go to (the child's own group, or the parent's when it joined it).
    public let processGroup: pid_t
    private let exitStatus = Locked<ChildExit?>(nil)

    private init(pid: pid_t, processGroup: pid_t) {
        self.pid = pid
        self.processGroup = processGroup
    }

    /// Starts `executable` (a path) with `arguments` (argv[1…]).
    /// - newProcessGroup: true puts the child in a group of its own; false keeps it in ours.
    /// - outputFile: stdout and stderr are appended there (nil: inherited).
    /// - errorFile: stderr goes there instead, apart from stdout.
    public static func spawn(
        executable: String, arguments: [String], environment: [String: String], workingDirectory: String? = nil,
        outputFile: String? = nil, errorFile: String? = nil, newProcessGroup: Bool
    ) throws -> ChildProcess {
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        posix_spawn_file_actions_addopen(&fileActions, 0, "/dev/null", O_RDONLY, 0)
        if let outputFile {
            posix_spawn_file_actions_addopen(&fileActions, 1, outputFile, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            if let errorFile {
                posix_spawn_file_actions_addopen(&fileActions, 2, errorFile, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            } else {
                posix_spawn_file_actions_adddup2(&fileActions, 1, 2)
            }
        }
        if let workingDirectory {
            guard let addChdir = ChildProcess.addChdirAction else {
                throw ChildProcessError(executable: executable, reason: "this C library cannot set a child's working directory (glibc ≥ 2.29 needed)")
            }
            _ = addChdir(&fileActions, workingDirectory)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var flags = Int32(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        if newProcessGroup {
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        // The runner and stage processes ignore or catch these; children start with the defaults.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &fileActions, &attributes, argv, envp)
        guard status == 0 else {
            throw ChildProcessError(executable: executable, reason: String(cString: strerror(status)))
        }
        return ChildProcess(pid: pid, processGroup: newProcessGroup ? pid : getpgrp())
    }

    /// The exit status if the child has ended (reaps it), nil while it runs.
    public func poll() -> ChildExit? {
        if let known = exitStatus.current { return known }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        guard result == pid else { return nil }
        let exit = ChildProcess.decode(status)
        exitStatus.withLock { $0 = exit }
        return exit
    }

    /// Blocks until the child ends.
    public func wait() -> ChildExit {
        if let known = exitStatus.current { return known }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return exitStatus.current ?? .signalled(SIGKILL) }
        }
        let exit = ChildProcess.decode(status)
        exitStatus.withLock { $0 = exit }
        return exit
    }

    /// Signals the child's whole process group when it has one of its own, else the child alone.
    public func signal(_ signal: Int32) {
        guard exitStatus.current == nil else { return }
        if processGroup == pid {
            kill(-processGroup, signal)
        } else {
            kill(pid, signal)
        }
    }

    private static func decode(_ status: Int32) -> ChildExit {
        let signal = status & 0x7f
        if signal == 0 { return .exited((status >> 8) & 0xff) }
        return .signalled(signal)
    }
}

/// What a short command printed, and how it ended.
public struct CapturedOutput: Sendable {
    public let exit: ChildExit
    public let stdout: String
    public let stderr: String
}

extension ChildProcess {
    /// Runs a short command (`sbatch`, `squeue`…) to completion with its stdout and stderr captured apart —
    /// through temporary files, so that a large output never blocks it on a full pipe.
    public static func capture(_ name: String, _ arguments: [String], environment: [String: String]) throws -> CapturedOutput {
        guard let path = resolveExecutable(name, path: environment["PATH"]) else {
            throw ChildProcessError(executable: name, reason: "not found on PATH")
        }
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("loom-\(getpid())-\(UUID().uuidString.prefix(8))")
        let out = base.path + ".out", err = base.path + ".err"
        defer {
            unlink(out)
            unlink(err)
        }
        let child = try spawn(executable: path, arguments: arguments, environment: environment, outputFile: out, errorFile: err,
                              newProcessGroup: true)
        let exit = child.wait()
        let read = { (file: String) in (try? String(contentsOfFile: file, encoding: .utf8)) ?? "" }
        return CapturedOutput(exit: exit, stdout: read(out), stderr: read(err))
    }

    /// glibc's posix_spawn_file_actions_addchdir_np (2.29+), looked up at run time: Swift's Glibc
    /// module does not import the GNU extensions of <spawn.h>.
    private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    private static let addChdirAction: AddChdir? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np") else { return nil }
        return unsafeBitCast(symbol, to: AddChdir.self)
    }()

    /// `$PATH` lookup for a bare executable name (posix_spawn, unlike posix_spawnp, wants a path).
    public static func resolveExecutable(_ name: String, path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}
