// RunFormatting — how runs and stages look in `status`, `runs` and `show`, as text and as JSON.
import Foundation
import Pipeline
import Report

enum RunFormatting {
    /// `running`, or `running (stale: runner gone — loom resume 4)` when its runner died.
    static func status(_ run: RunRecord) -> String {
        run.runnerIsGone ? "interrupted (runner gone; loom resume \(run.id))" : run.status.rawValue
    }

    static func stageCounts(_ stages: [StageRecord]) -> String {
        var counts: [StageStatus: Int] = [:]
        for stage in stages { counts[stage.status, default: 0] += 1 }
        return StageStatus.allCases.compactMap { status in counts[status].map { "\($0) \(status.rawValue)" } }.joined(separator: ", ")
    }

    /// One row per stage; a `slurm job` column (id and state) when some attempt ran as a Slurm job.
    static func stageTable(_ stages: [StageRecord]) -> String {
        let jobs = stages.contains { $0.jobID != nil }
        var table = TextTable(header: ["stage", "kind", "status", "attempt", "time", "fingerprint"] + (jobs ? ["slurm job"] : []) + ["detail"])
        for stage in stages {
            var detail = ""
            if let stale = stage.staleReason() {
                detail = "stale: \(stale)"
            } else if stage.status == .running, let progress = stage.progress {
                detail = progress.summary
            } else if let error = stage.error, stage.status == .failed || stage.status == .cancelled {
                detail = error
            } else if stage.status == .cached, let source = stage.sourceRunID {
                detail = "output of run \(source)"
            }
            let job = stage.jobID.map { "\($0) \(stage.jobState ?? "")".trimmingCharacters(in: .whitespaces) } ?? "-"
            table.add([stage.name, stage.kind, stage.status.rawValue, stage.attempt > 0 ? String(stage.attempt) : "-",
                       Output.duration(stage.startedAt, stage.finishedAt), String(stage.fingerprint.prefix(12))] + (jobs ? [job] : []) + [detail])
        }
        return table.render(indent: "  ")
    }

    static func json(_ run: RunRecord, stages: [StageRecord]? = nil) -> JSONValue {
        var object: [String: JSONValue] = [
            "id": .int(Int(run.id)),
            "recipe": .string(run.recipe),
            "recipe_file": .string(run.recipeFile),
            "variant": .string(run.variant),
            "status": .string(run.status.rawValue),
            "interrupted": .bool(run.runnerIsGone),
            "executor": .string(run.executor),
            "created": .double(run.createdAt),
        ]
        if let started = run.startedAt { object["started"] = .double(started) }
        if let finished = run.finishedAt { object["finished"] = .double(finished) }
        if let commit = run.gitCommit { object["git_commit"] = .string(commit) }
        if let stages { object["stages"] = .array(stages.map(json)) }
        return .object(object)
    }

    static func json(_ stage: StageRecord) -> JSONValue {
        var object: [String: JSONValue] = [
            "name": .string(stage.name),
            "kind": .string(stage.kind),
            "status": .string(stage.status.rawValue),
            "attempt": .int(stage.attempt),
            "fingerprint": .string(stage.fingerprint),
        ]
        if let started = stage.startedAt { object["started"] = .double(started) }
        if let finished = stage.finishedAt { object["finished"] = .double(finished) }
        if let pid = stage.pid { object["pid"] = .int(Int(pid)) }
        if let exitCode = stage.exitCode { object["exit_code"] = .int(Int(exitCode)) }
        if let error = stage.error { object["error"] = .string(error) }
        if let source = stage.sourceRunID { object["source_run"] = .int(Int(source)) }
        if let progress = stage.progress { object["progress"] = progress.json }
        if let stale = stage.staleReason() { object["stale"] = .string(stale) }
        if let jobID = stage.jobID { object["slurm_job"] = .string(jobID) }
        if let jobState = stage.jobState { object["slurm_state"] = .string(jobState) }
        return .object(object)
    }
}
