// KindParameters — a kind's parameters decoded into a struct (`TrainKind.Parameters.load(context.params)`)
// and checked against the rules between keys (`model.num_attention_heads` must divide
// `model.hidden_size`). The schema checks keys one at a time; these rules are checked when the recipe is
// validated too (a kind's descriptor names them as `checkParameters: Parameters.check`, so `loom run`
// refuses a broken recipe before its first stage), and again when the kind decodes its parameters. A
// broken rule is a ParameterConstraintError naming the key path, which the recipe loader places at
// the key's file, line and column.
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

    /// Decodes and checks resolved parameters: what a descriptor's `checkParameters` runs.
    @Sendable public static func check(_ params: StageParameters) throws {
        _ = try load(params)
    }
}
