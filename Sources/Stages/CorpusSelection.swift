// CorpusSelection — the part of a corpus a stage parameter selects: a list of tier names (empty means
// every tier) checked against the corpus with a "did you mean", and the scene texts of one split of
// those tiers, optionally a seeded sample of about N bytes. Tier names cannot be checked when the
// recipe is validated (the corpus does not exist yet), so a wrong name fails the stage that reads it,
// naming the parameter.
import Corpus
import Foundation
import LoomCore
import Pipeline

public enum CorpusSelection {
    /// Held-out text encoded for tokenizer metrics: at most this much (a seeded sample beyond it), so
    /// measuring stays seconds on a corpus of thousands of books.
    public static let measuredBytes = 32 << 20

    /// `requested` in the corpus's priority order (all tiers when empty); an unknown name is an error
    /// that names `parameter` and the corpus's tiers.
    public static func tiers(_ requested: [String], in corpus: CorpusReader, parameter: String) throws -> [String] {
        let known = corpus.tierNames
        guard !requested.isEmpty else { return known }
        for name in requested where !known.contains(name) {
            throw UpstreamError("\(parameter): unknown tier '\(name)'\(NearestName.hint(for: name, among: known)) (the corpus has \(known.joined(separator: ", ")))")
        }
        return known.filter(requested.contains)
    }

    /// The scene texts of `split` in `tiers`, in corpus order (see `forEachText`).
    public static func texts(
        of corpus: CorpusReader, split: CorpusSplit, tiers: [String], sampleBytes: Int = 0, seed: Int = 0
    ) throws -> [String] {
        var texts: [String] = []
        try forEachText(of: corpus, split: split, tiers: tiers, sampleBytes: sampleBytes, seed: seed) { texts.append($0) }
        return texts
    }

    /// Streams the scene texts of `split` in `tiers`, in corpus order. With `sampleBytes` > 0 and a
    /// larger selection, only a seeded sample of whole scenes of about that many UTF-8 bytes: each
    /// scene's rank is a hash of seed, document and scene index, so the sample does not depend on file
    /// order; the first pass keeps 12 bytes per scene, never the text.
    public static func forEachText(
        of corpus: CorpusReader, split: CorpusSplit, tiers: [String], sampleBytes: Int = 0, seed: Int = 0,
        _ body: (String) throws -> Void
    ) throws {
        guard sampleBytes > 0 else {
            return try corpus.forEachScene(split: split, tiers: tiers) { try body($0.text) }
        }
        var ranks: [UInt64] = []
        var sizes: [Int32] = []
        var total = 0
        try corpus.forEachScene(split: split, tiers: tiers) { scene in
            let hash = Digest.sha256Hex("loom-sample:\(seed):\(scene.doc):\(scene.index)")
            ranks.append(UInt64(hash.prefix(16), radix: 16) ?? 0)
            let bytes = scene.text.utf8.count
            sizes.append(Int32(clamping: bytes))
            total += bytes
        }
        var chosen = [Bool](repeating: total <= sampleBytes, count: ranks.count)
        if total > sampleBytes {
            var taken = 0
            for index in ranks.indices.sorted(by: { ranks[$0] < ranks[$1] }) where taken < sampleBytes {
                chosen[index] = true
                taken += Int(sizes[index])
            }
        }
        var index = 0
        try corpus.forEachScene(split: split, tiers: tiers) { scene in
            defer { index += 1 }
            if chosen[index] { try body(scene.text) }
        }
    }
}
