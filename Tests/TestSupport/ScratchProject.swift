// ScratchProject — a scratch Loom project (with `pipelines/`) whose files tests write and read by
// relative path; orchestration tests in several targets build on it.
import Foundation

public final class ScratchProject {
    public let scratch: ScratchDirectory
    public var root: URL { scratch.url }

    public init(_ label: String) throws {
        scratch = try ScratchDirectory(label)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("pipelines"), withIntermediateDirectories: true)
    }

    @discardableResult
    public func write(_ relative: String, _ text: String) throws -> URL {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    public func read(_ relative: String) -> String? {
        try? String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8)
    }
}
