// PathPattern — the files an input path names: a file, every file under a directory, or the files a
// pattern matches (`*`, `?`, `[…]` within one component, `**` for any depth). Results are sorted so
// that digests and stage inputs never depend on directory order.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum PathPattern {
    public static func hasWildcards(_ path: String) -> Bool {
        path.contains { $0 == "*" || $0 == "?" || $0 == "[" }
    }

    /// Every regular file the absolute `path` names (a file, a directory walked recursively, or a pattern).
    public static func files(matching path: String) throws -> [String] {
        if !hasWildcards(path) {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return [] }
            return isDirectory.boolValue ? files(under: path) : [path]
        }
        var current = ["/"]
        let components = path.split(separator: "/").map(String.init)
        for component in components {
            var next: [String] = []
            if component == "**" {
                for directory in current { next.append(contentsOf: [directory] + directories(under: directory)) }
            } else if hasWildcards(component) {
                for directory in current {
                    for entry in entries(of: directory) where fnmatch(component, entry.name, FNM_PERIOD) == 0 {
                        next.append(join(directory, entry.name))
                    }
                }
            } else {
                next = current.map { join($0, component) }
            }
            current = next
        }
        var result = Set<String>()
        for candidate in current {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                result.formUnion(files(under: candidate))
            } else {
                result.insert(candidate)
            }
        }
        return result.sorted()
    }

    /// The directory a pattern's matches are named relative to: its components before the first wildcard.
    public static func base(of path: String) -> String {
        guard hasWildcards(path) else { return path }
        var parts: [Substring] = []
        for component in path.split(separator: "/") {
            if hasWildcards(String(component)) || component == "**" { break }
            parts.append(component)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Regular files under `directory`, recursively, sorted.
    public static func files(under directory: String) -> [String] {
        var result: [String] = []
        var pending = [directory]
        while let next = pending.popLast() {
            for entry in entries(of: next) {
                let full = join(next, entry.name)
                if entry.isDirectory { pending.append(full) } else if entry.isRegular { result.append(full) }
            }
        }
        return result.sorted()
    }

    private static func directories(under directory: String) -> [String] {
        var result: [String] = []
        var pending = [directory]
        while let next = pending.popLast() {
            for entry in entries(of: next) where entry.isDirectory {
                let full = join(next, entry.name)
                result.append(full)
                pending.append(full)
            }
        }
        return result
    }

    private struct Entry {
        let name: String
        let isDirectory: Bool
        let isRegular: Bool
    }

    /// readdir with d_type: listing ten thousand books costs no stat per file.
    private static func entries(of directory: String) -> [Entry] {
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var result: [Entry] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name == "." || name == ".." { continue }
            var type = Int32(entry.pointee.d_type)
            if type == Int32(DT_UNKNOWN) || type == Int32(DT_LNK) {
                var info = stat()
                guard stat(join(directory, name), &info) == 0 else { continue }
                type = (info.st_mode & S_IFMT) == S_IFDIR ? Int32(DT_DIR) : ((info.st_mode & S_IFMT) == S_IFREG ? Int32(DT_REG) : type)
            }
            result.append(Entry(name: name, isDirectory: type == Int32(DT_DIR), isRegular: type == Int32(DT_REG)))
        }
        return result
    }

    private static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
