// StageReports — the JSON-lines report format and its incremental reader, shared by the two files that
// use it: the `$LOOM_METRICS` file a `command` stage appends to (read by the stage process), and the
// report file a Slurm job's stage process writes (read by the runner, the one writer of the store).
// One object per line:
//   {"key": "loss", "value": 2.31, "step": 10}            one metric (step defaults to 0; "time" optional)
//   {"step": 10, "loss": 2.31, "lr": 0.0003}              several metrics at one step
//   {"progress": {"step": 10, "total": 100, "loss": 2.31, "tokens_per_second": 5400, "message": "…"}}
//   {"artifact": "model", "path": "model.safetensors"}    a name for an output file
// and, written by Loom's own stage driver only (ReportFileRecorder), lines whose "loom" member says what
// happened: "started" (pid, host), "heartbeat", "artifacts" (files), "finished" (status, exit_code,
// error), "cached" (source_run, source_stage). Every line may carry "time" (seconds since 1970).
//
// The reader takes the lines appended since its last read, reopening the file each time (on a network
// filesystem, close-to-open consistency is what makes another node's appends visible), keeps a line
// whose end has not arrived yet for the next read, and can save the byte offset of what its consumer
// has recorded, so that a later reader (the next attempt, a resumed runner) starts there.
import Foundation
import LoomCore

/// One understood line of a report file.
public enum StageReport: Sendable, Equatable {
    case metrics([MetricPoint])
    case progress(StageProgress, time: Double?)
    case artifactName(name: String, path: String)
    case started(pid: Int32, host: String, time: Double?)
    case heartbeat(time: Double?)
    case artifacts([ArtifactRecord])
    case finished(StageStatus, exitCode: Int32?, error: String?)
    case cached(sourceRun: Int64?, sourceStage: String?)
}

/// Reads a report file incrementally (see the file header); one reader per file, on one thread.
public final class ReportFileReader {
    public let file: URL
    /// Where the recorded offset is saved (nil: not saved).
    public let offsetFile: URL?
    /// Whether lines with a "loom" member are Loom's own events (the job report file) or, in a
    /// command's `$LOOM_METRICS`, lines that are not understood.
    public let acceptsLoomEvents: Bool
    /// Called with the line number and the reason for a line that is not understood.
    public var onInvalidLine: (Int, String) -> Void = { _, _ in }

    /// Bytes of the file whose lines were handed to the consumer.
    public private(set) var recorded: UInt64 = 0
    public private(set) var invalidLines = 0
    /// The start of a line whose end has not been written yet.
    private var pending: [UInt8] = []
    private var lineNumber = 0
    private var reports: [StageReport] = []
    private var points: [MetricPoint] = []

    /// Reads `file` from its start (call `start(at:)` to continue from a saved offset).
    public init(file: URL, offsetFile: URL? = nil, acceptsLoomEvents: Bool) {
        self.file = file
        self.offsetFile = offsetFile
        self.acceptsLoomEvents = acceptsLoomEvents
    }

    /// The offset an earlier reader saved (0 when none was).
    public var savedOffset: UInt64 {
        offsetFile.flatMap { try? String(contentsOf: $0, encoding: .utf8) }.flatMap { UInt64($0) } ?? 0
    }

    /// Starts reading at `offset` (the saved one, to continue where an earlier reader stopped).
    public func start(at offset: UInt64) {
        recorded = offset
        pending.removeAll()
        lineNumber = 0
    }

    /// Hands the complete lines appended since the last read to `consume`, then saves the offset.
    /// With `final`, a last line without a newline counts too. Returns whether anything was read.
    @discardableResult
    public func read(final: Bool = false, _ consume: ([StageReport]) throws -> Void) throws -> Bool {
        var consumed = 0
        if let handle = FileHandle(forReadingAtPath: file.path) {
            defer { try? handle.close() }
            try handle.seek(toOffset: recorded + UInt64(pending.count))
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                consumed += split(chunk)
            }
        }
        if final, !pending.isEmpty {
            pending.withUnsafeBufferPointer { handleLine($0) }
            consumed += pending.count
            pending.removeAll()
        }
        guard consumed > 0 else { return false }
        flushPoints()
        let batch = reports
        reports.removeAll(keepingCapacity: true)
        try consume(batch)
        recorded += UInt64(consumed)
        if let offsetFile { try AtomicFile.write(String(recorded), to: offsetFile) }
        return true
    }

    /// Empties the file and starts reading it afresh.
    public func truncate() throws {
        try Data().write(to: file)
        start(at: 0)
        if let offsetFile { try AtomicFile.write("0", to: offsetFile) }
    }

    /// Parses the complete lines of what is pending followed by `chunk`; returns the bytes they took.
    private func split(_ chunk: Data) -> Int {
        var buffer = pending
        buffer.append(contentsOf: chunk)
        // Lines are parsed straight from the buffer's bytes: a million lines must not cost a million
        // Data slices.
        let consumed = buffer.withUnsafeBufferPointer { bytes -> Int in
            var start = 0
            var index = 0
            while index < bytes.count {
                if bytes[index] == 0x0A {
                    handleLine(UnsafeBufferPointer(rebasing: bytes[start..<index]))
                    start = index + 1
                }
                index += 1
            }
            return start
        }
        pending = Array(buffer[consumed...])
        return consumed
    }

    private func handleLine(_ line: UnsafeBufferPointer<UInt8>) {
        lineNumber += 1
        guard line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { return }
        let members: [(key: String, value: JSONValue)]
        if let flat = JSONValue.parseFlatObject(bytes: line) {
            members = flat
        } else if let object = (try? JSONValue.parse(bytes: line))?.objectValue {
            members = object.keys.sorted().map { ($0, object[$0]!) }
        } else {
            return invalid("not a JSON object")
        }
        func member(_ name: String) -> JSONValue? { members.first { $0.key == name }?.value }
        let time = member("time")?.doubleValue
        if let event = member("loom"), case .string(let name) = event {
            guard acceptsLoomEvents else { return invalid("\"loom\" lines are Loom's own reports") }
            return handleEvent(name, member: member, time: time)
        }
        if let keyValue = member("key") {
            guard let key = keyValue.stringValue else { return invalid("\"key\" must be a metric name (a string)") }
            guard let value = member("value")?.doubleValue else { return invalid("\"key\" needs a numeric \"value\"") }
            return append(MetricPoint(key: key, step: member("step")?.intValue ?? 0, value: value, time: time ?? ProcessState.now))
        }
        if let progress = member("progress") {
            return push(.progress(StageProgress(json: progress), time: time))
        }
        if let name = member("artifact")?.stringValue {
            guard let path = member("path")?.stringValue else { return invalid("\"artifact\" needs a \"path\"") }
            return push(.artifactName(name: name, path: path))
        }
        // `{"step": 10, "loss": 2.31, …}`: every number but `step` (and `time`) is a metric at that step.
        let step = member("step")?.intValue ?? 0
        let now = time ?? ProcessState.now
        var logged = 0
        for (key, value) in members where key != "step" && key != "time" {
            guard let number = value.doubleValue else { continue }
            append(MetricPoint(key: key, step: step, value: number, time: now))
            logged += 1
        }
        if logged == 0 { invalid("no metric, progress or artifact in it") }
    }

    private func handleEvent(_ name: String, member: (String) -> JSONValue?, time: Double?) {
        switch name {
        case "started":
            guard let pid = member("pid")?.intValue else { return invalid("\"started\" needs a \"pid\"") }
            push(.started(pid: Int32(truncatingIfNeeded: pid), host: member("host")?.stringValue ?? "?", time: time))
        case "heartbeat":
            push(.heartbeat(time: time))
        case "artifacts":
            let files = (member("files")?.arrayValue ?? []).compactMap { file -> ArtifactRecord? in
                guard let path = file["path"]?.stringValue, let sha256 = file["sha256"]?.stringValue,
                      let bytes = file["bytes"]?.intValue else { return nil }
                return ArtifactRecord(name: file["name"]?.stringValue ?? path, path: path, sha256: sha256, bytes: Int64(bytes))
            }
            push(.artifacts(files))
        case "finished":
            guard let status = member("status")?.stringValue.flatMap(StageStatus.init(rawValue:)) else {
                return invalid("\"finished\" needs a stage status")
            }
            push(.finished(status, exitCode: member("exit_code")?.intValue.map { Int32(truncatingIfNeeded: $0) },
                                     error: member("error")?.stringValue))
        case "cached":
            push(.cached(sourceRun: member("source_run")?.intValue.map(Int64.init), sourceStage: member("source_stage")?.stringValue))
        default:
            invalid("unknown Loom report \"\(name)\"")
        }
    }

    private func append(_ point: MetricPoint) { points.append(point) }

    /// Consecutive metric lines become one `.metrics` report.
    private func push(_ report: StageReport) {
        flushPoints()
        reports.append(report)
    }

    private func flushPoints() {
        guard !points.isEmpty else { return }
        reports.append(.metrics(points))
        points.removeAll(keepingCapacity: true)
    }

    private func invalid(_ reason: String) {
        invalidLines += 1
        onInvalidLine(lineNumber, reason)
    }
}
