// ModelWeightFiles — the tensors of a Hugging Face model directory: `model.safetensors`, or shards
// listed by `model.safetensors.index.json`. Safetensors only: pickle checkpoints (`*.bin`) are never
// opened. Every tensor is checked against the shape the configuration implies, and anything missing,
// unexpected or mis-shaped is an error naming the file, the tensor and the expected shape.
import Foundation
import Torch

final class ModelWeightFiles {
    static let singleFileName = "model.safetensors"
    static let indexFileName = "model.safetensors.index.json"

    let directory: URL
    /// Which file holds each tensor.
    private let location: [String: SafeTensorsFile]
    /// What a missing tensor's error names: the single file or the index.
    private let listingFile: String
    private var consumed: Set<String> = []

    init(directory: URL) throws {
        self.directory = directory
        let single = directory.appendingPathComponent(Self.singleFileName)
        let index = directory.appendingPathComponent(Self.indexFileName)
        let manager = FileManager.default
        if manager.fileExists(atPath: single.path) {
            let file = try SafeTensorsFile(url: single)
            location = Dictionary(uniqueKeysWithValues: file.names.map { ($0, file) })
            listingFile = single.path
        } else if manager.fileExists(atPath: index.path) {
            location = try Self.readIndex(index, directory: directory)
            listingFile = index.path
        } else {
            let pickles = ((try? manager.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".bin") || $0.hasSuffix(".pt") }
            let hint = pickles.isEmpty ? "" : " (found \(pickles.sorted().joined(separator: ", ")): Loom never loads pickle checkpoints; convert them to safetensors first)"
            throw ModelFileError(file: directory.path, problem: "holds neither \(Self.singleFileName) nor \(Self.indexFileName)\(hint)")
        }
    }

    /// Tensor names present in the files.
    var names: Set<String> { Set(location.keys) }

    func contains(_ name: String) -> Bool { location[name] != nil }

    /// The tensor `name`, checked against `shape`, floating point converted to `dtype` (bf16/f16
    /// checkpoints upcast to f32 in one pass while copying out of the mapping).
    func tensor(_ name: String, shape: [Int], dtype: DType = .float32) throws -> Tensor {
        guard let file = location[name] else {
            throw ModelFileError(file: listingFile, key: name, problem: "missing tensor (expected shape \(shape))")
        }
        let info = try file.info(name)
        guard info.shape == shape else {
            throw ModelFileError(file: file.url.path, key: name, problem: "has shape \(info.shape), expected \(shape)")
        }
        guard info.dtype.isFloatingPoint else {
            throw ModelFileError(file: file.url.path, key: name, problem: "has dtype \(info.dtype), expected a floating-point type")
        }
        consumed.insert(name)
        return try file.tensor(name, as: dtype)
    }

    /// Marks tensors that are known and deliberately not used (e.g. a tied head saved anyway).
    func skip(_ name: String) { consumed.insert(name) }

    /// Throws for the first tensor (in name order) that nothing read: the checkpoint is not the model
    /// the configuration describes.
    func checkAllConsumed(configuration: String) throws {
        let unexpected = location.keys.filter { !consumed.contains($0) && !Self.ignorable($0) }.sorted()
        guard let first = unexpected.first, let file = location[first] else { return }
        let more = unexpected.count > 1 ? " (and \(unexpected.count - 1) more)" : ""
        throw ModelFileError(file: file.url.path, key: first, problem: "unexpected tensor: not part of the model \(configuration) describes\(more)")
    }

    /// Buffers older transformers versions saved that carry no learned values.
    private static func ignorable(_ name: String) -> Bool {
        name.hasSuffix(".rotary_emb.inv_freq")
    }

    private static func readIndex(_ index: URL, directory: URL) throws -> [String: SafeTensorsFile] {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(contentsOf: index))
        } catch {
            throw ModelFileError(file: index.path, problem: "not valid JSON (\(error.localizedDescription))")
        }
        guard let root = object as? [String: Any], let map = root["weight_map"] else {
            throw ModelFileError(file: index.path, key: "weight_map", problem: "required key is missing")
        }
        guard let weightMap = map as? [String: String] else {
            throw ModelFileError(file: index.path, key: "weight_map", problem: "expected an object mapping tensor names to file names")
        }
        var shards: [String: SafeTensorsFile] = [:]
        var location: [String: SafeTensorsFile] = [:]
        for (name, shardName) in weightMap.sorted(by: { $0.key < $1.key }) {
            guard !shardName.contains("/"), !shardName.hasPrefix(".") else {
                throw ModelFileError(file: index.path, key: "weight_map.\(name)", problem: "\"\(shardName)\" is not a file name in the model directory")
            }
            let shard: SafeTensorsFile
            if let open = shards[shardName] {
                shard = open
            } else {
                let url = directory.appendingPathComponent(shardName)
                guard FileManager.default.fileExists(atPath: url.path) else {
                    throw ModelFileError(file: index.path, key: "weight_map.\(name)", problem: "names \(shardName), which does not exist")
                }
                shard = try SafeTensorsFile(url: url)
                shards[shardName] = shard
            }
            guard shard.entries[name] != nil else {
                throw ModelFileError(file: shard.url.path, key: name, problem: "missing tensor (\(Self.indexFileName) places it in this file)")
            }
            location[name] = shard
        }
        return location
    }
}
