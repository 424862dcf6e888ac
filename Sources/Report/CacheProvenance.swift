// CacheProvenance — where a run's stages came from. A stage found in the cache took no time in this
// run; the report names the run that computed it instead, with when it finished and how long it took
// there (the producing stage's own record), so a run whose every stage was cached reads "computed by
// run 4 on … in 3 min 2 s" rather than "0 s". When no run in this store computed the entry (a store
// recreated beside an old cache), the entry's manifest still says when it was made.
import Foundation
import Pipeline

public struct CacheProvenance: Sendable, Equatable {
    /// The cached stages one run computed.
    public struct Source: Sendable, Equatable {
        /// The producing run; nil when no run in this store computed these entries.
        public let run: RunRecord?
        /// Names of the cached stages (in the reported run's pipeline order).
        public let stages: [String]
        /// When the last of them finished there (or the manifests were written).
        public let producedAt: Double?
        /// Seconds the producing stages ran, together (nil when unknown).
        public let computeSeconds: Double?
    }

    public let stageCount: Int
    /// Stages this run executed itself (or that have not finished).
    public let executed: [String]
    /// Cached stages grouped by the run that computed them, in pipeline order of their first stage.
    public let sources: [Source]

    public var cachedCount: Int { sources.reduce(0) { $0 + $1.stages.count } }
    public var allCached: Bool { stageCount > 0 && cachedCount == stageCount }

    public init(store: RunStore, run: RunRecord) throws {
        let stages = try store.stages(ofRun: run.id)
        stageCount = stages.count
        executed = stages.filter { $0.status != .cached }.map(\.name)
        var order: [Int64?] = []
        var grouped: [Int64?: (run: RunRecord?, stages: [String], finished: [Double], seconds: [Double?])] = [:]
        for stage in stages where stage.status == .cached {
            let producer = try store.producer(ofCached: stage)
            let key = producer?.runID
            if grouped[key] == nil {
                order.append(key)
                grouped[key] = (try key.flatMap { try store.run($0) }, [], [], [])
            }
            grouped[key]!.stages.append(stage.name)
            if let producer {
                if let finished = producer.finishedAt { grouped[key]!.finished.append(finished) }
                grouped[key]!.seconds.append(producer.startedAt.flatMap { start in producer.finishedAt.map { $0 - start } })
            } else {
                grouped[key]!.finished += CacheManifest.read(store.layout, fingerprint: stage.fingerprint).map { [$0.createdAt] } ?? []
                grouped[key]!.seconds.append(nil)
            }
        }
        sources = order.map { key in
            let group = grouped[key]!
            let seconds = group.seconds.compactMap { $0 }
            return Source(run: group.run, stages: group.stages, producedAt: group.finished.max(),
                          computeSeconds: seconds.count == group.seconds.count ? seconds.reduce(0, +) : nil)
        }
    }
}
