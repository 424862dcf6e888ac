// BaseModelReference — what a `pretrain-base` stage writes when the recipe names an existing Hugging
// Face model directory (`base.path`) instead of pretraining one: a small `base-model.json` pointing at
// it. The model is never copied into the cache (a 14B model is 28 GB); its content digest is in the
// stage's fingerprint already, because `path` is an input path parameter.
//
// Every kind that needs the base model resolves the `pretrain-base` output through `resolve(_:)`:
// a pretrained directory is used as is, a reference is followed.
import Foundation
import LoomCore

public struct BaseModelReference: Codable, Sendable, Equatable {
    public static let fileName = "base-model.json"
    public static let formatName = "loom-base-model-reference"

    public let format: String
    /// The model directory, absolute.
    public let path: String

    public init(path: URL) {
        format = Self.formatName
        self.path = path.standardizedFileURL.path
    }

    /// Writes the reference to `model` into the stage output `directory`.
    public static func write(pointingTo model: URL, into directory: URL) throws {
        try AtomicFile.writeJSON(BaseModelReference(path: model), to: directory.appendingPathComponent(fileName))
    }

    /// The Hugging Face model directory a `pretrain-base` output stands for.
    public static func resolve(_ directory: URL) throws -> URL {
        let reference = directory.appendingPathComponent(fileName)
        var model = directory
        if FileManager.default.fileExists(atPath: reference.path) {
            let decoded: BaseModelReference
            do {
                decoded = try JSONDecoder().decode(BaseModelReference.self, from: Data(contentsOf: reference))
            } catch {
                throw UpstreamError("\(reference.path): not a base model reference (\(error))")
            }
            guard decoded.format == formatName else {
                throw UpstreamError("\(reference.path): format \"\(decoded.format)\" is not \(formatName)")
            }
            model = URL(fileURLWithPath: decoded.path)
        }
        guard FileManager.default.fileExists(atPath: model.appendingPathComponent("config.json").path) else {
            let what = model == directory ? "the base model output \(directory.path)" : "the base model directory \(model.path) (named by \(reference.path))"
            throw UpstreamError("\(what) holds no config.json: not a Hugging Face model directory")
        }
        return model
    }
}
