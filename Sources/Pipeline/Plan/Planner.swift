// Planner — turns a validated recipe into one fingerprinted plan per selected variant.
//
// fingerprint = sha256(canonical JSON of: kind, kind version, parameters with input paths as written,
// the content digest of every input path, and the fingerprints of the upstream stages by name).
// Stages whose fingerprints match — in another variant, another run, another recipe — are one
// computation: executed once, cached once.
import Foundation
import LoomCore

public struct Planner {
    /// Bumped only if the fingerprint's own layout changes (every cache entry would be invalidated).
    public static let fingerprintFormat = 1

    public let digester: FileDigester

    public init(digester: FileDigester) {
        self.digester = digester
    }

    /// Plans for `selected` variants (all of them when empty). Unknown names are recipe errors.
    public func plans(for recipe: Recipe, variants selected: [String]) throws -> [Plan] {
        let names = try variantNames(recipe, selected: selected)
        let plans = try names.map { name in try plan(recipe, variant: name) }
        try digester.save()
        return plans
    }

    func variantNames(_ recipe: Recipe, selected: [String]) throws -> [String] {
        if recipe.variantNames.isEmpty {
            if let first = selected.first {
                throw RecipeErrorList([RecipeError("--variant \(first): this recipe has no variants", at: recipe.variantsLocation)])
            }
            return [""]
        }
        if selected.isEmpty { return recipe.variantNames }
        var errors: [RecipeError] = []
        for name in selected where !recipe.variantNames.contains(name) {
            errors.append(RecipeError(
                "unknown variant '\(name)'\(NearestName.hint(for: name, among: recipe.variantNames)) (variants: \(recipe.variantNames.joined(separator: ", ")))",
                at: recipe.variantsLocation, keyPath: "variants"))
        }
        if !errors.isEmpty { throw RecipeErrorList(errors) }
        var seen = Set<String>()
        return selected.filter { seen.insert($0).inserted }
    }

    func plan(_ recipe: Recipe, variant: String) throws -> Plan {
        var fingerprints: [String: String] = [:]
        var stages: [PlannedStage] = []
        for stage in recipe.variants[variant] ?? [] {
            var digests: [String: String] = [:]
            for path in stage.params.paths {
                digests[path.keyPath] = try digester.digest(of: path)
            }
            var inputs: [String: String] = [:]
            for upstream in stage.after { inputs[upstream] = fingerprints[upstream] }
            let fingerprint = Planner.fingerprint(
                kind: stage.descriptor.name, version: stage.descriptor.version, portableParams: stage.params.portable,
                pathDigests: digests, inputFingerprints: inputs)
            fingerprints[stage.name] = fingerprint
            stages.append(PlannedStage(
                name: stage.name, kind: stage.descriptor.name, kindVersion: stage.descriptor.version,
                executable: stage.descriptor.executable, after: stage.after, params: stage.params.resolved,
                portableParams: stage.params.portable, pathDigests: digests, inputFingerprints: inputs,
                fingerprint: fingerprint))
        }
        return Plan(recipeName: recipe.name, recipeFile: recipe.file.path, projectDirectory: recipe.projectDirectory.path,
                    variant: variant, stages: stages, executor: recipe.executor)
    }

    public static func fingerprint(
        kind: String, version: Int, portableParams: JSONValue, pathDigests: [String: String], inputFingerprints: [String: String]
    ) -> String {
        let material = JSONValue.object([
            "format": .int(fingerprintFormat),
            "kind": .string(kind),
            "version": .int(version),
            "params": portableParams,
            "paths": .object(pathDigests.mapValues { .string($0) }),
            "inputs": .object(inputFingerprints.mapValues { .string($0) }),
        ])
        return Digest.sha256Hex(material.canonicalJSON)
    }
}
