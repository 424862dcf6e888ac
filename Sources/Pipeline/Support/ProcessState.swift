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

    /// True if a process with this pid exists on this host and has not exited. A zombie (exited,
    /// waiting to be reaped — for ever, under an init that does not reap) counts as gone.
    public static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
        return state != "Z" && state != "X"
    }

    public static var now: Double { Date().timeIntervalSince1970 }
}
