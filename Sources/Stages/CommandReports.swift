// CommandReports — reads what a `command` stage appends to $LOOM_METRICS while it runs (the JSON-lines
// report format of Pipeline's StageReports: metrics, progress, artifact names) and hands it to the
// stage's metrics, progress and artifacts. Lines are read as they arrive (metrics and progress are
// live) and once more at the end; a line that is not understood is reported in the stage log by line
// number and skipped.
//
// Durability: after each read the metrics are flushed and the byte offset of the last recorded line
// is saved next to the file. A command that checkpoints after writing its metric line therefore never
// loses a point: if it is killed, the next attempt records the rest of the file first.
import Foundation
import LoomCore
import Pipeline

final class CommandReports {
    let file: URL
    private let context: StageContext
    private let reader: ReportFileReader
    /// Whether the command reports progress itself; if not, its metric steps stand in for it.
    private var reportsProgress = false
    private var lastRead = 0.0

    init(directory: URL, context: StageContext) throws {
        file = directory.appendingPathComponent(".loom-metrics.jsonl")
        self.context = context
        reader = ReportFileReader(file: file, offsetFile: directory.appendingPathComponent(".loom-metrics.offset"), acceptsLoomEvents: false)
        reader.onInvalidLine = { [unowned self] line, reason in
            if reader.invalidLines <= 10 { self.context.log.warning("$LOOM_METRICS line \(line): \(reason)") }
        }
        if !FileManager.default.fileExists(atPath: file.path) {
            try Data().write(to: file)
        }
    }

    /// Records the lines an earlier, interrupted attempt wrote after its last recorded offset, then
    /// starts the file afresh for this attempt.
    func recordLeftovers() throws {
        let saved = reader.savedOffset
        let size = ((try? FileManager.default.attributesOfItem(atPath: file.path))?[.size] as? NSNumber)?.uint64Value ?? 0
        if size > saved {
            reader.start(at: saved)
            context.log.info("recording \(size - saved) bytes of reports an earlier attempt left unrecorded")
            try readAll()
        }
        try reader.truncate()
    }

    /// Reads new lines at most four times a second.
    func readIfDue() {
        let now = ProcessState.now
        guard now - lastRead >= 0.25 else { return }
        lastRead = now
        _ = try? reader.read(record)
    }

    /// Reads everything left, including a last line without a newline.
    func readAll() throws {
        try reader.read(final: true, record)
        if reader.invalidLines > 0 {
            context.log.warning("\(reader.invalidLines) line(s) of $LOOM_METRICS were not understood and were skipped")
        }
    }

    /// Metrics reach the store before the offset says they did.
    private func record(_ reports: [StageReport]) throws {
        var points: [MetricPoint] = []
        for report in reports {
            switch report {
            case .metrics(let batch):
                points += batch
            case .progress(let progress, _):
                reportsProgress = true
                context.progress.report(progress)
            case .artifactName(let name, let path):
                context.registerArtifact(name: name, path: path)
            case .started, .heartbeat, .artifacts, .finished, .cached:
                continue
            }
        }
        if !reportsProgress, let last = points.max(by: { $0.step < $1.step }), last.step > 0 {
            let loss = points.last { $0.step == last.step && $0.key.split(separator: "/").last?.contains("loss") == true }
            context.progress.report(step: last.step, loss: loss?.value)
        }
        context.metrics.log(points)
        try context.metrics.flush()
    }
}
