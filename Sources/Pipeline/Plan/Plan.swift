// Plan — what one run executes: a recipe variant's stages in dependency order, each with its resolved
// parameters, the digests of its input paths, its upstream fingerprints and its own fingerprint.
// A run stores its plan as JSON, so `loom resume` re-executes exactly what was planned even if the
// recipe file changed since.
import Foundation

public struct PlannedStage: Sendable, Equatable {
    public let name: String
    public let kind: String
    public let kindVersion: Int
    public let executable: StageExecutable
    public let after: [String]
    /// What the stage receives ($LOOM_PARAMS): defaults applied, input paths absolute.
    public let params: JSONValue
    /// What the fingerprint hashes: input paths as written.
    public let portableParams: JSONValue
    /// Content digest per input path parameter (`deps[0]` → sha256).
    public let pathDigests: [String: String]
    /// Fingerprint of each upstream stage, by stage name.
    public let inputFingerprints: [String: String]
    public let fingerprint: String

    public init(
        name: String, kind: String, kindVersion: Int, executable: StageExecutable, after: [String], params: JSONValue,
        portableParams: JSONValue, pathDigests: [String: String], inputFingerprints: [String: String], fingerprint: String
    ) {
        self.name = name
        self.kind = kind
        self.kindVersion = kindVersion
        self.executable = executable
        self.after = after
        self.params = params
        self.portableParams = portableParams
        self.pathDigests = pathDigests
        self.inputFingerprints = inputFingerprints
        self.fingerprint = fingerprint
    }
}

public struct Plan: Sendable, Equatable {
    public let recipeName: String
    public let recipeFile: String
    public let projectDirectory: String
    /// "" when the recipe has no variants.
    public let variant: String
    public let stages: [PlannedStage]
    /// The recipe's `executor:` section (retries, Slurm resources); outside every fingerprint.
    public let executor: ExecutorSettings

    public init(recipeName: String, recipeFile: String, projectDirectory: String, variant: String, stages: [PlannedStage],
                executor: ExecutorSettings = ExecutorSettings()) {
        self.recipeName = recipeName
        self.recipeFile = recipeFile
        self.projectDirectory = projectDirectory
        self.variant = variant
        self.stages = stages
        self.executor = executor
    }

    public func stage(named name: String) -> PlannedStage? { stages.first { $0.name == name } }

    /// `demo/core`, or `demo` without variants: how runs are named to people.
    public var label: String { variant.isEmpty ? recipeName : "\(recipeName)/\(variant)" }

    /// Every stage downstream of `names` (the names included).
    public func downstream(of names: Set<String>) -> Set<String> {
        var result = names
        for stage in stages where stage.after.contains(where: result.contains) {
            result.insert(stage.name)
        }
        return result
    }
}

// MARK: JSON form (stored in the run store)

extension Plan {
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "recipe": .string(recipeName),
            "file": .string(recipeFile),
            "project": .string(projectDirectory),
            "variant": .string(variant),
            "stages": .array(stages.map { stage in
                .object([
                    "name": .string(stage.name),
                    "kind": .string(stage.kind),
                    "version": .int(stage.kindVersion),
                    "executable": .string(stage.executable.rawValue),
                    "after": .array(stage.after.map { .string($0) }),
                    "params": stage.params,
                    "portable": stage.portableParams,
                    "paths": .object(stage.pathDigests.mapValues { .string($0) }),
                    "inputs": .object(stage.inputFingerprints.mapValues { .string($0) }),
                    "fingerprint": .string(stage.fingerprint),
                ])
            }),
        ]
        if !executor.isEmpty { object["executor"] = executor.json }
        return .object(object)
    }

    public init(json: JSONValue) throws {
        func string(_ value: JSONValue?, _ key: String) throws -> String {
            guard let text = value?.stringValue else { throw PlanDecodingError(key: key) }
            return text
        }
        func strings(_ value: JSONValue?) -> [String: String] {
            (value?.objectValue ?? [:]).compactMapValues(\.stringValue)
        }
        guard let stageValues = json["stages"]?.arrayValue else { throw PlanDecodingError(key: "stages") }
        let stages = try stageValues.map { value in
            guard let executable = StageExecutable(rawValue: try string(value["executable"], "executable")),
                  let version = value["version"]?.intValue else {
                throw PlanDecodingError(key: "stages.executable")
            }
            return PlannedStage(
                name: try string(value["name"], "name"), kind: try string(value["kind"], "kind"), kindVersion: version,
                executable: executable, after: (value["after"]?.arrayValue ?? []).compactMap(\.stringValue),
                params: value["params"] ?? .object([:]), portableParams: value["portable"] ?? .object([:]),
                pathDigests: strings(value["paths"]), inputFingerprints: strings(value["inputs"]),
                fingerprint: try string(value["fingerprint"], "fingerprint"))
        }
        self.init(recipeName: try string(json["recipe"], "recipe"), recipeFile: try string(json["file"], "file"),
                  projectDirectory: try string(json["project"], "project"), variant: try string(json["variant"], "variant"),
                  stages: stages, executor: json["executor"].map(ExecutorSettings.init(json:)) ?? ExecutorSettings())
    }
}

public struct PlanDecodingError: Error, CustomStringConvertible {
    public let key: String
    public var description: String { "stored plan is damaged: missing or invalid '\(key)'" }
}
