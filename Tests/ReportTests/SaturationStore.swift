// SaturationStore — a real run store (SQLite through RunStore, a recipe planned by the Planner) shaped
// like the saturation experiment: one run per variant with a `train` and an `eval` stage reporting
// the metric names of METRICS-CONTRACT.md, and generations.json in the eval stage's cache entry.
import Foundation
import FoundationXML
import LoomCore
import Pipeline
import Report
import TestSupport
import Testing

final class SaturationStore {
    static let variants = ["core", "core+orbit", "core+orbit+fractal"]

    let scratch: ScratchDirectory
    let store: RunStore
    private(set) var runs: [RunRecord]

    /// One run per variant; `notes[i]` becomes the `train.note` parameter of variant i (escaping tests, or
    /// the one parameter an ablation's variants differ in), `tiers[i]` its `train.tiers` (default: its name).
    init(variants: [String] = SaturationStore.variants, notes: [String]? = nil, tiers: [String]? = nil) throws {
        scratch = try ScratchDirectory("loom-report")
        var registry = StageKindRegistry()
        registry.declare(StageKindDescriptor(
            name: "train", version: 1, summary: "", executable: .loomTorch,
            schema: ParamSchema([.int("steps", default: 40, doc: "steps"), .string("tiers", default: "core", doc: "tiers"),
                                 .string("note", default: "", doc: "note")])))
        registry.declare(StageKindDescriptor(
            name: "eval", version: 1, summary: "", executable: .loomTorch,
            schema: ParamSchema([.int("seed", default: 7, doc: "seed")]),
            metricGoals: ["eval/top1_agreement": .none, "eval/kl_base_tuned": .none]))
        var recipe = "stages:\n  train: {kind: train}\n  eval: {kind: eval, after: [train]}\nvariants:\n"
        for (index, variant) in variants.enumerated() {
            let note = notes.map { Self.yamlString($0[index]) } ?? "\"\""
            recipe += "  \(Self.yamlString(variant)): {params: {train: {tiers: \(Self.yamlString(tiers?[index] ?? variant)), note: \(note)}}}\n"
        }
        let file = scratch.path("saturation.yaml")
        try recipe.write(to: file, atomically: true, encoding: .utf8)
        let plans = try Planner(digester: FileDigester(storage: nil)).plans(for: RecipeLoader(registry: registry).load(file), variants: [])
        let store = try RunStore(home: scratch.path("runs"))
        let ids = try store.createRuns(plans, gitCommit: nil)
        runs = try ids.map { try #require(try store.run($0)) }
        self.store = store
    }

    /// A JSON string literal is a YAML double-quoted scalar.
    static func yamlString(_ text: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return String(decoding: try! encoder.encode(text), as: UTF8.self)
    }

    var metricsGoals: MetricGoals { MetricGoals(declared: ["eval/top1_agreement": .none, "eval/kl_base_tuned": .none]) }

    /// Per-step training metrics and the end-of-training ones; the loss falls towards `finalLoss`.
    func logTraining(_ index: Int, steps: Int = 40, corpusTokens: Double?, finalLoss: Double, valEvery: Int = 10) throws {
        var points: [MetricPoint] = []
        for step in 1...steps {
            let loss = finalLoss + 3 * exp(-Double(step) / Double(steps) * 4) + 0.02 * sin(Double(step))
            points += [MetricPoint(key: "train/loss", step: step, value: loss, time: Double(step)),
                       MetricPoint(key: "train/lr", step: step, value: 3e-4 * min(1, Double(step) / 10), time: Double(step)),
                       MetricPoint(key: "train/grad_norm", step: step, value: 1 + 1 / Double(step), time: Double(step)),
                       MetricPoint(key: "train/tokens_per_second", step: step, value: 5200, time: Double(step))]
            if step % valEvery == 0 { points.append(MetricPoint(key: "train/val_loss", step: step, value: loss + 0.1, time: Double(step))) }
        }
        points += [MetricPoint(key: "train/tokens_seen", step: steps, value: Double(steps * 4096), time: Double(steps)),
                   MetricPoint(key: "train/trainable_params", step: steps, value: 811_008, time: Double(steps))]
        if let corpusTokens { points.append(MetricPoint(key: "train/corpus_tokens", step: steps, value: corpusTokens, time: Double(steps))) }
        try store.appendMetrics(run: runs[index].id, stage: "train", points)
        try store.finishStage(run: runs[index].id, stage: "train", status: .succeeded)
    }

    /// The eval stage's metrics for the tuned and the base model.
    func logEval(_ index: Int, bitsPerByte: Double, baseBitsPerByte: Double = 1.62, extra: [String: Double] = [:]) throws {
        var metrics: [String: Double] = [
            "eval/loss": bitsPerByte * 1.9, "eval/bits_per_byte": bitsPerByte, "eval/perplexity": exp(bitsPerByte * 1.9),
            "eval/base_loss": baseBitsPerByte * 1.9, "eval/base_bits_per_byte": baseBitsPerByte, "eval/base_perplexity": exp(baseBitsPerByte * 1.9),
            "eval/tokens_per_word": 1.31, "eval/bytes_per_token": 5.2, "eval/base_tokens_per_word": 2.02, "eval/base_bytes_per_token": 3.4,
            "eval/kl_base_tuned": 0.3 + Double(index) / 10, "eval/top1_agreement": 0.7 - Double(index) / 20,
        ]
        metrics.merge(extra) { _, new in new }
        try store.appendMetrics(run: runs[index].id, stage: "eval", metrics.keys.sorted().map {
            MetricPoint(key: $0, step: 0, value: metrics[$0]!, time: 0)
        })
        try store.finishStage(run: runs[index].id, stage: "eval", status: .succeeded)
    }

    /// Writes `json` as generations.json into the eval stage's cache entry and records it as an artifact.
    func writeGenerations(_ index: Int, json: String) throws {
        let stage = try #require(try store.stage(run: runs[index].id, name: "eval"))
        let entry = store.layout.cacheEntry(stage.fingerprint)
        try FileManager.default.createDirectory(at: entry, withIntermediateDirectories: true)
        let data = Data(json.utf8)
        try data.write(to: entry.appendingPathComponent(Generation.artifactFileName))
        try store.recordArtifacts(run: runs[index].id, stage: "eval", [
            ArtifactRecord(name: Generation.artifactFileName, path: Generation.artifactFileName,
                           sha256: Digest.sha256Hex(data), bytes: Int64(data.count)),
        ])
    }

    func writeGenerations(_ index: Int, _ generations: [Generation]) throws {
        let items: [JSONValue] = generations.map {
            .object(["prompt": .string($0.prompt), "base": .string($0.base), "tuned": .string($0.tuned),
                     "seed": $0.seed.map(JSONValue.int) ?? .null])
        }
        try writeGenerations(index, json: JSONValue.array(items).canonicalJSON)
    }

    func finishRuns() throws {
        for run in runs { try store.finishRun(run.id, status: .succeeded) }
        runs = try runs.map { try #require(try store.run($0.id)) }
    }

    /// The three variants trained on 10× more tokens each, bits per byte falling, with generations.
    static func complete(notes: [String]? = nil, generations: [Generation]? = nil) throws -> SaturationStore {
        let fixture = try SaturationStore(notes: notes)
        let tokens = [120_000.0, 1_150_000, 11_800_000]
        let bitsPerByte = [1.45, 1.36, 1.25]
        for index in fixture.runs.indices {
            try fixture.logTraining(index, corpusTokens: tokens[index], finalLoss: 2.2 - Double(index) * 0.15)
            try fixture.logEval(index, bitsPerByte: bitsPerByte[index])
            let prompts = generations ?? [
                Generation(prompt: "Жизнь — это", base: "Жизнь — это то, что случается.", tuned: "Жизнь — это вариант \(index).", seed: 7),
                Generation(prompt: "Однажды утром", base: "Однажды утром он проснулся.", tuned: "Однажды утром кот сказал «мяу».", seed: 7),
            ]
            try fixture.writeGenerations(index, prompts)
        }
        try fixture.finishRuns()
        return fixture
    }

    func report() throws -> RunReport {
        try RunReport(store: store, runs: runs, goals: metricsGoals)
    }

    /// The rendered page, parsed as XML (it must be well-formed to parse at all).
    func document() throws -> XMLDocument {
        try XMLDocument(xmlString: HTMLReport.render(report()), options: [])
    }
}

extension XMLNode {
    /// Elements by local name under this node (XHTML and SVG are namespaced, so plain XPath names miss).
    func elements(_ localName: String, where condition: String = "") throws -> [XMLElement] {
        // FoundationXML evaluates `.//` from a document node to nothing: start at its root element.
        let start: XMLNode = (self as? XMLDocument)?.rootElement() ?? self
        return try start.nodes(forXPath: ".//*[local-name()='\(localName)']\(condition.isEmpty ? "" : "[\(condition)]")").compactMap { $0 as? XMLElement }
    }

    /// FoundationXML's `attribute(forName:)` misses attributes of elements in a default namespace
    /// (all of XHTML and SVG), so the attribute list is searched instead.
    func attribute(_ name: String) -> String? {
        (self as? XMLElement)?.attributes?.first { $0.name == name }?.stringValue
    }

    /// Every coordinate and size in the charts, and every point of every polyline, as numbers.
    func chartNumbers() throws -> [Double?] {
        var numbers: [Double?] = []
        let start: XMLNode = (self as? XMLDocument)?.rootElement() ?? self
        for element in try start.nodes(forXPath: ".//*") {
            for name in ["x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "width", "height"] {
                if let value = element.attribute(name) { numbers.append(Double(value)) }
            }
            if let points = element.attribute("points") {
                numbers += points.split(separator: " ").flatMap { $0.split(separator: ",").map { Double($0) } }
            }
        }
        return numbers
    }
}
