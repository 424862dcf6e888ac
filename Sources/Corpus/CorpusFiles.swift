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
    /// Bytes `start..<filled` are read and not yet handed out; the rest is room for the next read.
    private var buffer = [UInt8](repeating: 0, count: 1 << 20)
    private var start = 0
    private var filled = 0
    private var atEnd = false

    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw CorpusError.io(path: path, reason: String(cString: strerror(errno))) }
    }

    deinit { close(descriptor) }

    /// Calls `body` with each line; the buffer is only valid during the call.
    func forEachLine(_ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        var searchFrom = start
        while true {
            let newline = buffer.withUnsafeBufferPointer { bytes -> Int? in
                guard searchFrom < filled, let found = memchr(bytes.baseAddress! + searchFrom, 0x0A, filled - searchFrom) else { return nil }
                return bytes.baseAddress!.distance(to: found.assumingMemoryBound(to: UInt8.self))
            }
            if let newline {
                try buffer.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[start..<newline])) }
                start = newline + 1
                searchFrom = start
                continue
            }
            if atEnd {
                if start < filled {
                    try buffer.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[start..<filled])) }
                }
                return
            }
            searchFrom = filled - start
            try refill()
        }
    }

    /// Moves the unread bytes to the front, grows the buffer when one line fills it, and reads more.
    private func refill() throws {
        if start > 0 {
            buffer.withUnsafeMutableBufferPointer { bytes in
                UnsafeMutableRawPointer(bytes.baseAddress!).copyMemory(from: bytes.baseAddress! + start, byteCount: filled - start)
            }
            filled -= start
            start = 0
        }
        if filled == buffer.count { buffer += [UInt8](repeating: 0, count: buffer.count) }
        let room = buffer.count - filled
        let count = buffer.withUnsafeMutableBytes { raw in read(descriptor, raw.baseAddress! + filled, room) }
        guard count >= 0 else { throw CorpusError.io(path: path, reason: String(cString: strerror(errno))) }
        filled += count
        if count == 0 { atEnd = true }
    }
}
