// StageLog — the stage attempt's log file (`logs/<run>/<stage>.<attempt>.log`), which also receives the
// stage process's own stdout and stderr. Lines are timestamped; writes are appends, so a command
// writing to the same file interleaves cleanly.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public final class StageLog: Sendable {
    public let file: URL
    private let descriptor: Int32

    public init(file: URL) throws {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        self.file = file
        descriptor = open(file.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw StageLogError(path: file.path, reason: String(cString: strerror(errno)))
        }
    }

    deinit { close(descriptor) }

    public func info(_ message: String) { write("", message) }
    public func warning(_ message: String) { write("warning: ", message) }
    public func error(_ message: String) { write("error: ", message) }

    private func write(_ prefix: String, _ message: String) {
        var time = time_t(Date().timeIntervalSince1970)
        var parts = tm()
        localtime_r(&time, &parts)
        let stamp = String(format: "%02d:%02d:%02d", parts.tm_hour, parts.tm_min, parts.tm_sec)
        let bytes = Array("[loom \(stamp)] \(prefix)\(message)\n".utf8)
        bytes.withUnsafeBytes { _ = Glibc.write(descriptor, $0.baseAddress, $0.count) }
    }

    /// The last `count` non-empty lines of a log file (for failure messages).
    public static func tail(of file: URL, lines count: Int) -> [String] {
        guard let handle = try? FileHandle(forReadingFrom: file) else { return [] }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: size > 16_384 ? size - 16_384 : 0)
        let data = (try? handle.readToEnd()) ?? Data()
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
            .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        return Array(lines.suffix(count))
    }
}

public struct StageLogError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "cannot open log \(path): \(reason)" }
}
