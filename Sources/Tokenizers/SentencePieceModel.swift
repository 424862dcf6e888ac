// SentencePieceModel — a `.model` file loaded through Loom's SentencePiece shim: encode, decode,
// the vocabulary (pieces, scores, types) and the settings the model was trained with.
import Foundation

/// A SentencePiece piece's type, as `sentencepiece_model.proto` numbers them.
public enum SentencePieceType: Int32, Sendable, Codable {
    case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
}

/// One vocabulary entry of a SentencePiece model.
public struct SentencePieceEntry: Sendable, Equatable {
    public let piece: String
    public let score: Float
    public let type: SentencePieceType
}

/// A loaded SentencePiece model (`.model` file).
public final class SentencePieceModel: Tokenizer, @unchecked Sendable {  // the C++ processor is immutable after load; its encode/decode are const
    private let library: SentencePieceLibrary
    private let handle: OpaquePointer
    /// Where the model was loaded from.
    public let url: URL
    /// Every piece, by id.
    public let entries: [SentencePieceEntry]
    private let idsByPiece: [String: Int]
    public let specialTokens: SpecialTokens

    public init(contentsOf url: URL) throws {
        let library = try SentencePieceLibrary.shared()
        var out: OpaquePointer? = nil
        do {
            try library.check { err in url.path.withCString { library.processorLoad($0, &out, err) } }
        } catch let error as SentencePieceError where error.failedCheck?.contains("ParseFromArray") == true {
            throw SentencePieceError("\(url.path): not a SentencePiece model (the file does not parse as one)")
        } catch let error as SentencePieceError {
            throw SentencePieceError("\(url.path): \(error.message)")
        }
        self.library = library
        handle = out!
        self.url = url

        // A throwing init that fails before every property is set never runs deinit: free the
        // processor here if reading its vocabulary fails.
        do {
            var size: Int32 = 0
            try library.check { library.processorPieceSize(out!, &size, $0) }
            var entries: [SentencePieceEntry] = []
            entries.reserveCapacity(Int(size))
            for id in 0..<size {
                var text: CString? = nil
                var length = 0
                var score: Float = 0
                var type: Int32 = 0
                try library.check { library.processorPiece(out!, id, &text, &length, &score, &type, $0) }
                defer { library.freeString(text) }
                let piece = text.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: length), as: UTF8.self) } ?? ""
                entries.append(SentencePieceEntry(piece: piece, score: score, type: SentencePieceType(rawValue: type) ?? .normal))
            }
            self.entries = entries
            var idsByPiece: [String: Int] = [:]
            for (id, entry) in entries.enumerated() where idsByPiece[entry.piece] == nil {
                idsByPiece[entry.piece] = id
            }
            self.idsByPiece = idsByPiece

            func special(_ name: String) throws -> Int? {
                var value: CString? = nil
                try library.check { err in name.withCString { library.processorOption(out!, $0, &value, err) } }
                defer { library.freeString(value) }
                guard let value, let id = Int(String(cString: value)), id >= 0 else { return nil }
                return id
            }
            specialTokens = SpecialTokens(bos: try special("bos_id"), eos: try special("eos_id"), unk: try special("unk_id"), pad: try special("pad_id"))
        } catch {
            library.processorFree(out)
            throw error
        }
    }

    deinit { library.processorFree(handle) }

    /// Number of pieces in the vocabulary (control and byte pieces included).
    public func pieceCount() throws -> Int { entries.count }

    /// A training or normalisation setting stored in the model (see `cspm_processor_option`):
    /// "model_type", "byte_fallback", "add_dummy_prefix", "remove_extra_whitespaces", "normalizer_name", …
    public func option(_ name: String) throws -> String {
        var value: CString? = nil
        try library.check { err in name.withCString { library.processorOption(handle, $0, &value, err) } }
        defer { library.freeString(value) }
        return value.map { String(cString: $0) } ?? ""
    }

    /// The ids SentencePiece gives `text`.
    public func encodeIds(_ text: String) throws -> [Int] {
        var utf8 = Array(text.utf8)
        var ids: UnsafeMutablePointer<Int32>? = nil
        var count = 0
        try utf8.withUnsafeMutableBufferPointer { bytes in
            try bytes.withMemoryRebound(to: CChar.self) { chars in
                try library.check { library.processorEncodeIds(handle, chars.baseAddress, chars.count, &ids, &count, $0) }
            }
        }
        defer { library.freeBuffer(ids) }
        guard let ids else { return [] }
        return (0..<count).map { Int(ids[$0]) }
    }

    /// The pieces SentencePiece gives `text` (unknown characters come back as themselves).
    public func encodePieces(_ text: String) throws -> [String] {
        var utf8 = Array(text.utf8)
        var joined: CString? = nil
        var length = 0
        var count = 0
        try utf8.withUnsafeMutableBufferPointer { bytes in
            try bytes.withMemoryRebound(to: CChar.self) { chars in
                try library.check { library.processorEncodePieces(handle, chars.baseAddress, chars.count, &joined, &length, &count, $0) }
            }
        }
        defer { library.freeString(joined) }
        guard let joined else { return [] }
        let bytes = UnsafeRawBufferPointer(start: joined, count: length)
        return bytes.split(separator: 0, omittingEmptySubsequences: false).prefix(count).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The text of `ids`; an id outside the vocabulary is an error.
    public func decodeIds(_ ids: [Int]) throws -> String {
        let narrow = ids.map { Int32(truncatingIfNeeded: $0) }
        var text: CString? = nil
        var length = 0
        try narrow.withUnsafeBufferPointer { buffer in
            try library.check { library.processorDecodeIds(handle, buffer.baseAddress, buffer.count, &text, &length, $0) }
        }
        defer { library.freeString(text) }
        guard let text else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: text, count: length), as: UTF8.self)
    }

    // MARK: Tokenizer

    /// SentencePiece itself never fails on valid UTF-8 (which every Swift string is).
    public func encode(_ text: String) -> [Int] {
        (try? encodeIds(text)) ?? []
    }

    public func decode(_ ids: [Int]) -> String {
        (try? decodeIds(ids.filter { $0 >= 0 && $0 < entries.count })) ?? ""
    }

    public var vocabularySize: Int { entries.count }

    public func piece(for id: Int) -> String? {
        entries.indices.contains(id) ? entries[id].piece : nil
    }

    public func id(for piece: String) -> Int? {
        guard let id = idsByPiece[piece], entries[id].piece.utf8.elementsEqual(piece.utf8) else {
            return entries.firstIndex { $0.piece.utf8.elementsEqual(piece.utf8) }
        }
        return id
    }
}
