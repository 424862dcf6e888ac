// ExecutorSettings — a recipe's `executor:` section as values: retries, the cap on Slurm jobs queued at
// once, how often Slurm is asked about them, and the Slurm resources of each stage's jobs, given by
// default, per stage kind and per stage. They travel with the plan (a resumed run submits what was
// planned) but never enter a fingerprint: where a stage runs does not change what it computes.
//
// A stage's resources, most specific last: Loom's defaults (one CPU; one GPU for the model kinds, those
// that run in loom-torch), then `default:`, `kinds.<kind>:`, `stages.<stage>:`, then the command line
// (`--gpus N`). `sbatch_args` add up in that order; every other key replaces.
import Foundation

/// What one stage's Slurm job asks for.
public struct SlurmResources: Sendable, Equatable {
    public var partition: String?
    public var account: String?
    public var qos: String?
    public var gpus: Int?
    public var cpus: Int?
    /// As `sbatch --mem` takes it: megabytes, or a number with K, M, G or T.
    public var memory: String?
    /// As `sbatch --time` takes it: `minutes`, `minutes:seconds`, `hours:minutes:seconds`, `days-hours`,
    /// `days-hours:minutes`, `days-hours:minutes:seconds`.
    public var time: String?
    /// More `sbatch` arguments, passed as they are.
    public var sbatchArguments: [String]

    public init(partition: String? = nil, account: String? = nil, qos: String? = nil, gpus: Int? = nil, cpus: Int? = nil,
                memory: String? = nil, time: String? = nil, sbatchArguments: [String] = []) {
        self.partition = partition
        self.account = account
        self.qos = qos
        self.gpus = gpus
        self.cpus = cpus
        self.memory = memory
        self.time = time
        self.sbatchArguments = sbatchArguments
    }

    /// `more` laid over these: its keys replace, its sbatch arguments follow.
    public func overlaid(with more: SlurmResources) -> SlurmResources {
        SlurmResources(
            partition: more.partition ?? partition, account: more.account ?? account, qos: more.qos ?? qos,
            gpus: more.gpus ?? gpus, cpus: more.cpus ?? cpus, memory: more.memory ?? memory, time: more.time ?? time,
            sbatchArguments: sbatchArguments + more.sbatchArguments)
    }

    /// The `sbatch` options that ask for these resources.
    public var sbatchOptions: [String] { sbatchOptions(tasks: 1) }

    /// The `sbatch` options for a job of `tasks` data-parallel ranks: `--ntasks`, and `cpus` and `gpus`
    /// per rank (`--gpus-per-task`), each rank taking its own GPU.
    public func sbatchOptions(tasks: Int) -> [String] {
        guard tasks > 1 else { return singleTaskOptions }
        return ["--ntasks=\(tasks)"] + singleTaskOptions.map { option in
            option.hasPrefix("--gres=gpu:") ? "--gpus-per-task=\(option.dropFirst("--gres=gpu:".count))" : option
        }
    }

    private var singleTaskOptions: [String] {
        var options: [String] = []
        if let partition { options.append("--partition=\(partition)") }
        if let account { options.append("--account=\(account)") }
        if let qos { options.append("--qos=\(qos)") }
        if let cpus { options.append("--cpus-per-task=\(cpus)") }
        if let gpus, gpus > 0 { options.append("--gres=gpu:\(gpus)") }
        if let memory { options.append("--mem=\(memory)") }
        if let time { options.append("--time=\(time)") }
        return options + sbatchArguments
    }

    var json: JSONValue {
        var object: [String: JSONValue] = [:]
        if let partition { object["partition"] = .string(partition) }
        if let account { object["account"] = .string(account) }
        if let qos { object["qos"] = .string(qos) }
        if let gpus { object["gpus"] = .int(gpus) }
        if let cpus { object["cpus"] = .int(cpus) }
        if let memory { object["memory"] = .string(memory) }
        if let time { object["time"] = .string(time) }
        if !sbatchArguments.isEmpty { object["sbatch_args"] = .array(sbatchArguments.map(JSONValue.string)) }
        return .object(object)
    }

    init(json: JSONValue) {
        self.init(partition: json["partition"]?.stringValue, account: json["account"]?.stringValue, qos: json["qos"]?.stringValue,
                  gpus: json["gpus"]?.intValue, cpus: json["cpus"]?.intValue, memory: json["memory"]?.stringValue,
                  time: json["time"]?.stringValue, sbatchArguments: (json["sbatch_args"]?.arrayValue ?? []).compactMap(\.stringValue))
    }
}

/// A recipe's `executor:` section.
public struct ExecutorSettings: Sendable, Equatable {
    /// How many times a failed stage is started again within one `loom run` or `loom resume`.
    public var retries: Int
    /// Slurm: at most this many jobs queued or running at once (`-j` overrides it).
    public var maxJobs: Int?
    /// Slurm: seconds between two questions to the scheduler about the jobs in flight.
    public var pollSeconds: Double?
    public var defaults: SlurmResources
    public var kinds: [String: SlurmResources]
    public var stages: [String: SlurmResources]

    public init(retries: Int = 0, maxJobs: Int? = nil, pollSeconds: Double? = nil, defaults: SlurmResources = SlurmResources(),
                kinds: [String: SlurmResources] = [:], stages: [String: SlurmResources] = [:]) {
        self.retries = retries
        self.maxJobs = maxJobs
        self.pollSeconds = pollSeconds
        self.defaults = defaults
        self.kinds = kinds
        self.stages = stages
    }

    /// What `stage`'s job asks for; `commandLine` (e.g. `--gpus 0`) has the last word.
    public func resources(for stage: PlannedStage, commandLine: SlurmResources = SlurmResources()) -> SlurmResources {
        var resources = SlurmResources(gpus: stage.executable == .loomTorch ? 1 : 0, cpus: 1)
        resources = resources.overlaid(with: defaults)
        if let kind = kinds[stage.kind] { resources = resources.overlaid(with: kind) }
        if let own = stages[stage.name] { resources = resources.overlaid(with: own) }
        return resources.overlaid(with: commandLine)
    }

    /// True when the recipe has no `executor:` section (or an empty one).
    public var isEmpty: Bool { self == ExecutorSettings() }

    var json: JSONValue {
        var object: [String: JSONValue] = ["retries": .int(retries), "default": defaults.json]
        if let maxJobs { object["max_jobs"] = .int(maxJobs) }
        if let pollSeconds { object["poll_seconds"] = .double(pollSeconds) }
        if !kinds.isEmpty { object["kinds"] = .object(kinds.mapValues(\.json)) }
        if !stages.isEmpty { object["stages"] = .object(stages.mapValues(\.json)) }
        return .object(object)
    }

    init(json: JSONValue) {
        self.init(retries: json["retries"]?.intValue ?? 0, maxJobs: json["max_jobs"]?.intValue,
                  pollSeconds: json["poll_seconds"]?.doubleValue, defaults: json["default"].map(SlurmResources.init(json:)) ?? SlurmResources(),
                  kinds: (json["kinds"]?.objectValue ?? [:]).mapValues(SlurmResources.init(json:)),
                  stages: (json["stages"]?.objectValue ?? [:]).mapValues(SlurmResources.init(json:)))
    }
}
