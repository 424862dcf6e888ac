// CacheManifest — `.loom-complete.json` in a cache entry: what was computed (kind, version, portable
// params, inputs), who computed it (run, stage, attempt) and every output file's digest. It is
// written before the entry is renamed into `cache/`, so an entry with a manifest is complete.
import Foundation
import LoomCore

public struct CacheManifest: Sendable, Equatable {
    public let fingerprint: String
    public let kind: String
    public let kindVersion: Int
    public let params: JSONValue
    public let inputs: [String: String]
    public let producerRun: Int64
    public let producerStage: String
    public let producerAttempt: Int
    public let createdAt: Double
    public let artifacts: [ArtifactRecord]

    public var json: JSONValue {
        .object([
            "fingerprint": .string(fingerprint),
            "kind": .string(kind),
            "version": .int(kindVersion),
            "params": params,
            "inputs": .object(inputs.mapValues { .string($0) }),
            "producer": .object(["run": .int(Int(producerRun)), "stage": .string(producerStage), "attempt": .int(producerAttempt)]),
            "created": .double(createdAt),
            "artifacts": .array(artifacts.map {
                .object(["name": .string($0.name), "path": .string($0.path), "sha256": .string($0.sha256), "bytes": .int(Int($0.bytes))])
            }),
        ])
    }

    public init(
        fingerprint: String, kind: String, kindVersion: Int, params: JSONValue, inputs: [String: String],
        producerRun: Int64, producerStage: String, producerAttempt: Int, createdAt: Double, artifacts: [ArtifactRecord]
    ) {
        self.fingerprint = fingerprint
        self.kind = kind
        self.kindVersion = kindVersion
        self.params = params
        self.inputs = inputs
        self.producerRun = producerRun
        self.producerStage = producerStage
        self.producerAttempt = producerAttempt
        self.createdAt = createdAt
        self.artifacts = artifacts
    }

    public init(json: JSONValue) throws {
        guard let fingerprint = json["fingerprint"]?.stringValue, let kind = json["kind"]?.stringValue,
              let version = json["version"]?.intValue, let producer = json["producer"],
              let run = producer["run"]?.intValue, let stage = producer["stage"]?.stringValue else {
            throw PlanDecodingError(key: "manifest")
        }
        self.init(
            fingerprint: fingerprint, kind: kind, kindVersion: version, params: json["params"] ?? .object([:]),
            inputs: (json["inputs"]?.objectValue ?? [:]).compactMapValues(\.stringValue),
            producerRun: Int64(run), producerStage: stage, producerAttempt: producer["attempt"]?.intValue ?? 1,
            createdAt: json["created"]?.doubleValue ?? 0,
            artifacts: (json["artifacts"]?.arrayValue ?? []).compactMap { item in
                guard let name = item["name"]?.stringValue, let path = item["path"]?.stringValue,
                      let sha = item["sha256"]?.stringValue, let bytes = item["bytes"]?.intValue else { return nil }
                return ArtifactRecord(name: name, path: path, sha256: sha, bytes: Int64(bytes))
            })
    }

    public static func read(_ layout: StoreLayout, fingerprint: String) -> CacheManifest? {
        guard let data = FileManager.default.contents(atPath: layout.manifest(fingerprint).path),
              let json = try? JSONValue.parse(data) else { return nil }
        return try? CacheManifest(json: json)
    }

    /// Digests every file under `directory` (relative paths, sorted); `names` maps paths to artifact names.
    public static func artifacts(in directory: URL, names: [String: String]) throws -> [ArtifactRecord] {
        let root = directory.standardizedFileURL.path
        return try PathPattern.files(under: root).map { file in
            let relative = String(file.dropFirst(root.count + 1))
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            let bytes = (attributes[.size] as? NSNumber)?.int64Value ?? 0
            return ArtifactRecord(name: names[relative] ?? relative, path: relative,
                                  sha256: try Digest.sha256Hex(fileAt: URL(fileURLWithPath: file)), bytes: bytes)
        }
    }
}
