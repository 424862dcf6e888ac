// FileDigester — SHA-256 of the input paths named in stage parameters, the way DVC hashes deps: a file
// is hashed once and then trusted while its (size, mtime, inode) stay the same, so a cached re-run
// over ten thousand books costs ten thousand stat calls, not ten thousand reads.
import Foundation
import LoomCore
#if canImport(Glibc)
import Glibc
#endif

/// What the digest cache remembers about one file.
public struct CachedDigest: Sendable, Equatable {
    public let size: Int64
    public let mtimeNanoseconds: Int64
    public let inode: Int64
    public let sha256: String

    public init(size: Int64, mtimeNanoseconds: Int64, inode: Int64, sha256: String) {
        self.size = size
        self.mtimeNanoseconds = mtimeNanoseconds
        self.inode = inode
        self.sha256 = sha256
    }
}

/// Where digests persist between processes (the run store's `file_digests` table).
public protocol DigestCacheStorage: Sendable {
    func loadDigests() throws -> [String: CachedDigest]
    func saveDigests(_ digests: [String: CachedDigest]) throws
}

public final class FileDigester {
    private let storage: (any DigestCacheStorage)?
    private var known: [String: CachedDigest]?
    private var changed: [String: CachedDigest] = [:]
    /// Files actually read and hashed (the rest were answered from the cache).
    public private(set) var hashedFileCount = 0

    public init(storage: (any DigestCacheStorage)?) {
        self.storage = storage
    }

    /// The digest of one input path parameter: a file's own digest, or for a directory or pattern a
    /// digest of the sorted (relative path, file digest) list — renames and additions count.
    public func digest(of param: PathParam) throws -> String {
        let files = try PathPattern.files(matching: param.absolute)
        var isDirectory: ObjCBool = false
        let isSingleFile = files.count == 1 && files[0] == param.absolute
            && FileManager.default.fileExists(atPath: param.absolute, isDirectory: &isDirectory) && !isDirectory.boolValue
        if isSingleFile { return try digest(ofFile: files[0]) }
        let base = PathPattern.base(of: param.absolute)
        var listing = ""
        for file in files {
            let relative = file.hasPrefix(base + "/") ? String(file.dropFirst(base.count + 1)) : file
            listing += "\(relative)\t\(try digest(ofFile: file))\n"
        }
        return Digest.sha256Hex(listing)
    }

    public func digest(ofFile path: String) throws -> String {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw FileDigestError(path: path, reason: String(cString: strerror(errno)))
        }
        let size = Int64(info.st_size)
        let mtime = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        let inode = Int64(bitPattern: UInt64(info.st_ino))
        if known == nil { known = (try? storage?.loadDigests()) ?? [:] }
        if let cached = changed[path] ?? known?[path],
           cached.size == size, cached.mtimeNanoseconds == mtime, cached.inode == inode {
            return cached.sha256
        }
        let sha = try Digest.sha256Hex(fileAt: URL(fileURLWithPath: path))
        hashedFileCount += 1
        changed[path] = CachedDigest(size: size, mtimeNanoseconds: mtime, inode: inode, sha256: sha)
        return sha
    }

    /// Persists the digests computed since the last save.
    public func save() throws {
        guard let storage, !changed.isEmpty else { return }
        try storage.saveDigests(changed)
        for (path, digest) in changed { known?[path] = digest }
        changed.removeAll()
    }
}

public struct FileDigestError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "cannot hash \(path): \(reason)" }
}
