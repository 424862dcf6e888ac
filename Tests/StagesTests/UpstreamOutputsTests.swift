// UpstreamOutputsTests — how kinds find their inputs: by the kind recorded in each upstream cache
// manifest, with errors that name what `after:` holds; and the base model reference `pretrain-base`
// writes for `base.path`, followed to the model directory (or refused when it is not a model).
import Foundation
import LoomCore
import Pipeline
import Stages
import TestSupport
import Testing

@Suite struct UpstreamOutputsTests {
    let scratch: ScratchDirectory

    init() throws { scratch = try ScratchDirectory("loom-upstream") }

    /// A directory that looks like a cache entry produced by `kind` (its manifest names the kind).
    func entry(_ name: String, kind: String) throws -> URL {
        let directory = scratch.path("cache/\(name)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let manifest = CacheManifest(
            fingerprint: name, kind: kind, kindVersion: 1, params: .object([:]), inputs: [:], producerRun: 1,
            producerStage: name, producerAttempt: 1, createdAt: 0, artifacts: [])
        try AtomicFile.write(manifest.json.prettyJSON, to: directory.appendingPathComponent(StoreLayout.manifestName))
        return directory
    }

    /// A minimal Hugging Face model directory (config.json is what marks it).
    func modelDirectory(_ name: String) throws -> URL {
        let directory = scratch.path(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try AtomicFile.write(#"{"model_type": "llama"}"#, to: directory.appendingPathComponent("config.json"))
        return directory
    }

    @Test func inputsAreFoundByTheKindThatProducedThem() throws {
        let books = try entry("books", kind: "corpus")
        let words = try entry("words", kind: "base-tokenizer")
        let upstream = UpstreamOutputs(stage: "hyperwords", inputDirectories: ["books": books, "words": words])
        #expect(try upstream.directory(ofKind: "corpus") == books)
        #expect(try upstream.baseTokenizerDirectory() == words)
        #expect(try upstream.optionalDirectory(ofKind: "train") == nil)
        #expect(throws: UpstreamError.self) { try upstream.extendedTokenizerDirectory() }
        do {
            _ = try upstream.extendedTokenizerDirectory()
        } catch {
            #expect("\(error)" == "stage hyperwords needs the output of a `hyperwords` stage: add that stage to its `after:` list (its inputs: books (corpus), words (base-tokenizer))")
        }
    }

    @Test func twoInputsOfOneKindAreAnError() throws {
        let upstream = UpstreamOutputs(stage: "eval", inputDirectories: ["a": try entry("a", kind: "corpus"), "b": try entry("b", kind: "corpus")])
        do {
            _ = try upstream.corpus()
            Issue.record("two corpus inputs were accepted")
        } catch {
            #expect("\(error)" == "stage eval has 2 upstream `corpus` stages (a, b); keep one in its `after:` list")
        }
    }

    @Test func aBaseModelIsItsOutputOrTheDirectoryItsReferenceNames() throws {
        let pretrained = try entry("pretrained", kind: "pretrain-base")
        try AtomicFile.write("{}", to: pretrained.appendingPathComponent("config.json"))
        #expect(try UpstreamOutputs(stage: "extend", inputDirectories: ["base": pretrained]).baseModelDirectory() == pretrained)

        let model = try modelDirectory("models/qwen")
        let passThrough = try entry("pass", kind: "pretrain-base")
        try BaseModelReference.write(pointingTo: model, into: passThrough)
        let upstream = UpstreamOutputs(stage: "hyperwords", inputDirectories: ["base": passThrough])
        #expect(try upstream.baseModelDirectory().path == model.standardizedFileURL.path)
        // Without a base-tokenizer stage, the tokenizer is the base model's.
        #expect(try upstream.baseTokenizerDirectory().path == model.standardizedFileURL.path)
    }

    @Test func aReferenceToSomethingThatIsNoModelIsRefused() throws {
        let notAModel = scratch.path("models/empty")
        try FileManager.default.createDirectory(at: notAModel, withIntermediateDirectories: true)
        let passThrough = try entry("pass", kind: "pretrain-base")
        try BaseModelReference.write(pointingTo: notAModel, into: passThrough)
        do {
            _ = try BaseModelReference.resolve(passThrough)
            Issue.record("a directory without config.json was accepted")
        } catch {
            #expect("\(error)" == "the base model directory \(notAModel.standardizedFileURL.path) (named by \(passThrough.path)/base-model.json) holds no config.json: not a Hugging Face model directory")
        }
        let empty = try entry("empty", kind: "pretrain-base")
        #expect(throws: UpstreamError.self) { try BaseModelReference.resolve(empty) }
    }
}
