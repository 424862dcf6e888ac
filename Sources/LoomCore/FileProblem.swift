// FileProblem — an error about one file in a binary format Loom reads (GGUF, the token store): the file and
// what is wrong with it, printed "file: problem".
public struct FileProblem: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let problem: String
    public init(file: String, problem: String) {
        self.file = file
        self.problem = problem
    }
    public var description: String { "\(file): \(problem)" }
}

/// A GGUF file's problem.
public typealias GGUFFileError = FileProblem
/// A token store's problem.
public typealias TokenStoreError = FileProblem
