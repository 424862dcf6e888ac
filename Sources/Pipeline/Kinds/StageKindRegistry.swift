// StageKindRegistry — the kinds one executable knows: every kind's descriptor (so any recipe can be
// validated and fingerprinted) and the implementations this executable can run.
//
// `loom` uses `StageCatalog.registry()` from Stages (all descriptors + torch-free implementations);
// `loom-torch` takes the same registry and registers the model kinds' implementations on top.
public struct StageKindRegistry: Sendable {
    private var descriptors: [String: StageKindDescriptor] = [:]
    private var implementations: [String: any StageKind] = [:]

    public init() {}

    /// Declares a kind this executable can plan but not necessarily run.
    public mutating func declare(_ descriptor: StageKindDescriptor) {
        if let existing = descriptors[descriptor.name] {
            precondition(existing.version == descriptor.version && existing.executable == descriptor.executable,
                         "stage kind '\(descriptor.name)' declared twice with different versions or executables")
        }
        descriptors[descriptor.name] = descriptor
    }

    /// Registers an implementation (declaring its descriptor if needed).
    public mutating func register(_ kind: any StageKind) {
        declare(kind.descriptor)
        implementations[kind.descriptor.name] = kind
    }

    public func descriptor(named name: String) -> StageKindDescriptor? { descriptors[name] }

    public func implementation(named name: String) -> (any StageKind)? { implementations[name] }

    public var kindNames: [String] { descriptors.keys.sorted() }

    public var allDescriptors: [StageKindDescriptor] { kindNames.compactMap { descriptors[$0] } }

    /// The declared goal for a metric key, if any kind declares one.
    public func declaredGoal(forMetric key: String) -> MetricGoal? {
        for descriptor in descriptors.values {
            if let goal = descriptor.metricGoals[key] { return goal }
        }
        return nil
    }
}
