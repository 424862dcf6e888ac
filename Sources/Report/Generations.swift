// Generations — the eval stage's `generations.json` artifact (`[{"prompt", "base", "tuned", "seed"}]`,
// see METRICS-CONTRACT) found through the run store, and the prompts of several runs lined up side by
// side. A missing or malformed file becomes a note in the report, never a failed report.
import Foundation
import Pipeline

public struct Generation: Sendable, Equatable {
    public let prompt: String
    public let base: String
    public let tuned: String
    public let seed: Int?

    public init(prompt: String, base: String, tuned: String, seed: Int?) {
        self.prompt = prompt
        self.base = base
        self.tuned = tuned
        self.seed = seed
    }

    public static let artifactFileName = "generations.json"

    /// Parses the artifact's JSON; errors name the item and the field that is wrong.
    public static func parse(_ data: Data) throws -> [Generation] {
        let json: JSONValue
        do {
            json = try JSONValue.parse(data)
        } catch {
            throw GenerationsError("\(error)")
        }
        guard let items = json.arrayValue else {
            throw GenerationsError("expected a JSON array of {prompt, base, tuned, seed}, found \(json.typeDescription)")
        }
        return try items.enumerated().map { index, item in
            func text(_ field: String) throws -> String {
                guard let value = item[field]?.stringValue else {
                    throw GenerationsError("item \(index): \"\(field)\" must be a string")
                }
                return value
            }
            guard item.objectValue != nil else { throw GenerationsError("item \(index): expected an object, found \(item.typeDescription)") }
            return Generation(prompt: try text("prompt"), base: try text("base"), tuned: try text("tuned"), seed: item["seed"]?.intValue)
        }
    }
}

public struct GenerationsError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// One prompt (with its seed) across the runs: the base model's and each tuned model's text.
public struct GenerationRow: Sendable, Equatable {
    public let prompt: String
    public let seed: Int?
    /// One per run; nil where the run has no generation for this prompt.
    public let base: [String?]
    public let tuned: [String?]

    /// The base text when every run that has one produced the same (same base model, same seed).
    public var agreedBase: String? {
        let present = base.compactMap { $0 }
        guard let first = present.first, present.allSatisfy({ $0 == first }) else { return nil }
        return first
    }
}

public struct GenerationTable: Sendable {
    public let rows: [GenerationRow]
    /// Runs (by index) that recorded no generations artifact.
    public let runsWithout: [Int]
    /// Why an artifact that exists could not be shown (missing file, bad JSON), per run.
    public let problems: [String]

    /// Reads every run's artifact. `labels` name the runs in problem notes.
    init(store: RunStore, runs: [RunRecord], labels: [String]) throws {
        var perRun: [[Generation]] = []
        var without: [Int] = []
        var problems: [String] = []
        for (index, run) in runs.enumerated() {
            guard let file = try Self.artifactFile(store: store, run: run.id) else {
                without.append(index)
                perRun.append([])
                continue
            }
            do {
                perRun.append(try Generation.parse(Data(contentsOf: file)))
            } catch let error as GenerationsError {
                problems.append("\(labels[index]): \(file.path): \(error.description)")
                perRun.append([])
            } catch {
                problems.append("\(labels[index]): cannot read \(file.path) (\(ErrorText.describe(error))); "
                    + "was the cache entry removed by `loom gc`?")
                perRun.append([])
            }
        }
        rows = Self.lineUp(perRun)
        runsWithout = without
        self.problems = problems
    }

    /// The file of the first finished stage (in pipeline order) that recorded a `generations.json`.
    static func artifactFile(store: RunStore, run: Int64) throws -> URL? {
        let stages = try store.stages(ofRun: run)
        for (stage, artifacts) in try store.artifacts(ofRun: run) {
            guard let record = stages.first(where: { $0.name == stage }), record.status.isDone,
                  let artifact = artifacts.first(where: { ($0.path as NSString).lastPathComponent == Generation.artifactFileName })
            else { continue }
            return store.layout.cacheEntry(record.fingerprint).appendingPathComponent(artifact.path)
        }
        return nil
    }

    /// Rows keyed by (prompt, seed), in the order they first appear.
    static func lineUp(_ perRun: [[Generation]]) -> [GenerationRow] {
        struct Key: Hashable { let prompt: String; let seed: Int? }
        var order: [Key] = []
        var base: [Key: [String?]] = [:]
        var tuned: [Key: [String?]] = [:]
        for (index, generations) in perRun.enumerated() {
            for generation in generations {
                let key = Key(prompt: generation.prompt, seed: generation.seed)
                if base[key] == nil {
                    order.append(key)
                    base[key] = Array(repeating: nil, count: perRun.count)
                    tuned[key] = Array(repeating: nil, count: perRun.count)
                }
                if base[key]![index] == nil {
                    base[key]![index] = generation.base
                    tuned[key]![index] = generation.tuned
                }
            }
        }
        return order.map { GenerationRow(prompt: $0.prompt, seed: $0.seed, base: base[$0]!, tuned: tuned[$0]!) }
    }
}
