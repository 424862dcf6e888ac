// ParameterConstraintError — a parameter value that passed the schema (type, range) but breaks a rule
// between keys (`model.num_attention_heads` must divide `model.hidden_size`). The schema checks keys
// one at a time when the recipe is validated; these rules are checked when a kind decodes its
// parameters, and the message names the key path as a recipe error would.
public struct ParameterConstraintError: Error, CustomStringConvertible, Equatable {
    public let keyPath: String
    public let problem: String

    public init(_ keyPath: String, _ problem: String) {
        self.keyPath = keyPath
        self.problem = problem
    }

    public var description: String { "\(keyPath): \(problem)" }
}
