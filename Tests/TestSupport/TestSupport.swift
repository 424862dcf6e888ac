// TestSupport — what every test target shares: where fixtures and built executables are, scratch
// directories, and running a built executable as a child process.
import Foundation

public enum TestPaths {
    /// The package root, found from this file's location (Tests/TestSupport/TestSupport.swift).
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Tests/Fixtures/<relative>`: reference data copied in from Hugging Face / PEFT outputs.
    public static func fixture(_ relative: String) -> URL {
        packageRoot.appendingPathComponent("Tests/Fixtures").appendingPathComponent(relative)
    }

    /// The directory holding the built products (the test bundle sits beside `loom` and `loom-torch`).
    public static let productsDirectory: URL = {
        var url = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        while url.pathExtension == "xctest" { url = url.deletingLastPathComponent() }
        return url
    }()

    /// Copies the stage fixtures `names` (fortune files under `Tests/Fixtures/stages`) to `root/books/`.
    public static func installStageBooks(_ names: [String], in root: URL) throws {
        let books = root.appendingPathComponent("books")
        try FileManager.default.createDirectory(at: books, withIntermediateDirectories: true)
        for name in names {
            try FileManager.default.copyItem(at: fixture("stages/\(name)"), to: books.appendingPathComponent(name))
        }
    }

    public static func executable(_ name: String) -> URL {
        productsDirectory.appendingPathComponent(name)
    }

    /// The project virtual environment's interpreter (`.venv/bin/python`, made by `make`), where the
    /// pinned Python packages the interop tests use live; `python3` on PATH when there is no venv.
    public static let python: (executable: URL, arguments: [String]) = {
        let venv = packageRoot.appendingPathComponent(".venv/bin/python")
        if FileManager.default.isExecutableFile(atPath: venv.path) { return (venv, []) }
        return (URL(fileURLWithPath: "/usr/bin/env"), ["python3"])
    }()
}

/// A fresh directory under the system temp dir, removed when the value is released.
public final class ScratchDirectory: @unchecked Sendable {
    public let url: URL

    public init(_ label: String = "loom-test") throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(label)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public func path(_ relative: String) -> URL { url.appendingPathComponent(relative) }

    deinit { try? FileManager.default.removeItem(at: url) }
}

public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

/// Runs an executable to completion, capturing both streams; `standardInput`, when given, is written to
/// its standard input (then closed).
public func runProcess(
    _ executable: URL, _ arguments: [String], environment: [String: String]? = nil, currentDirectory: URL? = nil,
    standardInput: Data? = nil
) throws -> ProcessResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let environment {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    }
    if let currentDirectory { process.currentDirectoryURL = currentDirectory }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let input = standardInput.map { _ in Pipe() }
    if let input { process.standardInput = input }
    try process.run()
    if let input, let standardInput {
        Thread.detachNewThread {
            input.fileHandleForWriting.write(standardInput)
            try? input.fileHandleForWriting.close()
        }
    }
    let errReader = Thread.detachNewThreadWithResult { err.fileHandleForReading.readDataToEndOfFile() }
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(
        status: process.terminationStatus,
        stdout: String(decoding: stdout, as: UTF8.self),
        stderr: String(decoding: errReader.value, as: UTF8.self))
}

extension Thread {
    /// Runs `body` on a new thread; `value` blocks until it has finished.
    static func detachNewThreadWithResult<T>(_ body: @escaping @Sendable () -> T) -> PendingResult<T> {
        let pending = PendingResult<T>()
        Thread.detachNewThread { pending.fulfil(body()) }
        return pending
    }
}

final class PendingResult<T>: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: T?

    func fulfil(_ value: T) {
        condition.lock(); result = value; condition.broadcast(); condition.unlock()
    }

    var value: T {
        condition.lock(); defer { condition.unlock() }
        while result == nil { condition.wait() }
        return result!
    }
}

/// The description of the error `body` throws, or nil when it does not throw — for tests of error messages.
public func errorMessage(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch {
        return "\(error)"
    }
}

/// A pid no process can have: above the kernel's `pid_max` (pids are always below it), so unlike a
/// reaped child's pid it can never be reused by a live process while the test runs.
public func pidThatCannotExist() -> Int32 {
    let text = (try? String(contentsOfFile: "/proc/sys/kernel/pid_max", encoding: .utf8)) ?? ""
    // 4194304 (2^22) is the largest pid_max Linux allows.
    return (Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 4_194_304) + 1
}
