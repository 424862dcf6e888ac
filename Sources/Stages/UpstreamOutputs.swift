// UpstreamOutputs — how a stage kind finds what its upstream stages produced. Inputs are found by the
// KIND that produced them (read from each input's cache manifest, `.loom-complete.json`), never by
// stage name, so a recipe may call its stages what it likes: `hyperwords` reads "the corpus stage"
// whether the recipe named it `corpus` or `books`.
//
// It also gives the typed views the kinds share (the model kinds in ModelStages included):
//   corpus()                      the CorpusReader of the upstream `synthesize` stage when there is one
//                                 (the corpus plus its synthetic tier), else of the `corpus` stage
//   baseTokenizerDirectory()      the upstream `base-tokenizer` output, else the base model directory
//   baseModelDirectory()          the upstream `pretrain-base` output, following its pass-through
//                                 reference (`base-model.json`) when the recipe gave `base.path`
//   extendedTokenizerDirectory()  the upstream `hyperwords` output (tokenizer.json + hyperwords.json)
import Corpus
import Foundation
import Pipeline

public struct UpstreamOutputs: Sendable {
    /// One upstream stage: its name, the kind that produced its output, and the output directory.
    public struct Input: Sendable, Equatable {
        public let stage: String
        /// nil when the directory carries no readable cache manifest.
        public let kind: String?
        public let directory: URL
    }

    /// The stage that reads these inputs (named in error messages).
    public let stage: String
    /// Every upstream output, sorted by stage name.
    public let inputs: [Input]

    public init(_ context: StageContext) {
        self.init(stage: context.stage, inputDirectories: context.inputDirectories)
    }

    public init(stage: String, inputDirectories: [String: URL]) {
        self.stage = stage
        inputs = inputDirectories.sorted { $0.key < $1.key }.map { name, directory in
            Input(stage: name, kind: Self.producingKind(of: directory), directory: directory)
        }
    }

    /// The kind recorded in a cache entry's manifest.
    static func producingKind(of directory: URL) -> String? {
        let file = directory.appendingPathComponent(StoreLayout.manifestName)
        guard let data = FileManager.default.contents(atPath: file.path), let json = try? JSONValue.parse(data) else { return nil }
        return json["kind"]?.stringValue
    }

    public func inputs(ofKind kind: String) -> [Input] { inputs.filter { $0.kind == kind } }

    /// The output of the one upstream stage of `kind`; an error names what `after:` holds instead.
    public func directory(ofKind kind: String) throws -> URL {
        guard let directory = try optionalDirectory(ofKind: kind) else {
            throw UpstreamError("stage \(stage) needs the output of a `\(kind)` stage: add that stage to its `after:` list (its inputs: \(inputList))")
        }
        return directory
    }

    /// The output of the upstream stage of `kind`, nil when there is none; two of them are an error.
    public func optionalDirectory(ofKind kind: String) throws -> URL? {
        let matching = inputs(ofKind: kind)
        guard matching.count <= 1 else {
            throw UpstreamError("stage \(stage) has \(matching.count) upstream `\(kind)` stages (\(matching.map(\.stage).joined(separator: ", "))); keep one in its `after:` list")
        }
        return matching.first?.directory
    }

    private var inputList: String {
        inputs.isEmpty ? "none" : inputs.map { "\($0.stage) (\($0.kind ?? "unknown kind"))" }.joined(separator: ", ")
    }

    // MARK: typed views

    /// The corpus of the upstream `synthesize` stage (the corpus with a synthetic tier added), else the
    /// one built by the upstream `corpus` stage.
    public func corpus() throws -> CorpusReader {
        if let synthesized = try optionalDirectory(ofKind: SynthesizeStage.descriptor.name) {
            return try CorpusReader(directory: synthesized)
        }
        return try CorpusReader(directory: directory(ofKind: CorpusStage.descriptor.name))
    }

    /// Where the base tokenizer is: the upstream `base-tokenizer` output, or else the base model's
    /// directory (a Hugging Face model directory holds its tokenizer).
    public func baseTokenizerDirectory() throws -> URL {
        if let directory = try optionalDirectory(ofKind: BaseTokenizerStage.descriptor.name) { return directory }
        if try optionalDirectory(ofKind: PretrainBaseKind.descriptor.name) != nil { return try baseModelDirectory() }
        throw UpstreamError(
            "stage \(stage) needs a base tokenizer: add a `\(BaseTokenizerStage.descriptor.name)` (or `\(PretrainBaseKind.descriptor.name)`) stage to its `after:` list (its inputs: \(inputList))")
    }

    /// The base model's Hugging Face directory: the upstream `pretrain-base` output, or the directory
    /// its `base-model.json` names when the recipe gave an existing model (`base.path`).
    public func baseModelDirectory() throws -> URL {
        try BaseModelReference.resolve(directory(ofKind: PretrainBaseKind.descriptor.name))
    }

    /// The extended tokenizer (tokenizer.json + hyperwords.json) of the upstream `hyperwords` stage.
    public func extendedTokenizerDirectory() throws -> URL {
        try directory(ofKind: HyperwordsStage.descriptor.name)
    }
}

public struct UpstreamError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
