// ExecutorSection — reads and checks a recipe's `executor:` section into ExecutorSettings; every problem
// is a RecipeError at its file:line:column with its key path, like the rest of the recipe's checks.
//
//   executor:
//     retries: 1                  # start a failed stage again, up to this many times per run or resume
//     max_jobs: 20                # Slurm: jobs queued or running at once (default 100; -j overrides)
//     poll_seconds: 10            # Slurm: seconds between squeue/sacct calls (default 5)
//     default: {partition: cpu, time: "2:00:00", memory: 8G}
//     kinds:                      # by stage kind
//       train: {partition: gpu, gpus: 1, cpus: 8, time: "1-00:00:00"}
//     stages:                     # by stage name (most specific)
//       eval: {gpus: 0, sbatch_args: ["--constraint=bigmem"]}
import Foundation

struct ExecutorSection {
    static let keys = ["retries", "max_jobs", "poll_seconds", "default", "kinds", "stages"]
    static let resourceKeys = ["partition", "account", "qos", "gpus", "cpus", "memory", "time", "sbatch_args"]

    let kindNames: [String]
    let stageNames: [String]
    private(set) var errors: [RecipeError] = []

    init(kindNames: [String], stageNames: [String]) {
        self.kindNames = kindNames
        self.stageNames = stageNames
    }

    mutating func read(_ node: SourceNode?) -> ExecutorSettings {
        var settings = ExecutorSettings()
        guard let node, !node.isNull else { return settings }
        guard let entries = node.entries else {
            report("expected a map (\(Self.keys.joined(separator: ", "))), got \(node.shortDescription)", node)
            return settings
        }
        checkKeys(entries, allowed: Self.keys, what: "executor key")
        if let value = node["retries"] { settings.retries = integer(value, atLeast: 0) ?? 0 }
        if let value = node["max_jobs"] { settings.maxJobs = integer(value, atLeast: 1) }
        if let value = node["poll_seconds"] {
            if let seconds = value.scalarText.flatMap(Double.init), value.isNumber, seconds >= 0.1, seconds.isFinite {
                settings.pollSeconds = seconds
            } else {
                report("expected a number of seconds, at least 0.1, got \(value.shortDescription)", value)
            }
        }
        if let value = node["default"] { settings.defaults = resources(value) }
        settings.kinds = named(node["kinds"], known: kindNames, what: "stage kind")
        settings.stages = named(node["stages"], known: stageNames, what: "stage")
        return settings
    }

    private mutating func named(_ node: SourceNode?, known: [String], what: String) -> [String: SlurmResources] {
        guard let node, !node.isNull else { return [:] }
        guard let entries = node.entries else {
            report("expected a map of \(what) names to resources, got \(node.shortDescription)", node)
            return [:]
        }
        var result: [String: SlurmResources] = [:]
        for entry in entries {
            guard known.contains(entry.key) else {
                errors.append(RecipeError(
                    "unknown \(what) '\(entry.key)'\(NearestName.hint(for: entry.key, among: known)) (\(what)s: \(known.joined(separator: ", ")))",
                    at: entry.keyLocation, keyPath: entry.value.keyPath))
                continue
            }
            result[entry.key] = resources(entry.value)
        }
        return result
    }

    private mutating func resources(_ node: SourceNode) -> SlurmResources {
        var resources = SlurmResources()
        guard let entries = node.entries else {
            report("expected a map of Slurm resources (\(Self.resourceKeys.joined(separator: ", "))), got \(node.shortDescription)", node)
            return resources
        }
        checkKeys(entries, allowed: Self.resourceKeys, what: "resource")
        resources.partition = node["partition"].flatMap { word($0) }
        resources.account = node["account"].flatMap { word($0) }
        resources.qos = node["qos"].flatMap { word($0) }
        resources.gpus = node["gpus"].flatMap { integer($0, atLeast: 0) }
        resources.cpus = node["cpus"].flatMap { integer($0, atLeast: 1) }
        if let value = node["memory"] {
            if let text = value.scalarText, text.range(of: #"^[0-9]+[KMGTkmgt]?$"#, options: .regularExpression) != nil, text != "0" {
                resources.memory = text.uppercased()
            } else {
                report("expected an amount of memory such as 16G, 500M or 4096 (megabytes), got \(value.shortDescription)", value)
            }
        }
        if let value = node["time"] {
            if let text = value.scalarText, Self.isSlurmTime(text) {
                resources.time = text
            } else {
                report("expected a Slurm time limit (minutes, \"H:MM:SS\", \"D-HH:MM:SS\"), got \(value.shortDescription)", value)
            }
        }
        if let value = node["sbatch_args"] {
            let items = value.items ?? []
            if value.items == nil || items.contains(where: { $0.scalarText == nil || $0.entries != nil }) {
                report("expected a list of sbatch arguments (strings such as \"--constraint=a100\"), got \(value.shortDescription)", value)
            } else {
                resources.sbatchArguments = items.compactMap(\.scalarText)
            }
        }
        return resources
    }

    /// `30`, `30:00`, `2:00:00`, `1-0`, `1-12:00`, `1-12:00:00`, `UNLIMITED`.
    static func isSlurmTime(_ text: String) -> Bool {
        if ["UNLIMITED", "INFINITE"].contains(text.uppercased()) { return true }
        let patterns = [#"^[0-9]+$"#, #"^[0-9]+:[0-9]{1,2}$"#, #"^[0-9]+:[0-9]{1,2}:[0-9]{1,2}$"#,
                        #"^[0-9]+-[0-9]{1,2}$"#, #"^[0-9]+-[0-9]{1,2}:[0-9]{1,2}$"#, #"^[0-9]+-[0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}$"#]
        return text != "0" && patterns.contains { text.range(of: $0, options: .regularExpression) != nil }
    }

    private mutating func word(_ node: SourceNode) -> String? {
        guard let text = node.scalarText, node.entries == nil, !text.isEmpty, !text.contains(where: \.isWhitespace) else {
            report("expected a name, got \(node.shortDescription)", node)
            return nil
        }
        return text
    }

    private mutating func integer(_ node: SourceNode, atLeast minimum: Int) -> Int? {
        guard case .scalar(let text, .int) = node.value, let value = Int(text), value >= minimum else {
            report("expected a whole number, at least \(minimum), got \(node.shortDescription)", node)
            return nil
        }
        return value
    }

    private mutating func checkKeys(_ entries: [SourceEntry], allowed: [String], what: String) {
        errors += RecipeLoader.unknownKeys(entries, allowed: allowed, what: what)
    }

    private mutating func report(_ message: String, _ node: SourceNode) {
        errors.append(RecipeError(message, at: node.location, keyPath: node.keyPath))
    }
}

extension SourceNode {
    var isNumber: Bool {
        if case .scalar(_, let kind) = value { return kind == .int || kind == .float }
        return false
    }
}
