// CorpusWithAddedTier — writes a corpus that is an existing corpus plus one new tier of given scenes
// (the `synthesize` kind's output), readable by CorpusReader like any corpus:
//   train/…, validation/…        every shard of the base corpus, hard-linked (copied only where the file
//                                system cannot link), so the base's text — its validation split above
//                                all — is byte for byte the same files
//   train/TIER-00000.jsonl       the new scenes, train split only; `scenesPerDocument` scenes make a
//                                document (its text: the scenes joined by blank lines; its id: 16 hex
//                                digits of that text's SHA-256; its source: TIER/NNNNN)
//   documents.jsonl              the base's documents, then the new ones
//   manifest.json                the base's manifest with the tier appended (counts measured on the
//                                written scenes, shard digests of the written files) and the totals grown
import Foundation
import LoomCore

public enum CorpusWithAddedTier {
    /// What was written.
    public struct Result: Sendable {
        public var manifest: CorpusManifest
        /// Base shards linked, and copied where linking failed.
        public var linkedShards = 0
        public var copiedShards = 0
    }

    /// Writes `base` plus the tier `tier` (listing `inputs` as its inputs) of `scenes` into `directory`,
    /// which must be empty or absent. The tier name must be valid and new to `base`.
    public static func write(
        base: CorpusReader, tier: String, inputs: [String], scenes: [String], scenesPerDocument: Int, into directory: URL
    ) throws -> Result {
        try TierSpec.validate(base.tierNames.map { TierSpec(name: $0, inputs: ["-"]) } + [TierSpec(name: tier, inputs: inputs)])
        guard scenesPerDocument > 0 else { throw CorpusError.invalidOption("scenes per document must be at least 1, not \(scenesPerDocument)") }
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
        var result = Result(manifest: base.manifest)

        for shard in base.manifest.shards {
            let source = base.directory.appendingPathComponent(shard.path)
            let target = directory.appendingPathComponent(shard.path)
            try fileManager.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            let size = (try? fileManager.attributesOfItem(atPath: source.path))?[.size] as? Int
            guard size == shard.bytes else {
                throw CorpusError.unreadableCorpus(
                    path: source.path, reason: "the shard is \(size.map { "\($0) bytes" } ?? "missing"); the manifest says \(shard.bytes) bytes")
            }
            if (try? fileManager.linkItem(at: source, to: target)) != nil {
                result.linkedShards += 1
            } else {
                try fileManager.copyItem(at: source, to: target)
                result.copiedShards += 1
            }
        }

        let documents = try BufferedFileWriter(path: directory.appendingPathComponent(CorpusManifest.documentsFileName).path)
        try LineReader(path: base.directory.appendingPathComponent(base.manifest.documentsFile).path).forEachLine { line in
            guard !line.isEmpty else { return }
            try documents.write(line)
            try documents.write(CollectionOfOne(0x0A))
        }
        let shards = try ShardSet(root: directory, shardBytes: base.manifest.settings.shardBytes)
        var counts = CorpusCounts()
        let counter = MinHasher(seed: 0, shingleWords: 1)
        for (number, start) in stride(from: 0, to: scenes.count, by: scenesPerDocument).enumerated() {
            let texts = scenes[start..<min(start + scenesPerDocument, scenes.count)]
            let text = texts.joined(separator: "\n\n")
            let id = String(Digest.sha256Hex(text).prefix(16))
            let source = "\(tier)/\(String(format: "%05d", number))"
            var kept = SplitCounts()
            var offset = 0
            for (index, scene) in texts.enumerated() {
                let chars = scene.unicodeScalars.count
                let words = Array(scene.utf8).withUnsafeBufferPointer { counter.analyse($0, signature: false).words }
                var line = Array("{\"doc\":\"\(id)\",\"tier\":".utf8)
                JSONStringLiteral.append(tier, to: &line)
                line += Array(",\"source\":".utf8)
                JSONStringLiteral.append(source, to: &line)
                line += Array(",\"index\":\(index),\"start\":\(offset),\"end\":\(offset + chars),\"chars\":\(chars),\"words\":\(words),\"text\":".utf8)
                JSONStringLiteral.append(scene, to: &line)
                line += Array("}".utf8)
                try line.withUnsafeBufferPointer { try shards.write($0, split: .train, tier: tier) }
                offset += chars + 2
                kept.add(SplitCounts(documents: 0, scenes: 1, bytes: scene.utf8.count, characters: chars, words: words))
            }
            kept.documents = 1
            var record = Array("{\"doc\":\"\(id)\",\"split\":\"train\",\"tier\":".utf8)
            JSONStringLiteral.append(tier, to: &record)
            record += Array(",\"source\":".utf8)
            JSONStringLiteral.append(source, to: &record)
            record += Array(",\"format\":\"synthetic\",\"encoding\":\"utf-8\",\"scenes\":\(kept.scenes),\"bytes\":\(kept.bytes),\"characters\":\(kept.characters),\"words\":\(kept.words)}\n".utf8)
            try documents.write(record)
            counts.kept.add(kept)
            counts.train.add(kept)
            counts.encodings["utf-8", default: 0] += 1
            counts.formats["synthetic", default: 0] += 1
        }
        _ = try documents.finish()

        let tierOrder = Dictionary(uniqueKeysWithValues: (base.tierNames + [tier]).enumerated().map { ($1, $0) })
        result.manifest.loomVersion = LoomVersion.string
        result.manifest.tiers.append(TierSummary(name: tier, inputs: inputs, counts: counts))
        result.manifest.total.add(counts)
        result.manifest.shards = (base.manifest.shards + (try shards.finish())).sorted {
            ($0.split == .train ? 0 : 1, tierOrder[$0.tier]!, $0.path) < ($1.split == .train ? 0 : 1, tierOrder[$1.tier]!, $1.path)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let manifest = try BufferedFileWriter(path: directory.appendingPathComponent(CorpusManifest.fileName).path)
        try manifest.write(encoder.encode(result.manifest))
        try manifest.write(CollectionOfOne(0x0A))
        _ = try manifest.finish()
        return result
    }
}
