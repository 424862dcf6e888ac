// ProcessState — facts about processes the store records: this host's name and whether a pid lives.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum ProcessState {
    public static let hostName: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    public static var currentPID: Int32 { getpid() }

    /// True if a process with this pid exists on this host (a zombie counts: it is not reaped yet).
    public static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    public static var now: Double { Date().timeIntervalSince1970 }
}
