// FileLock — an exclusive flock(2) on a lock file. The kernel drops it when its holder dies (kill -9
// included), which makes it the reliable signal that nobody is executing a fingerprint any more.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public final class FileLock {
    private var descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    /// Waits until the lock is free, then takes it.
    public static func acquire(_ url: URL) throws -> FileLock {
        let fd = try open(url)
        while flock(fd, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            let reason = String(cString: strerror(errno))
            close(fd)
            throw FileLockError(path: url.path, reason: reason)
        }
        return FileLock(descriptor: fd)
    }

    /// Takes the lock only if nobody holds it.
    public static func tryAcquire(_ url: URL) throws -> FileLock? {
        let fd = try open(url)
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return FileLock(descriptor: fd) }
        close(fd)
        return nil
    }

    public func release() {
        guard descriptor >= 0 else { return }
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }

    private static func open(_ url: URL) throws -> Int32 {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let fd = Glibc.open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileLockError(path: url.path, reason: String(cString: strerror(errno))) }
        return fd
    }
}

public struct FileLockError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "cannot lock \(path): \(reason)" }
}
