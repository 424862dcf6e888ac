// ModelFileError — what is wrong with a file of a model or adapter directory, naming the file and the
// key or tensor at fault: "config.json: num_attention_heads: expected an integer, found \"four\"".
import Foundation

public struct ModelFileError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file as the user named it (a path).
    public let file: String
    /// The JSON key (`rope_parameters.rope_theta`) or tensor name at fault, or empty for the whole file.
    public let key: String
    public let problem: String

    public init(file: String, key: String = "", problem: String) {
        self.file = file
        self.key = key
        self.problem = problem
    }

    public var description: String {
        key.isEmpty ? "\(file): \(problem)" : "\(file): \(key): \(problem)"
    }
}

/// A usage error that is not about a file: a bad argument, an operation in the wrong state.
public struct ModelError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
