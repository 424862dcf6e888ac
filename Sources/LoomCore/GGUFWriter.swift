// GGUFWriter — llama.cpp's GGUF v3 file format, written: a header, typed metadata (key → value), tensor
// infos (name, dimensions innermost first, GGML type, offset) and the tensor data, each piece aligned to
// `general.alignment` (32). Format-level only: what the values and tensors mean is the callers' (the model's
// hyperparameters and weights in LLM, the tokenizer's vocabulary in Tokenizers).
import Foundation

public enum GGUFValue: Sendable, Equatable {
    case uint32(UInt32)
    case int32(Int32)
    case float32(Float)
    case bool(Bool)
    case string(String)
    case uint64(UInt64)
    case strings([String])
    case int32s([Int32])
    case float32s([Float])

    /// GGUF's value type codes.
    var typeCode: UInt32 {
        switch self {
        case .uint32: 4
        case .int32: 5
        case .float32: 6
        case .bool: 7
        case .string: 8
        case .uint64: 10
        case .strings, .int32s, .float32s: 9
        }
    }
}

/// A tensor as GGUF stores it: `dimensions` innermost first (the reverse of PyTorch's shape), a GGML type
/// code (0 F32, 1 F16, 8 Q8_0, 30 BF16), its size in bytes, and its bytes made when they are written (one
/// tensor in memory at a time).
public struct GGUFTensor {
    public let name: String
    public let dimensions: [Int]
    public let type: UInt32
    public let byteCount: Int
    public let bytes: () throws -> Data

    public init(name: String, dimensions: [Int], type: UInt32, byteCount: Int, bytes: @escaping () throws -> Data) {
        self.name = name
        self.dimensions = dimensions
        self.type = type
        self.byteCount = byteCount
        self.bytes = bytes
    }
}

public enum GGUFWriter {
    public static let alignment = 32

    /// Writes `url` atomically (a failed or killed export leaves no partial file): header, `metadata` in
    /// order, tensor infos, then each tensor's data, aligned.
    public static func write(metadata: [(String, GGUFValue)], tensors: [GGUFTensor], to url: URL) throws {
        var head = Data()
        func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { head.append(contentsOf: $0) } }
        func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { head.append(contentsOf: $0) } }
        func string(_ text: String) {
            let bytes = Array(text.utf8)
            u64(UInt64(bytes.count))
            head.append(contentsOf: bytes)
        }
        func value(_ value: GGUFValue) {
            switch value {
            case .uint32(let v): u32(v)
            case .int32(let v): u32(UInt32(bitPattern: v))
            case .float32(let v): u32(v.bitPattern)
            case .bool(let v): head.append(v ? 1 : 0)
            case .string(let v): string(v)
            case .uint64(let v): u64(v)
            case .strings(let items):
                u32(8); u64(UInt64(items.count)); items.forEach(string)
            case .int32s(let items):
                u32(5); u64(UInt64(items.count)); items.forEach { u32(UInt32(bitPattern: $0)) }
            case .float32s(let items):
                u32(6); u64(UInt64(items.count)); items.forEach { u32($0.bitPattern) }
            }
        }
        func padding(after count: Int) -> Data { Data(count: (alignment - count % alignment) % alignment) }

        head.append(contentsOf: Array("GGUF".utf8))
        u32(3)
        u64(UInt64(tensors.count))
        u64(UInt64(metadata.count))
        for (key, item) in metadata {
            string(key)
            u32(item.typeCode)
            value(item)
        }
        var offset = 0
        for tensor in tensors {
            string(tensor.name)
            u32(UInt32(tensor.dimensions.count))
            tensor.dimensions.forEach { u64(UInt64($0)) }
            u32(tensor.type)
            u64(UInt64(offset))
            offset += (tensor.byteCount + alignment - 1) / alignment * alignment
        }
        head.append(padding(after: head.count))
        try AtomicFile.write(to: url) { sink in
            try sink.write(head)
            for tensor in tensors {
                let data = try tensor.bytes()
                guard data.count == tensor.byteCount else {
                    throw AtomicFile.WriteError(path: url.path, reason: "tensor \(tensor.name): \(data.count) bytes, expected \(tensor.byteCount)")
                }
                try sink.write(data)
                try sink.write(padding(after: data.count))
            }
        }
    }
}
