// CorpusBuilder — the one entry point that turns tiers of files into a corpus directory; the `corpus`
// stage kind and `loom corpus` both call it.
//
//   pass 1 (streaming): worker threads read, decode, normalise, cut scenes and hash each file
//     (FileProcessor); the calling thread takes the results in input order — tier by tier, so dedupe
//     keeps the first copy in the highest tier — drops duplicate scenes and appends kept scenes to
//     one work file per tier.
//   pass 2: the split is decided per tier from the kept documents (SplitAssignment); each tier's work
//     file is routed into train/ and validation/ shards and documents.jsonl is written, these jobs in
//     parallel; manifest.json follows.
//   The directory is then published atomically (OutputDirectory). Any error, or any reject under
//   `strict`, leaves the previous output untouched and no temp directory behind.
//
// Output layout:
//   manifest.json                 CorpusManifest
//   documents.jsonl               one CorpusDocument per kept document (id, tier, split, source, …)
//   train/TIER-00000.jsonl        CorpusScene records, in input order; a new shard every `shardBytes`
//   validation/TIER-00000.jsonl
import Foundation
import LoomCore

public struct CorpusBuilder: Sendable {
    public let options: CorpusOptions

    public init(options: CorpusOptions = CorpusOptions()) {
        self.options = options
    }

    /// Builds the corpus of `tiers` (in dedupe priority order) into the directory `output`, which must
    /// be new, empty or a previous corpus (replaced whole). `progress` is called on the calling thread:
    /// `.progress` about twice a second and at each phase, `.rejected` once per rejected input. An
    /// error thrown by `progress` (a stage's cancellation check) stops the build. Throws `CorpusError`
    /// for bad options or tiers, missing inputs, an unwritable output, or — with `options.strict` —
    /// any reject. Whatever is thrown, nothing is published.
    @discardableResult
    public func build(tiers: [TierSpec], output: URL, progress: (CorpusEvent) throws -> Void = { _ in }) throws -> CorpusManifest {
        try options.validate()
        try TierSpec.validate(tiers)
        let discovery = try InputDiscovery.discover(tiers)
        let directory = try OutputDirectory(output)
        var published = false
        defer { if !published { directory.discard() } }

        var run = try ScanState(tiers: tiers, discovery: discovery, workDirectory: directory.temp.appendingPathComponent("work"), options: options)
        for reject in discovery.rejects { try progress(.rejected(reject)) }
        let processor = FileProcessor(options: options)
        let files = discovery.files
        let started = Date()
        var lastReport = Date.distantPast
        func report(_ phase: CorpusProgress.Phase, force: Bool = false) throws {
            let now = Date()
            guard force || now.timeIntervalSince(lastReport) >= 0.5 else { return }
            lastReport = now
            try progress(.progress(run.progress(phase, elapsed: now.timeIntervalSince(started))))
        }
        try report(.scanning, force: true)
        try OrderedWorkPool.run(
            count: files.count, threads: options.threads, window: options.threads * 2,
            work: { processor.process(files[$0]) },
            consume: { _, file in
                try run.consume(file, onReject: { try progress(.rejected($0)) })
                try report(.scanning)
            })
        try report(.scanning, force: true)
        if options.strict && !run.rejects.isEmpty { throw CorpusError.strictRejects(run.rejects) }

        try report(.splitting, force: true)
        let manifest = try run.finish(into: directory.temp, tiers: tiers)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let manifestWriter = try BufferedFileWriter(path: directory.temp.appendingPathComponent(CorpusManifest.fileName).path)
        try manifestWriter.write(encoder.encode(manifest))
        try manifestWriter.write(CollectionOfOne(0x0A))
        _ = try manifestWriter.finish()
        try directory.publish()
        published = true
        try? progress(.progress(run.progress(.finished, elapsed: Date().timeIntervalSince(started))))
        return manifest
    }
}

/// Everything pass 1 accumulates, and pass 2 (`finish`).
private struct ScanState {
    let options: CorpusOptions
    let tierNames: [String]
    let workDirectory: URL
    var deduplicator: Deduplicator
    var counts: [CorpusCounts]
    var sources: [SourceInfo] = []
    var rejects: [CorpusReject] = []
    var skipped: [CorpusSkip]
    var splitKeys: [[UInt64]]
    let sceneWork: [BufferedFileWriter]
    let documentWork: BufferedFileWriter
    let filesTotal: Int
    let bytesTotal: Int
    var filesDone = 0
    var bytesDone = 0

    init(tiers: [TierSpec], discovery: Discovery, workDirectory: URL, options: CorpusOptions) throws {
        self.options = options
        tierNames = tiers.map(\.name)
        self.workDirectory = workDirectory
        deduplicator = Deduplicator(threshold: options.nearDuplicateThreshold)
        counts = Array(repeating: CorpusCounts(), count: tiers.count)
        splitKeys = Array(repeating: [], count: tiers.count)
        skipped = discovery.skips
        rejects = discovery.rejects
        for reject in discovery.rejects { counts[tierNames.firstIndex(of: reject.tier)!].rejects += 1 }
        for skip in discovery.skips { counts[tierNames.firstIndex(of: skip.tier)!].skipped += 1 }
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
        sceneWork = try tiers.indices.map { try BufferedFileWriter(path: workDirectory.appendingPathComponent("scenes-\($0).jsonl").path) }
        documentWork = try BufferedFileWriter(path: workDirectory.appendingPathComponent("documents.jsonl").path)
        filesTotal = discovery.files.count
        bytesTotal = discovery.files.reduce(0) { $0 + $1.size }
    }

    mutating func consume(_ file: ProcessedFile, onReject: (CorpusReject) throws -> Void) throws {
        let tier = file.source.tierIndex
        filesDone += 1
        bytesDone += file.source.size
        for reject in file.rejects { try onReject(reject) }
        rejects += file.rejects
        counts[tier].rejects += file.rejects.count
        if let skip = file.skip {
            skipped.append(skip)
            counts[tier].skipped += 1
            return
        }
        counts[tier].sourceFiles += 1
        counts[tier].sourceBytes += file.source.size
        var source = SourceInfo(
            path: file.source.path, tier: file.source.tier, format: file.format, encoding: file.encoding,
            bytes: file.source.size, documents: 0, scenes: 0)
        for document in file.documents {
            var kept = SplitCounts()
            for scene in document.scenes {
                switch deduplicator.admit(exactKey: scene.exactKey, bandKeys: scene.bandKeys, fingerprint: scene.fingerprint) {
                case .exactDuplicate:
                    counts[tier].duplicates.exactScenes += 1
                case .nearDuplicate:
                    counts[tier].duplicates.nearScenes += 1
                case .kept:
                    try sceneWork[tier].write(scene.line)
                    kept.scenes += 1
                    kept.bytes += scene.bytes
                    kept.characters += scene.chars
                    kept.words += scene.words
                }
            }
            guard kept.scenes > 0 else {
                if !document.scenes.isEmpty { counts[tier].duplicates.documents += 1 }
                continue
            }
            kept.documents = 1
            counts[tier].kept.add(kept)
            let encoding = (document.encoding ?? file.encoding)?.rawValue ?? "unknown"
            counts[tier].encodings[encoding, default: 0] += 1
            counts[tier].formats[(document.format ?? file.format)?.rawValue ?? "unknown", default: 0] += 1
            source.documents += 1
            source.scenes += kept.scenes
            splitKeys[tier].append(SplitAssignment.key(seed: options.seed, document: document.id))
            try documentWork.write(documentRecord(document, file: file, encoding: encoding, kept: kept))
        }
        sources.append(source)
    }

    /// `{"doc":"…",` first (pass 2 inserts the split after it), then where it came from and its size.
    private func documentRecord(_ document: ProcessedDocument, file: ProcessedFile, encoding: String, kept: SplitCounts) -> [UInt8] {
        var line = Array("{\"doc\":\"\(document.id)\",\"tier\":".utf8)
        JSONStringLiteral.append(file.source.tier, to: &line)
        line += Array(",\"source\":".utf8)
        JSONStringLiteral.append(file.source.path, to: &line)
        for (key, value) in [("entry", document.entry), ("title", document.title), ("author", document.author)] {
            guard let value else { continue }
            line += Array(",\"\(key)\":".utf8)
            JSONStringLiteral.append(value, to: &line)
        }
        line += Array(",\"format\":\"\((document.format ?? file.format)?.rawValue ?? "unknown")\",\"encoding\":\"\(encoding)\"".utf8)
        line += Array(",\"scenes\":\(kept.scenes),\"bytes\":\(kept.bytes),\"characters\":\(kept.characters),\"words\":\(kept.words)}\n".utf8)
        return line
    }

    func progress(_ phase: CorpusProgress.Phase, elapsed: Double) -> CorpusProgress {
        let total = counts.reduce(into: CorpusCounts()) { $0.add($1) }
        return CorpusProgress(
            phase: phase, filesDone: filesDone, filesTotal: filesTotal, bytesDone: bytesDone, bytesTotal: bytesTotal,
            documents: total.documents, scenes: total.scenes,
            duplicates: total.duplicates.exactScenes + total.duplicates.nearScenes, rejects: total.rejects,
            elapsedSeconds: elapsed)
    }

    /// Pass 2: split, shards, documents.jsonl; returns the manifest (not yet written).
    mutating func finish(into root: URL, tiers: [TierSpec]) throws -> CorpusManifest {
        for writer in sceneWork { _ = try writer.finish() }
        _ = try documentWork.finish()
        let assignment = SplitAssignment(
            seed: options.seed, fraction: options.validationFraction,
            keysByTier: Dictionary(uniqueKeysWithValues: zip(tierNames, splitKeys)))
        splitKeys = []

        // Routing each tier's scenes and rewriting documents.jsonl are independent jobs: run them on the
        // worker threads, largest first, so the longest job does not start last.
        let tierNames = self.tierNames
        let scenePaths = sceneWork.map(\.path)
        let documentPath = documentWork.path
        let shardBytes = options.shardBytes
        let jobs = (0...tierNames.count).sorted { fileSize(job: $0, scenePaths, documentPath) > fileSize(job: $1, scenePaths, documentPath) }
        var shardList: [ShardInfo] = []
        try OrderedWorkPool.run(
            count: jobs.count, threads: options.threads, window: jobs.count,
            work: { slot -> Result<RoutingOutput, any Error> in
                Result {
                    let job = jobs[slot]
                    if job == tierNames.count {
                        return .splitCounts(try Self.writeDocuments(from: documentPath, root: root, tierNames: tierNames, assignment: assignment))
                    }
                    return .shards(try Self.routeScenes(
                        from: scenePaths[job], tier: tierNames[job], root: root, shardBytes: shardBytes, assignment: assignment))
                }
            },
            consume: { _, result in
                switch try result.get() {
                case .shards(let shards):
                    shardList += shards
                case .splitCounts(let splitCounts):
                    for (tier, (train, validation)) in splitCounts.enumerated() {
                        counts[tier].train = train
                        counts[tier].validation = validation
                    }
                }
            })
        let tierOrder = Dictionary(uniqueKeysWithValues: tierNames.enumerated().map { ($1, $0) })
        shardList.sort {
            ($0.split == .train ? 0 : 1, tierOrder[$0.tier]!, $0.path) < ($1.split == .train ? 0 : 1, tierOrder[$1.tier]!, $1.path)
        }
        try FileManager.default.removeItem(at: workDirectory)

        let summaries = tiers.enumerated().map { TierSummary(name: $1.name, inputs: $1.inputs, counts: counts[$0]) }
        return CorpusManifest(
            format: CorpusManifest.formatName, version: CorpusManifest.currentVersion, loomVersion: LoomVersion.string,
            settings: CorpusSettings(options), tiers: summaries,
            total: counts.reduce(into: CorpusCounts()) { $0.add($1) },
            shards: shardList, documentsFile: CorpusManifest.documentsFileName,
            sources: sources, rejects: rejects, skipped: skipped)
    }

    private enum RoutingOutput: Sendable {
        case shards([ShardInfo])
        /// Per tier: train and validation counts.
        case splitCounts([(SplitCounts, SplitCounts)])
    }

    private func fileSize(job: Int, _ scenePaths: [String], _ documentPath: String) -> Int {
        let path = job < scenePaths.count ? scenePaths[job] : documentPath
        return ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }

    /// One tier's kept scenes, in input order, into its train and validation shards.
    private static func routeScenes(
        from path: String, tier: String, root: URL, shardBytes: Int, assignment: SplitAssignment
    ) throws -> [ShardInfo] {
        let shards = try ShardSet(root: root, shardBytes: shardBytes)
        var lastDocument = ""
        var split = CorpusSplit.train
        try LineReader(path: path).forEachLine { line in
            let document = String(decoding: UnsafeBufferPointer(rebasing: line[8..<24]), as: UTF8.self)
            if document != lastDocument {
                lastDocument = document
                split = assignment.split(tier: tier, document: document)
            }
            try shards.write(line, split: split, tier: tier)
        }
        return try shards.finish()
    }

    /// documents.jsonl with each document's split inserted after its id; the split counts per tier
    /// come from the same records.
    private static func writeDocuments(
        from path: String, root: URL, tierNames: [String], assignment: SplitAssignment
    ) throws -> [(SplitCounts, SplitCounts)] {
        var splitCounts = Array(repeating: (SplitCounts(), SplitCounts()), count: tierNames.count)
        let documents = try BufferedFileWriter(path: root.appendingPathComponent(CorpusManifest.documentsFileName).path)
        try LineReader(path: path).forEachLine { line in
            let record = try CorpusDocument.decode(line, source: path)
            let split = assignment.split(tier: record.tier, document: record.doc)
            let tier = tierNames.firstIndex(of: record.tier)!
            let counts = SplitCounts(documents: 1, scenes: record.scenes, bytes: record.bytes, characters: record.characters, words: record.words)
            if split == .train { splitCounts[tier].0.add(counts) } else { splitCounts[tier].1.add(counts) }
            let idPrefix = 8 + 16 + 2  // {"doc":"<16 hex>",
            try documents.write(UnsafeBufferPointer(rebasing: line[..<idPrefix]))
            try documents.write(Array("\"split\":\"\(split.rawValue)\",".utf8))
            try documents.write(UnsafeBufferPointer(rebasing: line[idPrefix...]))
            try documents.write(CollectionOfOne(0x0A))
        }
        _ = try documents.finish()
        return splitCounts
    }
}
