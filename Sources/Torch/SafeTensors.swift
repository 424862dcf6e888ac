// SafeTensors — the format's vocabulary shared by the reader and the writer: dtype names, one
// tensor's header entry, and the error every malformed file produces (naming the file and tensor).
//
// Format (https://huggingface.co/docs/safetensors): 8 bytes little-endian header length N, N bytes of
// JSON `{"__metadata__": {str: str}, "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}}`,
// then the data; offsets are relative to the first data byte.

/// A malformed or unreadable safetensors file: which file, which tensor (when one is at fault), and why.
public struct SafeTensorsError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let tensor: String?
    public let reason: String

    public init(path: String, tensor: String? = nil, reason: String) {
        self.path = path
        self.tensor = tensor
        self.reason = reason
    }

    public var description: String {
        if let tensor { return "\(path): tensor '\(tensor)': \(reason)" }
        return "\(path): \(reason)"
    }
}

public enum SafeTensors {
    /// One tensor's entry in a file's header.
    public struct TensorInfo: Sendable, Equatable {
        public let name: String
        public let dtype: DType
        public let shape: [Int]
        /// Byte range relative to the start of the data section.
        public let dataOffsets: Range<Int>

        public var count: Int { shape.reduce(1, *) }
    }

    /// The dtypes Loom reads and writes, by their safetensors names.
    public static let dtypesByName: [String: DType] = [
        "F64": .float64, "F32": .float32, "F16": .float16, "BF16": .bfloat16,
        "I64": .int64, "I32": .int32, "I8": .int8, "U8": .uint8, "BOOL": .bool,
    ]

    /// Names the format defines that Loom has no tensor type for.
    static let unsupportedDTypeNames: Set<String> = [
        "I16", "U16", "U32", "U64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64",
    ]

    /// The safetensors name of a dtype ("F32", "BF16", …).
    public static func name(of dtype: DType) -> String {
        switch dtype {
        case .float64: "F64"
        case .float32: "F32"
        case .float16: "F16"
        case .bfloat16: "BF16"
        case .int64: "I64"
        case .int32: "I32"
        case .int8: "I8"
        case .uint8: "U8"
        case .bool: "BOOL"
        }
    }

    /// The key reserved for string metadata.
    public static let metadataKey = "__metadata__"
}
