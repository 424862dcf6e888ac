// KindParameters — a kind's parameters decoded into a struct (`TrainKind.Parameters.load(context.params)`)
// and checked against the rules between keys (`model.num_attention_heads` must divide
// `model.hidden_size`). The schema checks keys one at a time when the recipe is validated; these rules
// are checked when a kind decodes its parameters, and a broken one is a ParameterConstraintError whose
// message names the key path as a recipe error would.
import Pipeline

public protocol KindParameters: Decodable {
    /// Throws a ParameterConstraintError for values that break a rule between keys.
    func validate() throws
}

extension KindParameters {
    /// Decodes the resolved parameters (snake_case keys) and checks the rules between them.
    public static func load(_ params: StageParameters) throws -> Self {
        let decoded = try params.decode(Self.self)
        try decoded.validate()
        return decoded
    }

    public func validate() throws {}
}

public struct ParameterConstraintError: Error, CustomStringConvertible, Equatable {
    public let keyPath: String
    public let problem: String

    public init(_ keyPath: String, _ problem: String) {
        self.keyPath = keyPath
        self.problem = problem
    }

    public var description: String { "\(keyPath): \(problem)" }
}
