// TextTable — aligned columns for the terminal (numbers right-aligned), the one table renderer of
// every listing verb.
public struct TextTable {
    /// Empty for a table without a header line.
    public var header: [String]
    public var rows: [[String]] = []
    /// Columns to right-align (numbers).
    public var rightAligned: Set<Int> = []

    public init(header: [String], rightAligned: Set<Int> = []) {
        self.header = header
        self.rightAligned = rightAligned
    }

    public mutating func add(_ row: [String]) { rows.append(row) }

    public func render(indent: String = "") -> String {
        let all = header.isEmpty ? rows : [header] + rows
        let count = all.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: count)
        for row in all {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        return all.map { row in
            let cells = (0..<count).map { index -> String in
                let cell = index < row.count ? row[index] : ""
                let padding = String(repeating: " ", count: widths[index] - cell.count)
                if index == count - 1 && !rightAligned.contains(index) { return cell }
                return rightAligned.contains(index) ? padding + cell : cell + padding
            }
            return indent + cells.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
