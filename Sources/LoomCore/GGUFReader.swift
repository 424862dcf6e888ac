// GGUFReader — llama.cpp's GGUF v2/v3 files, read: the typed metadata, the tensor infos (name, dimensions
// innermost first, GGML type, offset) and each tensor's bytes, from a memory-mapped file. Every bound is
// checked: a truncated file, an offset past the end, or an unknown value type is an error naming the file
// and the key or tensor. Format-level only (dequantisation lives in LLM).
import Foundation

/// A metadata value as read (integers widened; arrays of any element type).
public indirect enum GGUFMetadata: Sendable, Equatable {
    case int(Int64)
    case float(Double)
    case bool(Bool)
    case string(String)
    case array([GGUFMetadata])

    public var intValue: Int? { if case .int(let v) = self { Int(v) } else { nil } }
    public var doubleValue: Double? {
        switch self {
        case .float(let v): v
        case .int(let v): Double(v)
        default: nil
        }
    }
    public var stringValue: String? { if case .string(let v) = self { v } else { nil } }
    public var boolValue: Bool? { if case .bool(let v) = self { v } else { nil } }
    public var arrayValue: [GGUFMetadata]? { if case .array(let v) = self { v } else { nil } }
}

public struct GGUFTensorInfo: Sendable {
    public let name: String
    /// Innermost first (GGML's ne): the reverse of PyTorch's shape.
    public let dimensions: [Int]
    public let type: UInt32
    /// From the start of the data section.
    public let offset: Int

    public var elementCount: Int { dimensions.reduce(1, *) }
    /// PyTorch's shape.
    public var shape: [Int] { dimensions.reversed() }
}

public final class GGUFReader {
    public let file: URL
    public let version: Int
    public let metadata: [String: GGUFMetadata]
    public let tensors: [GGUFTensorInfo]
    private let data: Data
    private let dataStart: Int

    public init(contentsOf file: URL) throws {
        self.file = file
        let path = file.path
        do {
            data = try Data(contentsOf: file, options: .alwaysMapped)
        } catch {
            throw GGUFFileError(file: path, problem: "cannot read: \(SystemErrorText.reason(error))")
        }
        var cursor = Cursor(data: data, file: path)
        guard data.count >= 4, data.prefix(4) == Data("GGUF".utf8) else {
            throw GGUFFileError(file: path, problem: "not a GGUF file (it does not start with \"GGUF\")")
        }
        cursor.position = 4
        let version = Int(try cursor.u32("version"))
        guard version == 2 || version == 3 else { throw GGUFFileError(file: path, problem: "GGUF version \(version) is not supported (2 or 3)") }
        self.version = version
        let tensorCount = try cursor.u64("tensor_count")
        let metadataCount = try cursor.u64("metadata_kv_count")
        var metadata: [String: GGUFMetadata] = [:]
        for _ in 0..<metadataCount {
            let key = try cursor.string("a metadata key")
            let type = try cursor.u32(key)
            metadata[key] = try cursor.value(type: type, key: key)
        }
        self.metadata = metadata
        var tensors: [GGUFTensorInfo] = []
        for index in 0..<tensorCount {
            let name = try cursor.string("the name of tensor \(index)")
            let count = try cursor.u32(name)
            guard count >= 1, count <= 4 else { throw GGUFFileError(file: path, problem: "tensor \(name): \(count) dimensions (1 to 4 expected)") }
            let dimensions = try (0..<count).map { _ in Int(try cursor.u64(name)) }
            let type = try cursor.u32(name)
            let offset = Int(try cursor.u64(name))
            tensors.append(GGUFTensorInfo(name: name, dimensions: dimensions, type: type, offset: offset))
        }
        self.tensors = tensors
        let alignment = metadata["general.alignment"]?.intValue ?? 32
        dataStart = (cursor.position + alignment - 1) / alignment * alignment
    }

    /// The bytes of `tensor`, `byteCount` long (the caller knows its type's block size; `layout`, such as
    /// "64 Q6_K blocks of 210", says how they add up in the error when the file is too short).
    public func bytes(of tensor: GGUFTensorInfo, byteCount: Int, layout: String? = nil) throws -> Data {
        let start = dataStart + tensor.offset
        guard tensor.offset >= 0, byteCount >= 0, start + byteCount <= data.count else {
            let what = layout.map { "\(byteCount) bytes (\($0))" } ?? "\(byteCount) bytes"
            throw GGUFFileError(
                file: file.path,
                problem: "tensor \(tensor.name): its \(what) at offset \(tensor.offset) run past the end of the file (\(data.count) bytes; truncated?)")
        }
        return data.subdata(in: start..<(start + byteCount))
    }

    public subscript(key: String) -> GGUFMetadata? { metadata[key] }

    /// Little-endian reading with every bound checked.
    private struct Cursor {
        let data: Data
        let file: String
        var position = 0

        mutating func take(_ count: Int, _ what: String) throws -> Data {
            guard count >= 0, position + count <= data.count else {
                throw GGUFFileError(file: file, problem: "truncated while reading \(what) (at byte \(position) of \(data.count))")
            }
            defer { position += count }
            return data.subdata(in: (data.startIndex + position)..<(data.startIndex + position + count))
        }
        mutating func integer<T: FixedWidthInteger>(_ type: T.Type, _ what: String) throws -> T {
            let bytes = try take(MemoryLayout<T>.size, what)
            return bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(as: T.self)) }
        }
        mutating func u32(_ what: String) throws -> UInt32 { try integer(UInt32.self, what) }
        mutating func u64(_ what: String) throws -> UInt64 { try integer(UInt64.self, what) }
        mutating func string(_ what: String) throws -> String {
            let length = try u64(what)
            guard length <= UInt64(data.count) else { throw GGUFFileError(file: file, problem: "\(what): a string of \(length) bytes is longer than the file") }
            return String(decoding: try take(Int(length), what), as: UTF8.self)
        }
        mutating func value(type: UInt32, key: String) throws -> GGUFMetadata {
            switch type {
            case 0: return .int(Int64(try integer(UInt8.self, key)))
            case 1: return .int(Int64(try integer(Int8.self, key)))
            case 2: return .int(Int64(try integer(UInt16.self, key)))
            case 3: return .int(Int64(try integer(Int16.self, key)))
            case 4: return .int(Int64(try integer(UInt32.self, key)))
            case 5: return .int(Int64(try integer(Int32.self, key)))
            case 6: return .float(Double(Float(bitPattern: try u32(key))))
            case 7: return .bool(try integer(UInt8.self, key) != 0)
            case 8: return .string(try string(key))
            case 9:
                let element = try u32(key)
                let count = try u64(key)
                guard count <= UInt64(data.count) else { throw GGUFFileError(file: file, problem: "\(key): an array of \(count) values is longer than the file") }
                return .array(try (0..<count).map { _ in try value(type: element, key: key) })
            case 10: return .int(Int64(bitPattern: try u64(key)))
            case 11: return .int(try integer(Int64.self, key))
            case 12: return .float(Double(bitPattern: try u64(key)))
            default: throw GGUFFileError(file: file, problem: "\(key): unknown value type \(type)")
            }
        }
    }
}
