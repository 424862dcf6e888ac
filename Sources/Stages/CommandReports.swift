// CommandReports — reads what a `command` stage appends to $LOOM_METRICS while it runs, one JSON object
// per line:
//   {"key": "loss", "value": 2.31, "step": 10}            one metric (step defaults to 0)
//   {"step": 10, "loss": 2.31, "lr": 0.0003}              several metrics at one step
//   {"progress": {"step": 10, "total": 100, "loss": 2.31, "tokens_per_second": 5400, "message": "…"}}
//   {"artifact": "model", "path": "model.safetensors"}    a name for an output file
// Lines are read as they arrive (metrics and progress are live) and once more at the end; a line
// that is not one of these is reported in the stage log by line number and skipped.
//
// Durability: after each read the metrics are flushed to the store and the byte offset of the last
// recorded line is saved next to the file. A command that checkpoints after writing its metric line
// therefore never loses a point: if it is killed, the next attempt records the rest of the file first.
import Foundation
import LoomCore
import Pipeline

final class CommandReports {
    let file: URL
    private let offsetFile: URL
    private let context: StageContext
    private var handle: FileHandle
    /// The start of a line whose end has not been written yet.
    private var pending: [UInt8] = []
    /// Metric rows parsed but not yet handed to the logger (one batch per read).
    private var points: [MetricPoint] = []
    /// Whether the command reports progress itself; if not, its metric steps stand in for it.
    private var reportsProgress = false
    /// Bytes of the file whose lines are recorded in the store.
    private var recorded: UInt64 = 0
    private var lineNumber = 0
    private var invalidLines = 0
    private var lastRead = 0.0

    init(directory: URL, context: StageContext) throws {
        file = directory.appendingPathComponent(".loom-metrics.jsonl")
        offsetFile = directory.appendingPathComponent(".loom-metrics.offset")
        self.context = context
        if !FileManager.default.fileExists(atPath: file.path) {
            try Data().write(to: file)
        }
        handle = try FileHandle(forReadingFrom: file)
    }

    deinit { try? handle.close() }

    /// Records the lines an earlier, interrupted attempt wrote after its last recorded offset, then
    /// starts the file afresh for this attempt.
    func recordLeftovers() throws {
        let saved = (try? String(contentsOf: offsetFile, encoding: .utf8)).flatMap { UInt64($0) } ?? 0
        let size = (try? handle.seekToEnd()) ?? 0
        if size > saved {
            try handle.seek(toOffset: saved)
            recorded = saved
            context.log.info("recording \(size - saved) bytes of reports an earlier attempt left unrecorded")
            try readAll()
        }
        try handle.close()
        try Data().write(to: file)
        handle = try FileHandle(forReadingFrom: file)
        pending.removeAll()
        recorded = 0
        lineNumber = 0
        try saveOffset()
    }

    /// Reads new lines at most four times a second.
    func readIfDue() {
        let now = ProcessState.now
        guard now - lastRead >= 0.25 else { return }
        lastRead = now
        try? readAvailable()
    }

    /// Reads everything left, including a last line without a newline.
    func readAll() throws {
        try readAvailable()
        if !pending.isEmpty {
            pending.withUnsafeBufferPointer { handleLine($0) }
            recorded += UInt64(pending.count)
            pending.removeAll()
            try commit()
        }
        if invalidLines > 0 {
            context.log.warning("\(invalidLines) line(s) of $LOOM_METRICS were not understood and were skipped")
        }
    }

    private func readAvailable() throws {
        var handled = false
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            var buffer = pending
            buffer.append(contentsOf: chunk)
            // Lines are parsed straight from the buffer's bytes: a million lines must not cost a
            // million Data slices.
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
            if consumed > 0 { handled = true }
            recorded += UInt64(consumed)
            pending = Array(buffer[consumed...])
        }
        if handled { try commit() }
    }

    /// Metrics reach the store before the offset says they did.
    private func commit() throws {
        if !reportsProgress, let last = points.max(by: { $0.step < $1.step }), last.step > 0 {
            let loss = points.last { $0.step == last.step && $0.key.split(separator: "/").last?.contains("loss") == true }
            context.progress.report(step: last.step, loss: loss?.value)
        }
        context.metrics.log(points)
        points.removeAll(keepingCapacity: true)
        try context.metrics.flush()
        try saveOffset()
    }

    private func saveOffset() throws {
        try AtomicFile.write(String(recorded), to: offsetFile)
    }

    private func handleLine(_ line: UnsafeBufferPointer<UInt8>) {
        lineNumber += 1
        guard line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { return }
        if let members = JSONValue.parseFlatObject(bytes: line), !members.contains(where: { $0.key == "key" || $0.key == "artifact" }) {
            return handleMetrics(members)
        }
        guard let object = (try? JSONValue.parse(bytes: line))?.objectValue else {
            return invalid("not a JSON object")
        }
        let now = ProcessState.now
        if let keyValue = object["key"] {
            guard let key = keyValue.stringValue else { return invalid("\"key\" must be a metric name (a string)") }
            guard let value = object["value"]?.doubleValue else { return invalid("\"key\" needs a numeric \"value\"") }
            points.append(MetricPoint(key: key, step: object["step"]?.intValue ?? 0, value: value, time: now))
        } else if let progress = object["progress"] {
            reportsProgress = true
            context.progress.report(StageProgress(json: progress))
        } else if let name = object["artifact"]?.stringValue {
            guard let path = object["path"]?.stringValue else { return invalid("\"artifact\" needs a \"path\"") }
            context.registerArtifact(name: name, path: path)
        } else {
            handleMetrics(object.map { (key: $0.key, value: $0.value) })
        }
    }

    /// `{"step": 10, "loss": 2.31, …}`: every number but `step` is a metric at that step.
    private func handleMetrics(_ members: [(key: String, value: JSONValue)]) {
        let now = ProcessState.now
        let step = members.first { $0.key == "step" }?.value.intValue ?? 0
        var logged = 0
        for (key, value) in members where key != "step" {
            guard let number = value.doubleValue else { continue }
            points.append(MetricPoint(key: key, step: step, value: number, time: now))
            logged += 1
        }
        if logged == 0 { invalid("no metric, progress or artifact in it") }
    }

    private func invalid(_ reason: String) {
        invalidLines += 1
        if invalidLines <= 10 { context.log.warning("$LOOM_METRICS line \(lineNumber): \(reason)") }
    }
}
