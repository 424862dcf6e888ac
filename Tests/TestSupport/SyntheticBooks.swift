// SyntheticBooks — generated Russian text in three tiers, for tests that run the saturation pipeline in
// miniature: fortune files (entries between `%` lines) of seeded sentences. The tiers share a core
// vocabulary and each later one widens it, as a core/orbit/fractal collection does; recurring
// multi-word phrases give hyperwords something to learn. The same seed writes the same bytes.
import Foundation

public enum SyntheticBooks {
    static let coreWords = [
        "любовь", "жена", "муж", "сердце", "дом", "вечер", "письмо", "память", "надежда", "встреча", "слово", "взгляд",
        "говорит", "знает", "помнит", "ждёт", "любит", "молчит", "всегда", "никогда", "снова", "тихо",
    ]
    static let orbitWords = [
        "друг", "верность", "измена", "ревность", "дружба", "счастье", "разговор", "обещание", "прощание", "улыбка",
        "верит", "прощает", "уходит", "возвращается", "смеётся",
    ]
    static let fractalWords = [
        "работа", "начальник", "компьютер", "программа", "город", "поезд", "политика", "газета", "деньги", "погода",
        "пишет", "читает", "покупает", "считает", "спешит", "завтра", "вчера", "опять",
    ]
    static let phrases = ["потому что", "в том числе", "на самом деле", "как будто", "не только", "до сих пор", "всё равно"]

    /// The tiers (core, orbit, fractal) and how many fortune files of `entriesPerFile` entries each holds.
    public static let tiers: [(name: String, files: Int)] = [("core", 3), ("orbit", 3), ("fractal", 4)]

    /// Writes `books/<tier>/<tier>-N` fortune files under `root`; returns the tier directories by name.
    @discardableResult
    public static func write(to root: URL, entriesPerFile: Int = 120, seed: UInt64 = 7) throws -> [String: URL] {
        var random = SeededGenerator(seed: seed)
        var directories: [String: URL] = [:]
        for (index, tier) in tiers.enumerated() {
            let words = coreWords + (index >= 1 ? orbitWords : []) + (index >= 2 ? fractalWords : [])
            let directory = root.appendingPathComponent("books/\(tier.name)", isDirectory: true)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for file in 0..<tier.files {
                var entries: [String] = []
                for _ in 0..<entriesPerFile {
                    entries.append((0..<(2 + random.next(below: 3))).map { _ in sentence(words, &random) }.joined(separator: " "))
                }
                let text = entries.joined(separator: "\n%\n") + "\n%\n"
                try Data(text.utf8).write(to: directory.appendingPathComponent("\(tier.name)-\(file + 1)"))
            }
            directories[tier.name] = directory
        }
        return directories
    }

    private static func sentence(_ words: [String], _ random: inout SeededGenerator) -> String {
        var parts: [String] = []
        for _ in 0..<(4 + random.next(below: 7)) {
            parts.append(random.next(below: 5) == 0 ? phrases[random.next(below: phrases.count)] : words[random.next(below: words.count)])
        }
        let text = parts.joined(separator: " ")
        return text.prefix(1).uppercased() + text.dropFirst() + (random.next(below: 4) == 0 ? "!" : ".")
    }

}

extension SyntheticBooks {
    /// The recipe `params:` of a corpus stage over the three tiers under `books/` (what `write(to:)` and
    /// StagesProject.addFortuneTiers lay out).
    public static let corpusParams = """
        params:
          corpus:
            tiers:
              - {name: core, paths: [books/core]}
              - {name: orbit, paths: [books/orbit]}
              - {name: fractal, paths: [books/fractal]}
        """

    /// A miniature of recipes/demo.yaml over the synthetic books: every stage kind of the saturation
    /// pipeline at toy sizes (seconds per stage in a debug build). Variants: `core`, `core+orbit`, and
    /// `core-qlora` (QLoRA on core, with gradient checkpointing), `core-masked` (LoRA on core with masked packing).
    public static let miniatureRecipe = """
        pipeline: saturation
        description: the demo in miniature, on generated text
        \(corpusParams)
          tokenizer: {tiers: [fractal], vocab_size: 400}
          base:
            tiers: [fractal]
            model: {hidden_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 128}
            seq_len: 64
            steps: 40
            batch_size: 8
            lr: 1.0e-2
            warmup_steps: 4
            eval_every: 20
            checkpoint_every: 20
          hyperwords: {count: 40, min_count: 4, heldout_tier: core}
          extend: {init: mean}
          train:
            method: lora
            lora: {rank: 4, alpha: 8, dropout: 0.0}
            steps: 60
            batch_size: 4
            seq_len: 64
            lr: 5.0e-3
            warmup_steps: 5
            eval_every: 20
            checkpoint_every: 10
            val_tiers: [core]
          eval:
            tier: core
            seq_len: 64
            batch_size: 8
            probe_size: 4
            prompts: ["Любовь всегда", "Жена говорит"]
            max_new_tokens: 8
        variants:
          core:
            params: {train: {tiers: [core]}}
          core+orbit:
            params: {train: {tiers: [core, orbit]}}
          core-qlora:
            params: {train: {tiers: [core], method: qlora, gradient_checkpointing: true}}
          core-masked:
            params: {train: {tiers: [core], packing: masked}}

        """

    /// Writes the synthetic books, the package's saturation pipeline and `recipes/mini.yaml` into a
    /// scratch project.
    public static func installMiniature(in root: URL) throws {
        try write(to: root)
        let pipelines = root.appendingPathComponent("pipelines", isDirectory: true)
        try FileManager.default.createDirectory(at: pipelines, withIntermediateDirectories: true)
        let pipeline = TestPaths.packageRoot.appendingPathComponent("pipelines/saturation.yaml")
        try Data(contentsOf: pipeline).write(to: pipelines.appendingPathComponent("saturation.yaml"))
        let recipes = root.appendingPathComponent("recipes", isDirectory: true)
        try FileManager.default.createDirectory(at: recipes, withIntermediateDirectories: true)
        try Data(miniatureRecipe.utf8).write(to: recipes.appendingPathComponent("mini.yaml"))
    }
}

/// SplitMix64 (Steele, Lea and Flood 2014): small, fast, and the same sequence on every machine.
public struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in 0..<bound from one draw (modulo: the tiny bias does not matter to tests).
    public mutating func next(below bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
