// CheckpointStore — a directory of step checkpoints, `checkpoint-00000120/` for the state after step 120,
// each written atomically: its files go into a hidden temp directory, every file and directory in it is
// fsynced, the temp directory is renamed into place and the parent directory fsynced; only then are
// older checkpoints beyond the number to keep removed. A crash at any moment leaves the previous
// checkpoint intact and at most a temp directory behind, which the next write removes.
import Foundation
import LoomCore
#if canImport(Glibc)
import Glibc
#endif

public struct CheckpointStore: Sendable {
    public let directory: URL
    /// The file a checkpoint's writer puts in last; a checkpoint directory without it is not used.
    public static let stateFile = "trainer_state.json"
    static let prefix = "checkpoint-"

    public init(directory: URL) {
        self.directory = directory
    }

    /// The directory of the checkpoint after `step`.
    public func url(step: Int) -> URL {
        directory.appendingPathComponent(Self.prefix + String(format: "%08d", step), isDirectory: true)
    }

    /// Complete checkpoints, oldest first.
    public func checkpoints() throws -> [(step: Int, url: URL)] {
        guard FileManager.default.fileExists(atPath: directory.path) else { return [] }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        return names.compactMap { name -> (Int, URL)? in
            guard name.hasPrefix(Self.prefix), let step = Int(name.dropFirst(Self.prefix.count)) else { return nil }
            let url = directory.appendingPathComponent(name, isDirectory: true)
            guard FileManager.default.fileExists(atPath: url.appendingPathComponent(Self.stateFile).path) else { return nil }
            return (step, url)
        }
        .sorted { $0.0 < $1.0 }
        .map { (step: $0.0, url: $0.1) }
    }

    /// The newest complete checkpoint, if any.
    public func latest() throws -> URL? {
        try checkpoints().last?.url
    }

    /// Writes the checkpoint after `step`: `fill` puts its files into the (temp) directory it is given.
    /// Returns the checkpoint's final directory. Keeps the newest `keep` checkpoints.
    @discardableResult
    func write(step: Int, keep: Int, _ fill: (URL) throws -> Void) throws -> URL {
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
        try removeTemporaries()
        let target = url(step: step)
        let temp = directory.appendingPathComponent(".\(target.lastPathComponent).tmp-\(getpid())", isDirectory: true)
        try fileManager.createDirectory(at: temp, withIntermediateDirectories: false)
        do {
            try fill(temp)
            try Self.syncTree(temp)
        } catch {
            try? fileManager.removeItem(at: temp)
            throw error
        }
        // A checkpoint of the same step (a run that stopped right after writing it) is replaced, never
        // merged: moved aside first, removed once the new one is in place.
        var replaced: URL?
        if fileManager.fileExists(atPath: target.path) {
            let aside = directory.appendingPathComponent(".\(target.lastPathComponent).old-\(getpid())", isDirectory: true)
            try Self.rename(target, to: aside)
            replaced = aside
        }
        try Self.rename(temp, to: target)
        Self.syncDirectory(directory)
        if let replaced { try fileManager.removeItem(at: replaced) }
        for old in try checkpoints().dropLast(keep) where old.url.lastPathComponent != target.lastPathComponent {
            try fileManager.removeItem(at: old.url)
        }
        return target
    }

    /// Removes temp directories left by writes that never finished (a killed process).
    func removeTemporaries() throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path)
        where name.hasPrefix("." + Self.prefix) {
            try FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }

    private static func rename(_ source: URL, to destination: URL) throws {
        guard Glibc.rename(source.path, destination.path) == 0 else {
            throw TrainingError.checkpointWrite(path: source.path, reason: "rename to \(destination.path): \(String(cString: strerror(errno)))")
        }
    }

    /// fsyncs every file under `root`, then every directory (deepest first), then `root` itself.
    private static func syncTree(_ root: URL) throws {
        var directories: [URL] = [root]
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isDirectoryKey]) else { return }
        for case let url as URL in walker {
            if try url.resourceValues(forKeys: [.isDirectoryKey]).isDirectory == true {
                directories.append(url)
            } else {
                try syncFile(url)
            }
        }
        for directory in directories.reversed() { syncDirectory(directory) }
    }

    private static func syncFile(_ url: URL) throws {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TrainingError.checkpointWrite(path: url.path, reason: "open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else {
            throw TrainingError.checkpointWrite(path: url.path, reason: "fsync: \(String(cString: strerror(errno)))")
        }
    }

    private static func syncDirectory(_ url: URL) {
        AtomicFile.syncDirectory(url)
    }
}
