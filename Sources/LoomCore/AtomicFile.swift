// AtomicFile — write a file so that readers see the old content or the new, never a torn one:
// write a sibling temp file, fsync it, rename it over the target, fsync the directory.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum AtomicFile {
    public struct WriteError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "cannot write \(path): \(reason)" }
    }

    /// Where a streaming write puts its bytes (the temp file; it becomes the target only if the whole
    /// body succeeds).
    public struct Sink {
        fileprivate let fd: Int32
        fileprivate let path: String

        /// Appends `bytes` (all of them: partial writes and EINTR are retried).
        public func write(_ bytes: UnsafeRawBufferPointer) throws {
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw WriteError(path: path, reason: String(cString: strerror(errno)))
                }
                offset += n
            }
        }

        public func write(_ data: Data) throws {
            try data.withUnsafeBytes { try write($0) }
        }
    }

    public static func write(_ data: Data, to url: URL) throws {
        try write(to: url) { try $0.write(data) }
    }

    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }

    /// Writes `value` as JSON the way Loom's own files are written: indented, keys sorted, slashes bare.
    public static func writeJSON(_ value: some Encodable, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try write(try encoder.encode(value), to: url)
    }

    /// Streams a file of any size into place atomically: `body` appends the content piece by piece
    /// (no need to hold it all in memory); when `body` throws, the target is left untouched.
    public static func write(to url: URL, _ body: (Sink) throws -> Void) throws {
        let directory = url.deletingLastPathComponent()
        let temp = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw WriteError(path: url.path, reason: String(cString: strerror(errno))) }
        var ok = false
        defer {
            if !ok { unlink(temp.path) }
        }
        do {
            defer { close(fd) }
            try body(Sink(fd: fd, path: url.path))
            guard fsync(fd) == 0 else { throw WriteError(path: url.path, reason: "fsync: \(String(cString: strerror(errno)))") }
        }
        guard rename(temp.path, url.path) == 0 else {
            throw WriteError(path: url.path, reason: "rename: \(String(cString: strerror(errno)))")
        }
        ok = true
        syncDirectory(directory)
    }

    /// Makes a rename durable: the directory entry itself must reach the disk.
    public static func syncDirectory(_ directory: URL) {
        let fd = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
