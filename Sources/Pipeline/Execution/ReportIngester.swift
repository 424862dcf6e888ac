// ReportIngester — the runner's half of the report-file route: reads what a batch job's stage process
// appended to its report file (StageReports) and records it in the run store, which under this route
// only the runner writes. The offset of what is recorded is saved beside the file, so a runner that
// resumes the run (re-attaching to a job still running, or finding one that ended meanwhile) records
// the rest and nothing twice.
import Foundation

final class ReportIngester {
    private let store: RunStore
    private let run: Int64
    private let stage: String
    private let reader: ReportFileReader
    private var lastRead = 0.0

    /// How the stage said it ended, once it has.
    private(set) var finished: StageStatus?
    /// When the stage last gave a sign of life (runner's clock), nil before its first line.
    private(set) var lastSign: Double?

    init(store: RunStore, run: Int64, stage: String, directory: JobDirectory) {
        self.store = store
        self.run = run
        self.stage = stage
        reader = ReportFileReader(file: directory.report, offsetFile: directory.reportOffset, acceptsLoomEvents: true)
        reader.start(at: reader.savedOffset)
    }

    /// Reads new lines at most four times a second.
    func ingestIfDue() throws {
        let now = ProcessState.now
        guard now - lastRead >= 0.25 else { return }
        lastRead = now
        try ingest(final: false)
    }

    /// Records every complete line appended since the last read (with `final`, a last unterminated one too).
    func ingest(final: Bool) throws {
        try reader.read(final: final) { reports in
            lastSign = ProcessState.now
            var heartbeat: (time: Double?, progress: StageProgress?)?
            func writeHeartbeat() throws {
                guard let pending = heartbeat else { return }
                try store.heartbeat(run: run, stage: stage, progress: pending.progress, at: pending.time ?? ProcessState.now)
                heartbeat = nil
            }
            for report in reports {
                switch report {
                case .heartbeat(let time):
                    heartbeat = (time, heartbeat?.progress)
                case .progress(let progress, let time):
                    heartbeat = (time, progress)
                case .metrics(let points):
                    try store.appendMetrics(run: run, stage: stage, points)
                case .started(let pid, let host, let time):
                    try store.stageProcessStarted(run: run, stage: stage, pid: pid, host: host, at: time ?? ProcessState.now)
                case .artifacts(let artifacts):
                    try store.recordArtifacts(run: run, stage: stage, artifacts)
                case .finished(let status, let exitCode, let error):
                    try writeHeartbeat()
                    try store.finishStage(run: run, stage: stage, status: status, exitCode: exitCode, error: error)
                    finished = status
                case .cached(let sourceRun, let sourceStage):
                    try writeHeartbeat()
                    try store.markCached(run: run, stage: stage, sourceRun: sourceRun, sourceStage: sourceStage)
                    finished = .cached
                case .artifactName:
                    continue
                }
            }
            try writeHeartbeat()
        }
    }
}
