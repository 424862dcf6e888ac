// ModelVerbSupport — what the model verbs share: loading a model with an optional adapter, reading a
// token-sequence file with errors that name the file and the position, parsing id lists, JSON output.
import ArgumentParser
import Foundation
import LLM
import Torch

/// A bad input found while a verb runs (ArgumentParser prints it as "Error: …", without the usage text
/// it adds to a ValidationError).
struct VerbError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum ModelVerbSupport {
    /// The model at `path` (with `adapter`) on the device `--device` names (auto, cpu, cuda, cuda:N),
    /// checked against the devices the linked libtorch sees before any weight is read.
    static func loadModel(_ path: String, adapter: String?, device: String) throws -> any CausalLanguageModel {
        let resolved: Device
        do {
            resolved = try Device.resolve(device)
        } catch let error as TorchError {
            throw VerbError("--device: \(error.message)")
        }
        return try loadCausalLM(from: URL(fileURLWithPath: path), adapter: adapter.map { URL(fileURLWithPath: $0) }, device: resolved)
    }

    /// A JSON array of token-id arrays, each of at least 2 ids inside the vocabulary.
    static func readSequences(_ path: String, vocabulary: Int) throws -> [[Int]] {
        guard FileManager.default.fileExists(atPath: path) else { throw VerbError("\(path): no such file") }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw VerbError("\(path): cannot read (\(error.localizedDescription))")
        }
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw VerbError("\(path): not valid JSON (\(error.localizedDescription))")
        }
        guard let sequences = root as? [Any], !sequences.isEmpty else {
            throw VerbError("\(path): expected a non-empty JSON array of token-id arrays")
        }
        return try sequences.enumerated().map { index, element in
            guard let items = element as? [Any] else { throw VerbError("\(path): [\(index)]: expected an array of token ids") }
            guard items.count >= 2 else { throw VerbError("\(path): [\(index)]: a sequence needs at least 2 tokens to be scored, found \(items.count)") }
            return try items.enumerated().map { position, item in
                guard let number = item as? NSNumber, String(cString: number.objCType) != "c", number.doubleValue.rounded() == number.doubleValue else {
                    throw VerbError("\(path): [\(index)][\(position)]: expected an integer token id, found \(item)")
                }
                let id = number.intValue
                guard (0..<vocabulary).contains(id) else {
                    throw VerbError("\(path): [\(index)][\(position)]: token id \(id) is outside the model's vocabulary (0..<\(vocabulary))")
                }
                return id
            }
        }
    }

    /// "1,2,3" → [1, 2, 3].
    static func parseIds(_ text: String, option: String) throws -> [Int] {
        try text.split(separator: ",").map { piece in
            guard let id = Int(piece.trimmingCharacters(in: .whitespaces)) else { throw VerbError("\(option): \"\(piece)\" is not a token id") }
            return id
        }
    }

    static func printJSON(_ object: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
    }
}
