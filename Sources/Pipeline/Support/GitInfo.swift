// GitInfo — the commit checked out around a recipe, read straight from `.git` (HEAD, loose refs,
// packed-refs; worktrees included) instead of running `git`, which would cost a process start on
// every `loom run`.
import Foundation

public enum GitInfo {
    /// The commit of the repository containing `directory`, or nil outside a repository.
    public static func headCommit(near directory: URL) -> String? {
        guard let gitDirectory = findGitDirectory(from: directory) else { return nil }
        guard let head = read(gitDirectory.appendingPathComponent("HEAD")) else { return nil }
        guard head.hasPrefix("ref: ") else { return isCommitHash(head) ? head : nil }
        let reference = String(head.dropFirst(5))
        let common = read(gitDirectory.appendingPathComponent("commondir")).map {
            URL(fileURLWithPath: $0, relativeTo: gitDirectory).standardizedFileURL
        } ?? gitDirectory
        for root in [gitDirectory, common] {
            if let commit = read(root.appendingPathComponent(reference)), isCommitHash(commit) { return commit }
        }
        guard let packed = try? String(contentsOf: common.appendingPathComponent("packed-refs"), encoding: .utf8) else { return nil }
        for line in packed.split(separator: "\n") where line.hasSuffix(" \(reference)") {
            let commit = String(line.prefix(while: { $0 != " " }))
            if isCommitHash(commit) { return commit }
        }
        return nil
    }

    private static func findGitDirectory(from start: URL) -> URL? {
        var directory = start.standardizedFileURL
        while true {
            let candidate = directory.appendingPathComponent(".git")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory) {
                if isDirectory.boolValue { return candidate }
                // A worktree or submodule: `.git` is a file saying `gitdir: PATH`.
                if let text = read(candidate), text.hasPrefix("gitdir: ") {
                    return URL(fileURLWithPath: String(text.dropFirst(8)), relativeTo: directory).standardizedFileURL
                }
                return nil
            }
            let parent = directory.deletingLastPathComponent()
            if parent.path == directory.path { return nil }
            directory = parent
        }
    }

    private static func read(_ url: URL) -> String? {
        (try? String(contentsOf: url, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func isCommitHash(_ text: String) -> Bool {
        (text.count == 40 || text.count == 64) && text.allSatisfy(\.isHexDigit)
    }
}
