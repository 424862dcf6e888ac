// ReportFileRecorder — the StageRecorder of a stage process that must not write the run store (a Slurm
// job, possibly on another node, with the store on a shared filesystem): everything is appended to the
// attempt's report file in the StageReports format, which the runner ingests into the store.
//
// Each record is one write(2) of whole lines to a descriptor opened for appending and closed after it
// (a network filesystem publishes appends on close); the end of the attempt is also fsync'ed, so a
// runner on another node never sees the stage finished without its last metrics before it.
import Foundation
import LoomCore
#if canImport(Glibc)
import Glibc
#endif

/// Records a stage attempt into its report file (`JobDirectory.report`).
public final class ReportFileRecorder: StageRecorder {
    public let file: URL

    /// Appends to `file`, creating its directory.
    public init(file: URL) throws {
        self.file = file
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
    }

    public func processStarted(pid: Int32, host: String) throws {
        try append(event("started", ["pid": .int(Int(pid)), "host": .string(host)]))
    }

    public func heartbeat(progress: StageProgress?) throws {
        if let progress {
            try append(JSONValue.object(["progress": progress.json, "time": .double(ProcessState.now)]).canonicalJSON + "\n")
        } else {
            try append(event("heartbeat", [:]))
        }
    }

    public func appendMetrics(_ points: [MetricPoint]) throws {
        guard !points.isEmpty else { return }
        var text = ""
        text.reserveCapacity(points.count * 64)
        for point in points {
            text += "{\"key\":\(JSONStringLiteral.literal(point.key)),\"value\":\(JSONValue.double(point.value).canonicalJSON),"
            text += "\"step\":\(point.step),\"time\":\(JSONValue.double(point.time).canonicalJSON)}\n"
        }
        try append(text)
    }

    public func recordArtifacts(_ artifacts: [ArtifactRecord]) throws {
        try append(event("artifacts", ["files": .array(artifacts.map { artifact in
            .object(["name": .string(artifact.name), "path": .string(artifact.path), "sha256": .string(artifact.sha256),
                     "bytes": .int(Int(artifact.bytes))])
        })]))
    }

    public func finish(_ status: StageStatus, exitCode: Int32?, error: String?) throws {
        var members: [String: JSONValue] = ["status": .string(status.rawValue)]
        if let exitCode { members["exit_code"] = .int(Int(exitCode)) }
        if let error { members["error"] = .string(error) }
        try append(event("finished", members), sync: true)
    }

    public func markCached(sourceRun: Int64?, sourceStage: String?) throws {
        var members: [String: JSONValue] = [:]
        if let sourceRun { members["source_run"] = .int(Int(sourceRun)) }
        if let sourceStage { members["source_stage"] = .string(sourceStage) }
        try append(event("cached", members), sync: true)
    }

    private func event(_ name: String, _ members: [String: JSONValue]) -> String {
        var object = members
        object["loom"] = .string(name)
        object["time"] = .double(ProcessState.now)
        return JSONValue.object(object).canonicalJSON + "\n"
    }

    private func append(_ text: String, sync: Bool = false) throws {
        let descriptor = open(file.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw ReportFileError(path: file.path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var bytes = Array(text.utf8)
        var written = 0
        try bytes.withUnsafeMutableBytes { buffer in
            while written < buffer.count {
                let result = write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    throw ReportFileError(path: file.path, reason: String(cString: strerror(errno)))
                }
                written += result
            }
        }
        if sync { fsync(descriptor) }
    }
}

/// The report file could not be written.
public struct ReportFileError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "cannot append to the report file \(path): \(reason)" }
}
