// RecipeError — a problem in a recipe or pipeline file, reported as `file:line:column: key.path: message`
// (the shape compilers use, so editors can jump to it). Loading collects every error it finds.
public struct RecipeError: Error, Sendable, Equatable, CustomStringConvertible {
    public let location: SourceLocation?
    /// The dotted path from the document root (`params.train.lora.rank`); empty for whole-file errors.
    public let keyPath: String
    public let message: String

    public init(_ message: String, at location: SourceLocation?, keyPath: String = "") {
        self.location = location
        self.keyPath = keyPath
        self.message = message
    }

    public var description: String {
        var text = location.map { "\($0): " } ?? ""
        if !keyPath.isEmpty { text += "\(keyPath): " }
        return text + message
    }
}

/// Every error found while loading one recipe, in file order.
public struct RecipeErrorList: Error, Sendable, CustomStringConvertible {
    public let errors: [RecipeError]

    public init(_ errors: [RecipeError]) { self.errors = errors }

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
