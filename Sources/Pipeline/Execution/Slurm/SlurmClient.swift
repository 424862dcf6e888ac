// SlurmClient — the Slurm commands the executor runs, and what it reads from them: `sbatch --parsable`
// to submit, `sacct` for job states, `squeue` and `scontrol show job` where accounting is disabled (or
// has not seen a job yet), `scancel` to stop. Like Snakemake's Slurm plugin, states are asked for all
// jobs in flight at once, and a cluster without accounting is noticed once and never asked again.
import Foundation

/// A job's state as Slurm names it (`PENDING`, `RUNNING`, `COMPLETED`, `TIMEOUT`…; `CANCELLED by 0`
/// is `CANCELLED`).
public struct SlurmJobState: Sendable, Equatable, CustomStringConvertible {
    public let name: String

    /// Reads a state as squeue, sacct or scontrol print it; nil for an empty text.
    public init?(_ text: String) {
        let word = text.split(separator: " ").first.map(String.init)?.trimmingCharacters(in: CharacterSet(charactersIn: "+")) ?? ""
        guard !word.isEmpty else { return nil }
        name = word.uppercased()
    }

    static let terminal: Set<String> = [
        "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL", "DEADLINE",
        "REVOKED", "SPECIAL_EXIT",
    ]
    static let queued: Set<String> = ["PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD"]

    /// Ended; every state Loom does not know counts as still going.
    public var isTerminal: Bool { Self.terminal.contains(name) }
    /// Waiting for resources: no stage process exists yet.
    public var isQueued: Bool { Self.queued.contains(name) }

    /// Why a job in this state ended without its stage finishing, in words (nil for COMPLETED and FAILED,
    /// where the stage's own record says more).
    public var endedByScheduler: String? {
        switch name {
        case "TIMEOUT": "time limit reached"
        case "NODE_FAIL": "node failure"
        case "OUT_OF_MEMORY": "out of memory"
        case "CANCELLED": "cancelled by scancel"
        case "PREEMPTED": "preempted"
        case "BOOT_FAIL": "node boot failure"
        case "DEADLINE": "deadline reached"
        case "REVOKED": "revoked"
        default: nil
        }
    }

    public var description: String { name }
}

/// What Slurm says about one job.
public struct SlurmJobStatus: Sendable, Equatable {
    public let state: SlurmJobState
    /// Slurm's reason (`TimeLimit`, `Resources`, `NodeDown`…), when it gives one.
    public let reason: String?
    /// `exit:signal` as Slurm prints it, once the job ended.
    public let exitCode: String?

    public init(state: SlurmJobState, reason: String?, exitCode: String?) {
        self.state = state
        self.reason = reason
        self.exitCode = exitCode
    }

    /// `TIMEOUT: time limit reached (reason TimeLimit, exit code 0:15)`.
    public var summary: String {
        var text = state.name
        if let words = state.endedByScheduler { text += ": \(words)" }
        var details: [String] = []
        if let reason, reason != "None" { details.append("reason \(reason)") }
        if let exitCode, exitCode != "0:0" { details.append("exit code \(exitCode)") }
        return details.isEmpty ? text : "\(text) (\(details.joined(separator: ", ")))"
    }
}

/// A Slurm command failed, with what it said.
public struct SlurmError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Runs the Slurm commands for one executor (it remembers whether accounting answers).
public final class SlurmClient {
    private let environment: [String: String]
    /// Nil until `sacct` was tried; false once it said accounting is disabled.
    private(set) var accountingAvailable: Bool?

    /// The commands run with `environment` (`SLURM_CONF` and `PATH` among it).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// Whether a Slurm controller answers here (`sinfo`), and if not, why.
    public func clusterProblem() -> String? {
        // The commands retry a missing configuration file for a minute before they give up.
        if let conf = environment["SLURM_CONF"], !conf.isEmpty, !FileManager.default.fileExists(atPath: conf) {
            return "SLURM_CONF is \(conf), which does not exist"
        }
        do {
            let result = try ChildProcess.capture("sinfo", ["--noheader", "--format=%P"], environment: environment)
            guard result.exit.succeeded else {
                if environment["SLURM_CONF"] == nil, !FileManager.default.fileExists(atPath: "/etc/slurm/slurm.conf") {
                    return "SLURM_CONF is not set and there is no /etc/slurm/slurm.conf"
                }
                return "sinfo \(result.exit): \(Self.firstLine(result.stderr))"
            }
            return nil
        } catch {
            return "\(error) (install the Slurm client commands, or run on a cluster's login node)"
        }
    }

    /// `sbatch --parsable OPTIONS SCRIPT`; returns the job id.
    public func submit(script: URL, options: [String]) throws -> String {
        let result = try ChildProcess.capture("sbatch", ["--parsable"] + options + [script.path], environment: environment)
        guard result.exit.succeeded else {
            throw SlurmError("sbatch \(result.exit): \(Self.firstLine(result.stderr.isEmpty ? result.stdout : result.stderr))")
        }
        // `--parsable` prints `jobid` or `jobid;cluster`, after any warnings on stderr.
        let line = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let id = String(line.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespaces)
        guard !id.isEmpty, id.allSatisfy(\.isNumber) else { throw SlurmError("sbatch printed no job id: \(result.stdout)") }
        return id
    }

    /// `scancel [--signal=SIGNAL] ID`; failures (a job that already ended) are not errors.
    public func cancel(_ id: String, signal: String? = nil) {
        _ = try? ChildProcess.capture("scancel", (signal.map { ["--signal=\($0)", "--full"] } ?? []) + [id], environment: environment)
    }

    /// The states of `ids`; a job Slurm no longer knows (or never knew) is absent.
    public func states(of ids: [String]) -> [String: SlurmJobStatus] {
        guard !ids.isEmpty else { return [:] }
        var found: [String: SlurmJobStatus] = [:]
        if accountingAvailable != false {
            found = fromAccounting(ids)
        }
        let rest = ids.filter { found[$0] == nil }
        guard !rest.isEmpty else { return found }
        let queued = fromQueue(rest)
        for id in rest {
            if let status = queued[id], !status.state.isTerminal {
                found[id] = status
            } else if let status = fromControl(id) ?? queued[id] {
                // The queue says neither how a job ended nor its exit code: scontrol does.
                found[id] = status
            }
        }
        return found
    }

    /// `sacct` (job allocations only, not their steps).
    private func fromAccounting(_ ids: [String]) -> [String: SlurmJobStatus] {
        guard let result = try? ChildProcess.capture(
            "sacct", ["--noheader", "--parsable2", "--allocations", "--jobs=\(ids.joined(separator: ","))", "--format=JobIDRaw,State,ExitCode,Reason"],
            environment: environment)
        else {
            accountingAvailable = false
            return [:]
        }
        guard result.exit.succeeded, !result.stderr.localizedCaseInsensitiveContains("disabled") else {
            accountingAvailable = false
            return [:]
        }
        accountingAvailable = true
        var found: [String: SlurmJobStatus] = [:]
        for line in result.stdout.split(separator: "\n") {
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 3, ids.contains(fields[0]), let state = SlurmJobState(fields[1]) else { continue }
            found[fields[0]] = SlurmJobStatus(state: state, reason: fields.count > 3 ? fields[3] : nil, exitCode: fields[2])
        }
        return found
    }

    /// `squeue --states=all` (ended jobs stay listed for MinJobAge, 5 minutes by default).
    private func fromQueue(_ ids: [String]) -> [String: SlurmJobStatus] {
        guard let result = try? ChildProcess.capture(
            "squeue", ["--noheader", "--states=all", "--jobs=\(ids.joined(separator: ","))", "--format=%i|%T|%r"], environment: environment),
            result.exit.succeeded
        else { return [:] }
        var found: [String: SlurmJobStatus] = [:]
        for line in result.stdout.split(separator: "\n") {
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count >= 2, ids.contains(fields[0]), let state = SlurmJobState(fields[1]) else { continue }
            found[fields[0]] = SlurmJobStatus(state: state, reason: fields.count > 2 ? fields[2] : nil, exitCode: nil)
        }
        return found
    }

    /// `scontrol show job -o ID`: one line of `Key=Value` pairs.
    private func fromControl(_ id: String) -> SlurmJobStatus? {
        guard let result = try? ChildProcess.capture("scontrol", ["show", "job", "-o", id], environment: environment),
              result.exit.succeeded else { return nil }
        var fields: [String: String] = [:]
        for pair in result.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            guard let equals = pair.firstIndex(of: "=") else { continue }
            let key = String(pair[..<equals])
            if fields[key] == nil { fields[key] = String(pair[pair.index(after: equals)...]) }
        }
        guard fields["JobId"] == id, let state = fields["JobState"].flatMap(SlurmJobState.init) else { return nil }
        return SlurmJobStatus(state: state, reason: fields["Reason"], exitCode: fields["ExitCode"])
    }

    static func firstLine(_ text: String) -> String {
        text.split(separator: "\n").first.map { String($0).trimmingCharacters(in: .whitespaces) } ?? text
    }
}
