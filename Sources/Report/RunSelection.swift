// RunSelection — the runs that `compare` and `report` put side by side: each reference (`7`, `latest`,
// `demo`, `demo/core`) resolved in the order given, a run named twice kept once.
import Pipeline

extension RunStore {
    public func resolveRuns(_ references: [String]) throws -> [RunRecord] {
        var records: [RunRecord] = []
        for reference in references {
            for record in try resolveRuns(reference) where !records.contains(where: { $0.id == record.id }) {
                records.append(record)
            }
        }
        return records
    }
}
