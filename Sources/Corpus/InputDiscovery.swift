// InputDiscovery — turns each tier's files, directories and globs into the ordered list of files to
// read. Order: tiers as given, inputs as given, directory entries by byte-wise name. A file reached
// twice (a symlink, an overlapping glob, the same file in two tiers) is read once, where first met.
// Symlink loops, dangling links and special files become rejects; a missing input is an error. A
// directory holding a Loom corpus (an earlier output inside the books folder) is skipped.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct SourceFile: Sendable, Equatable {
    var tierIndex: Int
    var tier: String
    var path: String
    var size: Int
}

struct Discovery: Sendable {
    var files: [SourceFile] = []
    var rejects: [CorpusReject] = []
    var skips: [CorpusSkip] = []
}

enum InputDiscovery {
    static func discover(_ tiers: [TierSpec]) throws -> Discovery {
        var walker = Walker()
        for (tierIndex, tier) in tiers.enumerated() {
            let before = walker.result.files.count + walker.result.rejects.count + walker.result.skips.count
            for input in tier.inputs {
                for path in try expand(input, tier: tier.name) {
                    walker.visitTopLevel(path, tierIndex: tierIndex, tier: tier.name)
                }
            }
            let after = walker.result.files.count + walker.result.rejects.count + walker.result.skips.count
            if after == before { throw CorpusError.noInputs(tier: tier.name) }
        }
        return walker.result
    }

    /// A glob becomes its sorted matches; a plain path must exist (a dangling symlink counts as
    /// existing: it becomes a reject, not an error).
    private static func expand(_ input: String, tier: String) throws -> [String] {
        guard input.contains(where: { "*?[".contains($0) }) else {
            var info = stat()
            guard lstat(input, &info) == 0 else { throw CorpusError.inputNotFound(tier: tier, path: input) }
            return [input]
        }
        var matches = glob_t()
        defer { globfree(&matches) }
        guard glob(input, 0, nil, &matches) == 0 else { throw CorpusError.inputNotFound(tier: tier, path: input) }
        var paths: [String] = []
        for index in 0..<Int(matches.gl_pathc) {
            if let cString = matches.gl_pathv[index] { paths.append(String(cString: cString)) }
        }
        return paths.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    private struct FileIdentity: Hashable {
        var device: UInt64
        var inode: UInt64
        init(_ info: stat) {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }
    }

    private struct Walker {
        var result = Discovery()
        var firstPathOfFile: [FileIdentity: String] = [:]
        var walkedDirectories: [FileIdentity: String] = [:]

        mutating func visitTopLevel(_ path: String, tierIndex: Int, tier: String) {
            visit(path, tierIndex: tierIndex, tier: tier, ancestors: [])
        }

        private mutating func visit(_ path: String, tierIndex: Int, tier: String, ancestors: Set<FileIdentity>) {
            var info = stat()
            if stat(path, &info) != 0 {
                let code = errno
                let kind: CorpusReject.Kind = code == ELOOP ? .symlinkLoop : .unreadable
                let reason = code == ELOOP
                    ? "symlink loop (too many levels of symbolic links)"
                    : (isSymlink(path) ? "broken symlink: \(String(cString: strerror(code)))" : String(cString: strerror(code)))
                result.rejects.append(CorpusReject(tier: tier, path: path, kind: kind, reason: reason))
                return
            }
            let identity = FileIdentity(info)
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                if ancestors.contains(identity) {
                    result.rejects.append(CorpusReject(
                        tier: tier, path: path, kind: .symlinkLoop,
                        reason: "symlink loop: leads back to the enclosing directory \(walkedDirectories[identity] ?? "")"))
                    return
                }
                if let first = walkedDirectories[identity] {
                    result.skips.append(CorpusSkip(tier: tier, path: path, reason: "same directory as \(first), already read"))
                    return
                }
                if OutputDirectory.holdsCorpus(URL(fileURLWithPath: path)) {
                    result.skips.append(CorpusSkip(tier: tier, path: path, reason: "a Loom corpus output (its shards are not input)"))
                    return
                }
                walkedDirectories[identity] = path
                let names: [String]
                do {
                    names = try FileManager.default.contentsOfDirectory(atPath: path)
                } catch {
                    result.rejects.append(CorpusReject(tier: tier, path: path, kind: .unreadable, reason: "cannot list directory"))
                    return
                }
                var inside = ancestors
                inside.insert(identity)
                let separator = path.hasSuffix("/") ? "" : "/"
                for name in names.filter({ !$0.hasPrefix(".") }).sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                    visit(path + separator + name, tierIndex: tierIndex, tier: tier, ancestors: inside)
                }
            case S_IFREG:
                if let first = firstPathOfFile[identity] {
                    result.skips.append(CorpusSkip(tier: tier, path: path, reason: "same file as \(first), already read"))
                    return
                }
                firstPathOfFile[identity] = path
                result.files.append(SourceFile(tierIndex: tierIndex, tier: tier, path: path, size: Int(info.st_size)))
            default:
                result.rejects.append(CorpusReject(
                    tier: tier, path: path, kind: .unsupported, reason: "not a regular file or directory"))
            }
        }

        private func isSymlink(_ path: String) -> Bool {
            var info = stat()
            return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
        }
    }
}
