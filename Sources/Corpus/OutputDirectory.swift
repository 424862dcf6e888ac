// OutputDirectory — a corpus is built in a hidden sibling directory and only then put in place, so the
// output is either the previous corpus or the complete new one, never a mix. On Linux the swap is one
// renameat2(RENAME_EXCHANGE); elsewhere two renames (the old corpus survives in `.NAME.old-…` if the
// process dies between them). An existing directory is replaced only if it is empty or a corpus.
// Leftovers of a killed build (its pid no longer runs) are removed by the next build.
import Foundation
import LoomCore
#if canImport(Glibc)
import Glibc
#endif

struct OutputDirectory {
    let final: URL
    let temp: URL

    init(_ final: URL) throws {
        self.final = final.standardizedFileURL
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        if fileManager.fileExists(atPath: self.final.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw CorpusError.outputNotReplaceable(path: self.final.path, reason: "it is a file, not a directory")
            }
            let contents = (try? fileManager.contentsOfDirectory(atPath: self.final.path)) ?? []
            if !contents.isEmpty && !Self.holdsCorpus(self.final) {
                throw CorpusError.outputNotReplaceable(
                    path: self.final.path, reason: "the directory is not empty and holds no Loom corpus (manifest.json); choose a new or empty directory")
            }
        }
        let parent = self.final.deletingLastPathComponent()
        do {
            try fileManager.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw CorpusError.outputNotReplaceable(path: self.final.path, reason: "cannot create \(parent.path)")
        }
        Self.removeLeftovers(of: self.final)
        temp = parent.appendingPathComponent(".\(self.final.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try fileManager.createDirectory(at: temp, withIntermediateDirectories: false)
        } catch {
            throw CorpusError.outputNotReplaceable(path: self.final.path, reason: "cannot create \(temp.path): \(SystemErrorText.reason(error))")
        }
    }

    /// Temp and old directories left by builds that were killed (their process is gone) are removed.
    private static func removeLeftovers(of final: URL) {
        let parent = final.deletingLastPathComponent()
        let prefixes = [".\(final.lastPathComponent).tmp-", ".\(final.lastPathComponent).old-"]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? [] {
            guard let prefix = prefixes.first(where: { name.hasPrefix($0) }),
                  let pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" }),
                  kill(pid, 0) != 0 && errno == ESRCH else { continue }
            try? FileManager.default.removeItem(at: parent.appendingPathComponent(name))
        }
    }

    static func holdsCorpus(_ directory: URL) -> Bool {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent(CorpusManifest.fileName)),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
        return object["format"] as? String == CorpusManifest.formatName
    }

    /// Puts the finished temp directory in place of the final one.
    func publish() throws {
        let fileManager = FileManager.default
        AtomicDirectory.syncTree(temp)
        if fileManager.fileExists(atPath: final.path) {
            if AtomicDirectory.exchange(temp.path, final.path) {
                try? fileManager.removeItem(at: temp)  // now holds the previous corpus
            } else {
                let old = final.deletingLastPathComponent()
                    .appendingPathComponent(".\(final.lastPathComponent).old-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
                guard rename(final.path, old.path) == 0 else {
                    throw CorpusError.io(path: final.path, reason: "rename: \(String(cString: strerror(errno)))")
                }
                guard rename(temp.path, final.path) == 0 else {
                    let reason = String(cString: strerror(errno))
                    _ = rename(old.path, final.path)
                    throw CorpusError.io(path: final.path, reason: "rename: \(reason)")
                }
                try? fileManager.removeItem(at: old)
            }
        } else {
            guard rename(temp.path, final.path) == 0 else {
                throw CorpusError.io(path: final.path, reason: "rename: \(String(cString: strerror(errno)))")
            }
        }
        AtomicDirectory.syncDirectory(final.deletingLastPathComponent())
    }

    func discard() {
        try? FileManager.default.removeItem(at: temp)
    }
}

enum AtomicDirectory {
    private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
    private static let renameExchange: UInt32 = 2  // RENAME_EXCHANGE, linux/fs.h

    /// Swaps two paths atomically; false where the C library or the file system cannot.
    static func exchange(_ first: String, _ second: String) -> Bool {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return false }
        let renameat2 = unsafeBitCast(symbol, to: RenameAt2.self)
        return renameat2(AT_FDCWD, first, AT_FDCWD, second, renameExchange) == 0
    }

    static func syncDirectory(_ directory: URL) {
        let descriptor = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }

    /// fsyncs the directory entries of a freshly written tree (its files were fsynced when closed).
    static func syncTree(_ root: URL) {
        syncDirectory(root)
        let subdirectories = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        for name in subdirectories {
            var isDirectory: ObjCBool = false
            let path = root.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: path.path, isDirectory: &isDirectory), isDirectory.boolValue {
                syncTree(path)
            }
        }
    }
}
