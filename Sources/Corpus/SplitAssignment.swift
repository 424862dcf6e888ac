// SplitAssignment — the train/validation split, by document and stratified by tier: in each tier the
// round(fraction × documents) documents with the smallest seeded key SHA-256("loom-split:SEED:DOC")
// go to validation (at least one when the tier has two or more documents and the fraction is
// positive; never all of them). The key depends on the seed and the document's text only, so the
// split does not change when inputs are renamed or listed in another order.
import Crypto
import Foundation

struct SplitAssignment: Sendable {
    /// Per tier: a document is in validation when its key is at most this (nil: none is).
    private var thresholds: [String: UInt64] = [:]
    let seed: UInt64

    init(seed: UInt64, fraction: Double, keysByTier: [String: [UInt64]]) {
        self.seed = seed
        for (tier, keys) in keysByTier {
            let count = Self.validationCount(documents: keys.count, fraction: fraction)
            guard count > 0 else { continue }
            thresholds[tier] = keys.sorted()[count - 1]
        }
    }

    static func validationCount(documents: Int, fraction: Double) -> Int {
        guard documents >= 2, fraction > 0 else { return 0 }
        return min(documents - 1, max(1, Int((fraction * Double(documents)).rounded())))
    }

    static func key(seed: UInt64, document: String) -> UInt64 {
        let digest = SHA256.hash(data: Data("loom-split:\(seed):\(document)".utf8))
        return digest.withUnsafeBytes { UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)) }
    }

    func split(tier: String, document: String) -> CorpusSplit {
        guard let threshold = thresholds[tier] else { return .train }
        return Self.key(seed: seed, document: document) <= threshold ? .validation : .train
    }
}

/// The shard files of one corpus: `SPLIT/TIER-NNNNN.jsonl`, a new file once one reaches the shard size.
final class ShardSet {
    private let root: URL
    private let shardBytes: Int
    private var open: [String: (writer: BufferedFileWriter, info: ShardInfo)] = [:]
    private var nextNumber: [String: Int] = [:]
    private(set) var finished: [ShardInfo] = []

    init(root: URL, shardBytes: Int) throws {
        self.root = root
        self.shardBytes = shardBytes
        for split in CorpusSplit.allCases {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(split.rawValue), withIntermediateDirectories: true)
        }
    }

    func write(_ line: UnsafeBufferPointer<UInt8>, split: CorpusSplit, tier: String) throws {
        let key = "\(split.rawValue)/\(tier)"
        if let current = open[key], current.writer.bytesWritten > 0, current.writer.bytesWritten + line.count + 1 > shardBytes {
            try close(key)
        }
        if open[key] == nil {
            let number = nextNumber[key, default: 0]
            nextNumber[key] = number + 1
            let relative = "\(split.rawValue)/\(tier)-\(String(format: "%05d", number)).jsonl"
            let writer = try BufferedFileWriter(path: root.appendingPathComponent(relative).path)
            open[key] = (writer, ShardInfo(path: relative, split: split, tier: tier, scenes: 0, bytes: 0, sha256: ""))
        }
        try open[key]!.writer.write(line)
        try open[key]!.writer.write(CollectionOfOne(0x0A))
        open[key]!.info.scenes += 1
    }

    func finish() throws -> [ShardInfo] {
        for key in open.keys.sorted() { try close(key) }
        return finished
    }

    private func close(_ key: String) throws {
        guard var entry = open.removeValue(forKey: key) else { return }
        entry.info.sha256 = try entry.writer.finish()
        entry.info.bytes = entry.writer.bytesWritten
        finished.append(entry.info)
    }
}
