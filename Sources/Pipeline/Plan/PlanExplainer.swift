// PlanExplainer — for `loom run --dry-run`: per stage, whether it would be reused from the cache or
// executed, and why (never run, which parameters or input files changed since the last run of the
// same recipe and variant, which upstream stage changes, forced, shared with another variant).
import Foundation

public struct StageForecast: Sendable, Equatable {
    public enum Action: String, Sendable {
        case cached
        case run
        /// Same fingerprint as a stage listed earlier in this invocation: executed once, then reused.
        case shared
    }

    public let stage: String
    public let kind: String
    public let after: [String]
    public let fingerprint: String
    public let action: Action
    public let reason: String
}

public struct PlanExplainer {
    public let store: RunStore

    public init(store: RunStore) {
        self.store = store
    }

    public func forecast(_ plans: [Plan], forcedStages: Set<String>) throws -> [[StageForecast]] {
        var scheduled: [String: String] = [:]
        return try plans.map { plan in
            let previous = try store.previousPlan(recipe: plan.recipeName, variant: plan.variant)
            let forced = plan.downstream(of: forcedStages.intersection(plan.stages.map(\.name)))
            var willRun = Set<String>()
            return plan.stages.map { stage in
                let fingerprint = stage.fingerprint
                func entry(_ action: StageForecast.Action, _ reason: String) -> StageForecast {
                    if action != .cached { willRun.insert(stage.name) }
                    if action == .run { scheduled[fingerprint] = "\(plan.label) · \(stage.name)" }
                    return StageForecast(stage: stage.name, kind: stage.kind, after: stage.after, fingerprint: fingerprint,
                                         action: action, reason: reason)
                }
                if let owner = scheduled[fingerprint] { return entry(.shared, "same fingerprint as \(owner): runs once") }
                if forced.contains(stage.name) {
                    return entry(.run, forcedStages.contains(stage.name) ? "forced (--force \(stage.name))" : "downstream of a forced stage")
                }
                if store.layout.isCached(fingerprint) {
                    let manifest = CacheManifest.read(store.layout, fingerprint: fingerprint)
                    return entry(.cached, manifest.map { "output of run \($0.producerRun) (\($0.producerStage))" } ?? "in the cache")
                }
                return entry(.run, why(stage, previous: previous, willRun: willRun))
            }
        }
    }

    private func why(_ stage: PlannedStage, previous: (Int64, Plan)?, willRun: Set<String>) -> String {
        guard let (previousRun, previousPlan) = previous, let before = previousPlan.stage(named: stage.name) else {
            return "never run"
        }
        if before.fingerprint == stage.fingerprint {
            return "not in the cache (run \(previousRun) did not complete it, or it was removed)"
        }
        if before.kind != stage.kind || before.kindVersion != stage.kindVersion {
            return "stage kind changed: \(before.kind) v\(before.kindVersion) → \(stage.kind) v\(stage.kindVersion)"
        }
        var reasons: [String] = []
        let old = Self.flatten(before.portableParams), new = Self.flatten(stage.portableParams)
        let changedKeys = Set(old.keys).union(new.keys).filter { old[$0] != new[$0] }.sorted()
        if !changedKeys.isEmpty {
            let shown = changedKeys.prefix(3).map { "\($0) \(old[$0]?.displayText ?? "unset") → \(new[$0]?.displayText ?? "unset")" }
            reasons.append("params changed: " + shown.joined(separator: ", ") + (changedKeys.count > 3 ? ", …" : ""))
        }
        let changedPaths = Set(before.pathDigests.keys).union(stage.pathDigests.keys)
            .filter { before.pathDigests[$0] != stage.pathDigests[$0] && !changedKeys.contains($0) }.sorted()
        if !changedPaths.isEmpty {
            reasons.append("input files changed: " + changedPaths.map { "\($0) (\(Self.flatten(stage.portableParams)[$0]?.displayText ?? $0))" }.joined(separator: ", "))
        }
        let changedInputs = stage.after.filter { before.inputFingerprints[$0] != stage.inputFingerprints[$0] }
        if !changedInputs.isEmpty {
            let upstream = changedInputs.map { willRun.contains($0) ? "\($0) changes" : "\($0) differs" }
            reasons.append("upstream " + upstream.joined(separator: ", "))
        }
        return reasons.isEmpty ? "fingerprint differs from run \(previousRun)" : reasons.joined(separator: "; ")
    }

    /// Leaf values by dotted key, list items by index (`deps[0]`), so changes name the exact key.
    static func flatten(_ value: JSONValue, prefix: String = "") -> [String: JSONValue] {
        switch value {
        case .object(let members) where !members.isEmpty:
            var result: [String: JSONValue] = [:]
            for (key, member) in members {
                result.merge(flatten(member, prefix: prefix.isEmpty ? key : "\(prefix).\(key)")) { a, _ in a }
            }
            return result
        case .array(let items) where !items.isEmpty:
            var result: [String: JSONValue] = [:]
            for (index, item) in items.enumerated() {
                result.merge(flatten(item, prefix: "\(prefix)[\(index)]")) { a, _ in a }
            }
            return result
        default:
            return prefix.isEmpty ? [:] : [prefix: value]
        }
    }
}
