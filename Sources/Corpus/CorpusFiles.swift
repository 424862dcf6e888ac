// CorpusFiles — buffered writing (with a running SHA-256 for shard digests) and line-by-line reading of
// JSON Lines files, both in constant memory.
import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

final class BufferedFileWriter {
    let path: String
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var hasher = SHA256()
    private(set) var bytesWritten = 0
    private static let flushAt = 1 << 20

    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw CorpusError.io(path: path, reason: String(cString: strerror(errno))) }
        buffer.reserveCapacity(Self.flushAt + (64 << 10))
    }

    deinit { close(descriptor) }

    func write(_ bytes: some Collection<UInt8>) throws {
        buffer.append(contentsOf: bytes)
        bytesWritten += bytes.count
        if buffer.count >= Self.flushAt { try flush() }
    }

    /// Flushes, fsyncs and returns the SHA-256 of everything written.
    func finish() throws -> String {
        try flush()
        guard fsync(descriptor) == 0 else { throw CorpusError.io(path: path, reason: "fsync: \(String(cString: strerror(errno)))") }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    private func flush() throws {
        hasher.update(data: buffer)
        try buffer.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw CorpusError.io(path: path, reason: String(cString: strerror(errno)))
                }
                offset += written
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// Reads a file line by line (without the newline), in 1 MiB chunks.
final class LineReader {
    let path: String
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    private(set) var lineNumber = 0

    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw CorpusError.io(path: path, reason: String(cString: strerror(errno))) }
    }

    deinit { close(descriptor) }

    /// Calls `body` with each line; the buffer is only valid during the call.
    func forEachLine(_ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                lineNumber += 1
                try buffer.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[start..<newline])) }
                start = newline + 1
                continue
            }
            if atEnd {
                if start < buffer.count {
                    lineNumber += 1
                    try buffer.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[start...])) }
                }
                return
            }
            try refill()
        }
    }

    private func refill() throws {
        buffer.removeSubrange(0..<start)
        start = 0
        let chunk = 1 << 20
        let old = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: chunk))
        let count = buffer.withUnsafeMutableBytes { raw in read(descriptor, raw.baseAddress! + old, chunk) }
        guard count >= 0 else { throw CorpusError.io(path: path, reason: String(cString: strerror(errno))) }
        buffer.removeLast(chunk - count)
        if count == 0 { atEnd = true }
    }
}
