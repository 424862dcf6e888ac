// StageKind — the contract every stage kind implements. A kind is split in two so that `loom` can
// validate and fingerprint any recipe without libtorch:
//   - `StageKindDescriptor` (torch-free, declared in the Stages module): name, version, parameter
//     schema, and which executable runs it;
//   - `StageKind` (the implementation): the descriptor plus `run(_:)`, linked only into the executable
//     named by the descriptor (`loom` for torch-free kinds, `loom-torch` for model kinds).

/// The executable whose `exec-stage` subcommand runs a kind.
public enum StageExecutable: String, Sendable, Hashable, CaseIterable {
    case loom
    case loomTorch = "loom-torch"
}

/// Which way is better for a metric, used by `loom compare` to mark the best run.
public enum MetricGoal: String, Sendable, Hashable {
    case minimize
    case maximize
    /// Neither (learning rate, step counts): never marked.
    case none
}

/// Everything about a kind that is known without running it.
public struct StageKindDescriptor: Sendable {
    public let name: String
    /// Enters every fingerprint of this kind: bump it when the kind's outputs would change.
    public let version: Int
    public let summary: String
    public let executable: StageExecutable
    public let schema: ParamSchema
    /// Goals for metrics this kind reports whose names do not say it (`eval/bytes_per_token`: maximize).
    public let metricGoals: [String: MetricGoal]
    /// The rules between keys that the schema cannot state (warmup_steps ≤ steps), run on the resolved
    /// parameters when the recipe is validated: a ParameterConstraintError becomes a recipe error at
    /// the key it names.
    public let checkParameters: (@Sendable (StageParameters) throws -> Void)?
    /// Top-level keys whose values name corpus tiers (a string or a list of strings): checked, when the
    /// recipe is validated, against the tiers its upstream corpus stage declares.
    public let tierKeys: [String]
    /// For a kind that declares tiers (`corpus`): their names, from its resolved parameters.
    public let declaredTiers: (@Sendable (StageParameters) -> [String])?

    public init(
        name: String, version: Int, summary: String, executable: StageExecutable, schema: ParamSchema,
        metricGoals: [String: MetricGoal] = [:], checkParameters: (@Sendable (StageParameters) throws -> Void)? = nil,
        tierKeys: [String] = [], declaredTiers: (@Sendable (StageParameters) -> [String])? = nil
    ) {
        self.name = name
        self.version = version
        self.summary = summary
        self.executable = executable
        self.schema = schema
        self.metricGoals = metricGoals
        self.checkParameters = checkParameters
        self.tierKeys = tierKeys
        self.declaredTiers = declaredTiers
    }
}

/// A rule between a kind's keys broken: `keyPath` (relative to the stage's parameters) and the problem.
public struct ParameterConstraintError: Error, CustomStringConvertible, Equatable {
    public let keyPath: String
    public let problem: String

    public init(_ keyPath: String, _ problem: String) {
        self.keyPath = keyPath
        self.problem = problem
    }

    public var description: String { "\(keyPath): \(problem)" }
}

/// A stage kind's implementation. `run` executes in the child process (`loom exec-stage` or
/// `loom-torch exec-stage`) with everything it may touch in `context`; it throws to fail the stage and
/// should call `context.checkCancellation()` between steps so Ctrl-C stops it promptly.
public protocol StageKind: Sendable {
    var descriptor: StageKindDescriptor { get }
    func run(_ context: StageContext) throws
}
