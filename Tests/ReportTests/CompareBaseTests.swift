// CompareBaseTests — `loom compare` with the eval kind's metrics: the base model's `eval/base_X`
// becomes the `base` of `eval/X` when the runs agree on it, in text and JSON; runs that measured
// different bases keep their base rows.
import Foundation
import Pipeline
import Report
import Testing

@Suite struct CompareBaseTests {
    @Test func theBaseModelIsAColumn() throws {
        let fixture = try SaturationStore.complete()
        let comparison = try RunComparison(store: fixture.store, runs: fixture.runs, goals: fixture.metricsGoals)
        #expect(!comparison.metrics.contains { $0.key.hasPrefix("eval/base_") })
        let bits = try #require(comparison.metrics.first { $0.key == "eval/bits_per_byte" })
        #expect(bits.base == 1.62)
        #expect(bits.baseKey == "eval/base_bits_per_byte")
        #expect(bits.values == [1.45, 1.36, 1.25])
        #expect(bits.best == 2)
        #expect(comparison.metrics.first { $0.key == "eval/top1_agreement" }?.best == nil)
        #expect(comparison.metrics.first { $0.key == "train/loss" }?.base == nil)

        let text = comparison.renderText()
        #expect(text.contains("final metrics (last step; * best; base = the base model before tuning)"))
        let header = try #require(text.split(separator: "\n").first { $0.contains("metric") && $0.contains("goal") })
        #expect(header.split(separator: " ") == ["stage", "metric", "goal", "base", "[1]", "[2]", "[3]"])
        let line = try #require(text.split(separator: "\n").first { $0.contains("eval/bits_per_byte") })
        #expect(line.split(separator: " ") == ["eval", "eval/bits_per_byte", "↓", "1.62", "1.45", "1.36", "1.25", "*"])

        let json = try #require(comparison.json["metrics"]?.arrayValue?.first { $0["key"] == .string("eval/bits_per_byte") })
        #expect(json["base"] == .double(1.62))
        #expect(json["base_key"] == .string("eval/base_bits_per_byte"))
        #expect(comparison.json["metrics"]?.arrayValue?.first { $0["key"] == .string("train/loss") }?["base"] == .null)
    }

    @Test func differentBasesStayRowsOfTheirOwn() throws {
        let fixture = try SaturationStore()
        try fixture.logEval(0, bitsPerByte: 1.4, baseBitsPerByte: 1.6)
        try fixture.logEval(1, bitsPerByte: 1.3, baseBitsPerByte: 1.7)
        let comparison = try RunComparison(store: fixture.store, runs: fixture.runs, goals: fixture.metricsGoals)
        #expect(comparison.metrics.first { $0.key == "eval/bits_per_byte" }?.base == nil)
        #expect(comparison.metrics.first { $0.key == "eval/base_bits_per_byte" }?.values == [1.6, 1.7, nil])
        let line = try #require(comparison.renderText().split(separator: "\n").first { $0.contains("eval/base_bits_per_byte") })
        #expect(line.split(separator: " ") == ["eval", "eval/base_bits_per_byte", "↓", "1.6", "*", "1.7", "-"])
    }

    @Test func baseKeysPairByName() {
        #expect(RunComparison.baseKey(of: "eval/bits_per_byte") == "eval/base_bits_per_byte")
        #expect(RunComparison.baseKey(of: "loss") == "base_loss")
        #expect(RunComparison.baseKey(of: "eval/base_loss") == nil)
    }
}

@Suite struct RunSelectionTests {
    @Test func referencesResolveInOrderEachRunOnce() throws {
        let fixture = try SaturationStore()
        let ids = fixture.runs.map(\.id)
        #expect(try fixture.store.resolveRuns(["\(ids[2])", "saturation", "latest"]).map(\.id) == [ids[2], ids[0], ids[1]])
        #expect(throws: RunStoreError.unknownRun("nope")) { try fixture.store.resolveRuns(["saturation", "nope"]) }
    }
}
