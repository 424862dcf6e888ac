// ZipArchive — reads a zip archive (EPUB, .fb2.zip) from memory: the central directory, then the entries
// asked for, inflated in memory and never written anywhere. Every entry is checked before it is read:
// names with `..` components or absolute paths are unsafe (zip slip), encrypted or unknown methods are
// unsupported, and inflation stops at the per-entry, per-archive and ratio limits (zip bombs).
import Foundation

struct ZipLimits: Sendable {
    var maxEntryBytes: Int
    var maxArchiveBytes: Int
    /// Inflated ÷ compressed size allowed beyond the first `ratioFreeBytes` of an entry.
    var maxRatio: Int
    static let ratioFreeBytes = 1 << 20

    init(_ options: CorpusOptions) {
        maxEntryBytes = options.maxZipEntryBytes
        maxArchiveBytes = options.maxZipArchiveBytes
        maxRatio = options.maxZipCompressionRatio
    }
}

struct ZipEntryFailure: Error, Equatable {
    var kind: CorpusReject.Kind
    var reason: String
}

struct ZipArchive {
    struct Entry: Equatable {
        var name: String
        var flags: UInt16
        var method: UInt16
        var crc32: UInt32
        var compressedSize: Int
        var uncompressedSize: Int
        var localHeaderOffset: Int

        var isDirectory: Bool { name.hasSuffix("/") }
    }

    static let localMagic: [UInt8] = [0x50, 0x4B, 0x03, 0x04]
    static let emptyMagic: [UInt8] = [0x50, 0x4B, 0x05, 0x06]

    let data: Data
    let entries: [Entry]
    private let limits: ZipLimits
    private var inflatedSoFar = 0

    /// Parses the central directory; a message naming what is wrong when it cannot.
    init(_ data: Data, limits: ZipLimits) throws(ZipEntryFailure) {
        self.data = data
        self.limits = limits
        entries = try Self.readCentralDirectory(data)
    }

    /// Why an entry name must not be used (zip slip), or nil when it is a plain relative path.
    static func unsafeNameReason(_ name: String) -> String? {
        let path = name.replacingOccurrences(of: "\\", with: "/")
        if path.hasPrefix("/") { return "absolute path in zip entry name" }
        if path.count >= 2, path.dropFirst().first == ":", path.first?.isLetter == true {
            return "drive-letter path in zip entry name"
        }
        if path.split(separator: "/", omittingEmptySubsequences: false).contains("..") {
            return "'..' in zip entry name (path escapes the archive)"
        }
        if path.contains("\0") { return "NUL in zip entry name" }
        return nil
    }

    func entry(named name: String) -> Entry? {
        entries.first { $0.name == name }
    }

    /// Inflates one entry in memory, enforcing every limit; counts towards the archive budget.
    mutating func read(_ entry: Entry) -> Result<[UInt8], ZipEntryFailure> {
        func fail(_ kind: CorpusReject.Kind, _ reason: String) -> Result<[UInt8], ZipEntryFailure> {
            .failure(ZipEntryFailure(kind: kind, reason: reason))
        }
        if let reason = Self.unsafeNameReason(entry.name) { return fail(.unsafePath, reason) }
        if entry.flags & 1 != 0 { return fail(.unsupported, "encrypted zip entry") }
        let budget = limits.maxArchiveBytes - inflatedSoFar
        let ratioCap = max(ZipLimits.ratioFreeBytes, entry.compressedSize.multipliedReportingOverflow(by: limits.maxRatio).partialValue)
        if entry.uncompressedSize > limits.maxEntryBytes {
            return fail(.zipBomb, "zip entry declares \(entry.uncompressedSize) bytes, over the \(limits.maxEntryBytes)-byte limit")
        }
        if entry.uncompressedSize > ratioCap {
            return fail(.zipBomb, "zip entry compression ratio \(ratio(entry.uncompressedSize, entry.compressedSize)):1 exceeds the \(limits.maxRatio):1 limit")
        }
        if entry.uncompressedSize > budget {
            return fail(.zipBomb, "zip archive inflates to more than \(limits.maxArchiveBytes) bytes")
        }
        guard let start = dataStart(of: entry), start + entry.compressedSize <= data.count else {
            return fail(.malformed, "zip entry data lies outside the archive")
        }
        let output: [UInt8]
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.uncompressedSize else {
                return fail(.malformed, "stored zip entry with differing sizes")
            }
            output = [UInt8](data[(data.startIndex + start)..<(data.startIndex + start + entry.compressedSize)])
        case 8:
            // The real cap is the smallest of: declared size, entry limit, ratio cap, archive budget.
            let cap = min(entry.uncompressedSize, limits.maxEntryBytes, ratioCap, budget)
            let inflated = data.withUnsafeBytes { raw in
                Inflater.inflateRaw(UnsafeRawBufferPointer(rebasing: raw[start..<(start + entry.compressedSize)]), limit: cap)
            }
            switch inflated {
            case .success(let bytes):
                output = bytes
            case .failure(.exceedsLimit):
                if cap == entry.uncompressedSize {
                    return fail(.zipBomb, "zip entry inflates beyond its declared size of \(entry.uncompressedSize) bytes")
                }
                return fail(.zipBomb, "zip entry inflates past the limit (\(cap) bytes; compression ratio over \(limits.maxRatio):1 or size over \(limits.maxEntryBytes) bytes)")
            case .failure(.corrupt(let message)):
                return fail(.malformed, "corrupt deflate data in zip entry: \(message)")
            }
        default:
            return fail(.unsupported, "zip compression method \(entry.method) (only stored and deflate are read)")
        }
        guard output.count == entry.uncompressedSize else {
            return fail(.malformed, "zip entry holds \(output.count) bytes, its header says \(entry.uncompressedSize)")
        }
        guard Inflater.crc32(output) == entry.crc32 else {
            return fail(.malformed, "zip entry CRC-32 mismatch (corrupt archive)")
        }
        inflatedSoFar += output.count
        return .success(output)
    }

    private func ratio(_ inflated: Int, _ compressed: Int) -> Int {
        compressed == 0 ? inflated : inflated / compressed
    }

    private func dataStart(of entry: Entry) -> Int? {
        let offset = entry.localHeaderOffset
        guard offset >= 0, offset + 30 <= data.count,
              Self.uint32(data, offset) == 0x0403_4B50 else { return nil }
        return offset + 30 + Int(Self.uint16(data, offset + 26)) + Int(Self.uint16(data, offset + 28))
    }

    private static func readCentralDirectory(_ data: Data) throws(ZipEntryFailure) -> [Entry] {
        func malformed(_ reason: String) -> ZipEntryFailure {
            ZipEntryFailure(kind: .malformed, reason: "not a readable zip archive: \(reason)")
        }
        // The end-of-central-directory record sits in the last 22 + 65535 (comment) bytes.
        guard data.count >= 22 else { throw malformed("too short") }
        var end = -1
        var position = data.count - 22
        let lowest = max(0, data.count - 22 - 0xFFFF)
        while position >= lowest {
            if uint32(data, position) == 0x0605_4B50 { end = position; break }
            position -= 1
        }
        guard end >= 0 else { throw malformed("no end-of-central-directory record (truncated?)") }
        let count = Int(uint16(data, end + 10))
        let directorySize = Int(uint32(data, end + 12))
        let directoryOffset = Int(uint32(data, end + 16))
        if count == 0xFFFF || directoryOffset == 0xFFFF_FFFF { throw malformed("ZIP64 archives are not supported") }
        guard directoryOffset + directorySize <= end else { throw malformed("central directory lies outside the archive") }
        var entries: [Entry] = []
        var cursor = directoryOffset
        for _ in 0..<count {
            guard cursor + 46 <= end, uint32(data, cursor) == 0x0201_4B50 else {
                throw malformed("central directory entry \(entries.count + 1) is damaged")
            }
            let nameLength = Int(uint16(data, cursor + 28))
            let extraLength = Int(uint16(data, cursor + 30))
            let commentLength = Int(uint16(data, cursor + 32))
            guard cursor + 46 + nameLength <= end else { throw malformed("entry name runs past the directory") }
            let nameStart = data.startIndex + cursor + 46
            let name = String(decoding: data[nameStart..<(nameStart + nameLength)], as: UTF8.self)
            let compressed = uint32(data, cursor + 20), uncompressed = uint32(data, cursor + 24)
            let offset = uint32(data, cursor + 42)
            if compressed == 0xFFFF_FFFF || uncompressed == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
                throw malformed("ZIP64 entries are not supported")
            }
            entries.append(Entry(
                name: name,
                flags: uint16(data, cursor + 8),
                method: uint16(data, cursor + 10),
                crc32: uint32(data, cursor + 16),
                compressedSize: Int(compressed),
                uncompressedSize: Int(uncompressed),
                localHeaderOffset: Int(offset)))
            cursor += 46 + nameLength + extraLength + commentLength
        }
        return entries
    }

    private static func uint16(_ data: Data, _ offset: Int) -> UInt16 {
        let index = data.startIndex + offset
        return UInt16(data[index]) | UInt16(data[index + 1]) << 8
    }

    private static func uint32(_ data: Data, _ offset: Int) -> UInt32 {
        let index = data.startIndex + offset
        return UInt32(data[index]) | UInt32(data[index + 1]) << 8 | UInt32(data[index + 2]) << 16 | UInt32(data[index + 3]) << 24
    }
}
