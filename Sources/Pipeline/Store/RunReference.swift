// RunReference — how people name runs on the command line: a run id (`7`), `latest`, a recipe
// (`demo`: its latest run of each variant) or a recipe and variant (`demo/core`: its latest run).
extension RunStore {
    public func resolveRuns(_ reference: String) throws -> [RunRecord] {
        if let id = Int64(reference) {
            guard let run = try run(id) else { throw RunStoreError.unknownRun(reference) }
            return [run]
        }
        if reference == "latest" {
            guard let run = try runs(limit: 1).first else { throw RunStoreError.unknownRun(reference) }
            return [run]
        }
        let parts = reference.split(separator: "/", maxSplits: 1).map(String.init)
        let recipe = parts[0]
        if parts.count == 2 {
            guard let run = try runs(recipe: recipe, variant: parts[1], limit: 1).first else {
                throw RunStoreError.unknownRun(reference)
            }
            return [run]
        }
        var latestPerVariant: [String: RunRecord] = [:]
        for run in try runs(recipe: recipe) where latestPerVariant[run.variant] == nil {
            latestPerVariant[run.variant] = run
        }
        guard !latestPerVariant.isEmpty else { throw RunStoreError.unknownRun(reference) }
        return latestPerVariant.values.sorted { $0.id < $1.id }
    }

    /// Exactly one run (for `show`, `logs`, `resume`).
    public func resolveRun(_ reference: String) throws -> RunRecord {
        let runs = try resolveRuns(reference)
        guard runs.count == 1 else {
            throw RunStoreError.ambiguousRun(reference, runs.map { "\($0.id) (\($0.label))" })
        }
        return runs[0]
    }
}
