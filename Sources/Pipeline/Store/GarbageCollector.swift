// GarbageCollector — frees what no run needs: cache entries whose fingerprint no stage of any run
// names, work directories of such fingerprints, and attempt leftovers of fingerprints nobody is
// executing (their lock is free), and the job directories of batch attempts that are no longer running.
// Resume checkpoints of referenced fingerprints are kept.
import Foundation

public struct GarbageCollector {
    public struct Item: Sendable, Equatable {
        public let path: String
        public let bytes: Int64
        public let why: String
    }

    public struct Result: Sendable {
        public let removed: [Item]
        public let keptEntries: Int
        public var bytes: Int64 { removed.reduce(0) { $0 + $1.bytes } }
    }

    public let store: RunStore

    public init(store: RunStore) {
        self.store = store
    }

    public func collect(dryRun: Bool) throws -> Result {
        let layout = store.layout
        let referenced = try store.referencedFingerprints()
        let fileManager = FileManager.default
        var removed: [Item] = []
        var kept = 0

        func remove(_ url: URL, why: String) throws {
            let bytes = Self.size(of: url)
            if !dryRun { try fileManager.removeItem(at: url) }
            removed.append(Item(path: url.path, bytes: bytes, why: why))
        }

        for name in (try? fileManager.contentsOfDirectory(atPath: layout.cacheRoot.path))?.sorted() ?? [] {
            let entry = layout.cacheRoot.appendingPathComponent(name)
            if referenced.contains(name) {
                kept += 1
                continue
            }
            // An entry being promoted right now is referenced (its run's stage row exists), so this is safe.
            try remove(entry, why: "no run references it")
        }
        for name in (try? fileManager.contentsOfDirectory(atPath: layout.workRoot.path))?.sorted() ?? [] {
            let work = layout.workRoot.appendingPathComponent(name)
            guard let lock = try FileLock.tryAcquire(layout.lockFile(name)) else { continue }
            defer { lock.release() }
            if !referenced.contains(name) {
                try remove(work, why: "work directory of a fingerprint no run references")
                continue
            }
            for leftover in (try? fileManager.contentsOfDirectory(atPath: work.path))?.sorted() ?? [] where leftover != "resume" {
                try remove(work.appendingPathComponent(leftover), why: "left by an attempt that ended")
            }
        }
        for run in (try? fileManager.contentsOfDirectory(atPath: layout.jobRoot.path))?.sorted() ?? [] {
            let runDirectory = layout.jobRoot.appendingPathComponent(run)
            let running = Set(try Int64(run).map { try store.stages(ofRun: $0) }?.filter { $0.status == .running }
                .map { "\($0.name).\($0.attempt)" } ?? [])
            let jobs = (try? fileManager.contentsOfDirectory(atPath: runDirectory.path))?.sorted() ?? []
            for job in jobs where !running.contains(job) {
                try remove(runDirectory.appendingPathComponent(job), why: "job directory of an attempt that ended")
            }
            if running.isEmpty, !dryRun { try? fileManager.removeItem(at: runDirectory) }
        }
        return Result(removed: removed, keptEntries: kept)
    }

    static func size(of url: URL) -> Int64 {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { return 0 }
        let files = isDirectory.boolValue ? PathPattern.files(under: url.path) : [url.path]
        return files.reduce(Int64(0)) { total, file in
            total + (((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? NSNumber)?.int64Value ?? 0)
        }
    }
}
