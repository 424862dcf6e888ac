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

    /// The scene texts of `split` in `tiers`, in corpus order. With `sampleBytes` > 0 and a larger
    /// selection, a seeded sample of whole scenes of about that many UTF-8 bytes (each scene's rank is a
    /// hash of seed, document and scene index, so the sample does not depend on file order).
    public static func texts(
        of corpus: CorpusReader, split: CorpusSplit, tiers: [String], sampleBytes: Int = 0, seed: Int = 0
    ) throws -> [String] {
        var scenes: [(rank: String, text: String)] = []
        var bytes = 0
        try corpus.forEachScene(split: split, tiers: tiers) { scene in
            bytes += scene.text.utf8.count
            scenes.append((sampleBytes > 0 ? Digest.sha256Hex("loom-sample:\(seed):\(scene.doc):\(scene.index)") : "", scene.text))
        }
        guard sampleBytes > 0, bytes > sampleBytes else { return scenes.map(\.text) }
        var chosen = Set<Int>()
        var taken = 0
        for index in scenes.indices.sorted(by: { scenes[$0].rank < scenes[$1].rank }) where taken < sampleBytes {
            chosen.insert(index)
            taken += scenes[index].text.utf8.count
        }
        return scenes.indices.filter(chosen.contains).map { scenes[$0].text }
    }
}
