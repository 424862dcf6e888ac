// BooksSaturation — the saturation curve by number of books: eval bits per byte (and the KL of the tuned
// model from the base) against the books each run trained on (`train/books`), runs of the same count —
// the seeds of a `sweep:` — pooled into a mean with their spread, and where saturation begins by a
// definition the report prints: the first count whose next step gains less than a tenth of the first
// step's gain.
import Foundation

public struct BooksSaturation: Sendable {
    public static let booksKey = "train/books"
    public static let bitsPerByteKey = "eval/bits_per_byte"
    public static let klKey = "eval/kl_base_tuned"
    public static let baseBitsPerByteKey = "eval/base_bits_per_byte"
    /// How the report says where saturation begins.
    public static let definition = "saturation begins at the first book count whose next step lowers the mean bits per byte by less than a tenth of what the first step did"

    /// The runs that trained on one number of books.
    public struct Point: Sendable, Equatable {
        public let books: Double
        /// Runs (by index) pooled here: the seeds.
        public let runs: [Int]
        public let meanBitsPerByte: Double
        public let minBitsPerByte: Double
        public let maxBitsPerByte: Double
        public let meanKL: Double?
        /// The lowest and highest KL of the pooled runs (nil without KL).
        public let klRange: (low: Double, high: Double)?

        public static func == (a: Point, b: Point) -> Bool {
            a.books == b.books && a.runs == b.runs && a.meanBitsPerByte == b.meanBitsPerByte && a.minBitsPerByte == b.minBitsPerByte
                && a.maxBitsPerByte == b.maxBitsPerByte && a.meanKL == b.meanKL && a.klRange?.low == b.klRange?.low
                && a.klRange?.high == b.klRange?.high
        }
    }

    /// In order of books.
    public let points: [Point]
    /// The base model's bits per byte, when the runs agree on one.
    public let baseBitsPerByte: Double?
    /// The book count where saturation begins (see `definition`); nil when the curve does not flatten
    /// that much or has fewer than three counts.
    public let saturationBooks: Double?

    /// From each run's final metrics by key.
    public init(values: [[String: Double]]) {
        var byBooks: [Double: [Int]] = [:]
        for (index, run) in values.enumerated() {
            guard let books = run[Self.booksKey], books > 0, books.isFinite, let bpb = run[Self.bitsPerByteKey], bpb.isFinite else { continue }
            byBooks[books, default: []].append(index)
        }
        points = byBooks.keys.sorted().map { books in
            let runs = byBooks[books]!
            let bpb = runs.map { values[$0][Self.bitsPerByteKey]! }
            let kl = runs.compactMap { values[$0][Self.klKey] }.filter(\.isFinite)
            return Point(books: books, runs: runs, meanBitsPerByte: bpb.reduce(0, +) / Double(bpb.count),
                         minBitsPerByte: bpb.min()!, maxBitsPerByte: bpb.max()!,
                         meanKL: kl.isEmpty ? nil : kl.reduce(0, +) / Double(kl.count),
                         klRange: kl.isEmpty ? nil : (kl.min()!, kl.max()!))
        }
        let bases = Set(values.compactMap { $0[Self.baseBitsPerByteKey] }.filter(\.isFinite))
        baseBitsPerByte = bases.count == 1 ? bases.first : nil
        saturationBooks = Self.saturation(points.map { ($0.books, $0.meanBitsPerByte) })
    }

    /// The first count whose next step gains less than a tenth of the first step's gain.
    static func saturation(_ curve: [(books: Double, bitsPerByte: Double)]) -> Double? {
        guard curve.count >= 3 else { return nil }
        let first = curve[0].bitsPerByte - curve[1].bitsPerByte
        guard first > 0 else { return nil }
        for index in 1..<(curve.count - 1) where curve[index].bitsPerByte - curve[index + 1].bitsPerByte < first / 10 {
            return curve[index].books
        }
        return nil
    }
}
