// CacheProvenanceTests — a run whose stages came from the cache names the runs that computed them, when
// and in how long, instead of a duration of 0 s; a recorded source that is not the producer (a store
// recreated beside an old cache, so an old run id now names a new run) falls back to the stage that ran the
// fingerprint, else to the cache manifest's date.
import Foundation
import FoundationXML
import Pipeline
@testable import Report
import TestSupport
import Testing

@Suite struct CacheProvenanceTests {
    /// One `core` run that computed train and eval, and a second run of the same plan that found both cached.
    static func cachedRerun() throws -> (fixture: SaturationStore, first: RunRecord, second: RunRecord) {
        let fixture = try SaturationStore(variants: ["core"])
        let first = fixture.runs[0].id
        for stage in ["train", "eval"] { _ = try fixture.store.startAttempt(run: first, stage: stage, pid: nil) }
        try fixture.logTraining(0, corpusTokens: 120_000, finalLoss: 2.1)
        try fixture.logEval(0, bitsPerByte: 1.41)
        try fixture.finishRuns()
        let second = try fixture.store.createRuns([try fixture.store.plan(ofRun: first)], gitCommit: nil)[0]
        for stage in ["train", "eval"] { try fixture.store.markCached(run: second, stage: stage, sourceRun: first, sourceStage: stage) }
        try fixture.store.finishRun(second, status: .succeeded)
        return (fixture, try #require(try fixture.store.run(first)), try #require(try fixture.store.run(second)))
    }

    @Test func anAllCachedRunNamesTheRunThatComputedItsStages() throws {
        let (fixture, first, second) = try Self.cachedRerun()
        let report = try RunReport(store: fixture.store, runs: [first, second], goals: fixture.metricsGoals)
        #expect(try report.provenance[0] == CacheProvenance(store: fixture.store, run: first))
        #expect(report.provenance[0].sources.isEmpty && report.provenance[0].executed == ["train", "eval"])
        let cached = report.provenance[1]
        #expect(cached.allCached && cached.stageCount == 2 && cached.executed.isEmpty && cached.cachedCount == 2)
        let producers = try fixture.store.stages(ofRun: first.id)
        let seconds = producers.map { $0.finishedAt! - $0.startedAt! }.reduce(0, +)
        #expect(cached.sources == [CacheProvenance.Source(run: first, stages: ["train", "eval"],
                                                          producedAt: producers.compactMap(\.finishedAt).max(), computeSeconds: seconds)])
        // Its metrics are the producer's, so it is reported like any run.
        #expect(report.finalValues[1]["eval/bits_per_byte"] == 1.41)

        let document = try XMLDocument(xmlString: HTMLReport.render(report), options: [])
        let rows = try #require(try document.elements("table", where: "@class='runs'").first).elements("tr").dropFirst()
        let durations = try rows.map { try $0.elements("td")[6].stringValue ?? "" }
        #expect(durations[1] == "all 2 stages cached")
        #expect(durations[0] != "all 2 stages cached")
        let notes = try document.elements("ul", where: "@class='provenance'").first?.elements("li") ?? []
        #expect(notes.map { $0.attribute("data-run") } == [String(second.id)])
        #expect(notes.first?.stringValue == "core #\(second.id): all 2 stages came from the cache — train, eval computed by run \(first.id) "
            + "(saturation/core) on \(HTMLReport.date(producers.compactMap(\.finishedAt).max()!)) in under a second.")
    }

    @Test func aPartlyCachedRunSaysWhichStagesCameFromWhere() throws {
        let (fixture, first, _) = try Self.cachedRerun()
        let third = try fixture.store.createRuns([try fixture.store.plan(ofRun: first.id)], gitCommit: nil)[0]
        try fixture.store.markCached(run: third, stage: "train", sourceRun: first.id, sourceStage: "train")
        let provenance = try CacheProvenance(store: fixture.store, run: try #require(try fixture.store.run(third)))
        #expect(!provenance.allCached && provenance.executed == ["eval"] && provenance.sources.map(\.stages) == [["train"]])
        #expect(HTMLReport.sourceText(provenance.sources[0]).hasPrefix("train computed by run \(first.id) (saturation/core) on "))
        #expect(HTMLReport.seconds(0.2) == "under a second" && HTMLReport.seconds(192) == "3 min 12 s" && HTMLReport.seconds(7260) == "2 h 1 min")
    }

    @Test func aSourceThatIsNotTheProducerFallsBackToTheFingerprintThenToTheManifest() throws {
        let (fixture, first, second) = try Self.cachedRerun()
        let store = fixture.store
        // An old run id from before the store was recreated: it names no stage of this fingerprint.
        let third = try store.createRuns([try store.plan(ofRun: first.id)], gitCommit: nil)[0]
        try store.markCached(run: third, stage: "train", sourceRun: second.id, sourceStage: "train")
        try store.markCached(run: third, stage: "eval", sourceRun: nil, sourceStage: nil)
        let stages = try store.stages(ofRun: third)
        for stage in stages { #expect(try store.producer(ofCached: stage)?.runID == first.id) }
        // What is recorded is the producer itself, so metrics and artifacts are read from it, not from the
        // run the stale source named.
        #expect(stages.map(\.sourceRunID) == [first.id, first.id])
        let metrics = { (run: Int64) in try store.finalMetrics(ofRun: run).map { "\($0.stage) \($0.key) \($0.value)" } }
        #expect(try metrics(third) == metrics(first.id) && !(try metrics(first.id)).isEmpty)
        #expect(try store.producer(ofCached: try #require(try store.stage(run: first.id, name: "train"))) == nil)

        // A new store beside the old cache: its run 1 finds the entries cached, made by "run 1" of the old store.
        let fresh = try SaturationStore(variants: ["core"])
        let run = fresh.runs[0]
        let created = 1_700_000_000.0
        for stage in try fresh.store.stages(ofRun: run.id) {
            let manifest = CacheManifest(fingerprint: stage.fingerprint, kind: stage.kind, kindVersion: 1, params: .object([:]), inputs: [:],
                                         producerRun: run.id, producerStage: stage.name, producerAttempt: 1, createdAt: created, artifacts: [])
            try FileManager.default.createDirectory(at: fresh.store.layout.cacheEntry(stage.fingerprint), withIntermediateDirectories: true)
            try Data(manifest.json.canonicalJSON.utf8).write(to: fresh.store.layout.manifest(stage.fingerprint))
            try fresh.store.markCached(run: run.id, stage: stage.name, sourceRun: run.id, sourceStage: stage.name)
        }
        let provenance = try CacheProvenance(store: fresh.store, run: try #require(try fresh.store.run(run.id)))
        #expect(provenance.sources == [CacheProvenance.Source(run: nil, stages: ["train", "eval"], producedAt: created, computeSeconds: nil)])
        #expect(HTMLReport.sourceText(provenance.sources[0]) == "train, eval computed by a run no longer in this store on 2023-11-14 22:13 UTC")
    }
}
