// SourceLocation — where a value was written (file, line, column), so every recipe error points at it.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    /// The file as the user named it (relative paths stay relative: that is what they typed).
    public let file: String
    public let line: Int
    public let column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}
