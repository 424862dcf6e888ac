// SafeTensorsWriter — writes tensors (and optional string metadata) as a .safetensors file, atomically
// (temp file, fsync, rename) and streaming: each tensor's bytes go straight from libtorch's memory to the
// file, so a multi-gigabyte checkpoint never exists twice in memory.
//
// Layout as Hugging Face's writer makes it: tensors ordered by element size (largest first) then name,
// which keeps every tensor aligned to its element size; `__metadata__` first in the header, then the
// tensors in data order; the header padded with spaces to a multiple of 8 bytes.
import Foundation
import LoomCore

extension SafeTensors {
    /// Writes `tensors` to `url` (replacing it atomically). Any dtype, device or layout is accepted;
    /// the data is stored contiguous, row-major, little-endian, in each tensor's own dtype.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to url: URL) throws {
        if tensors[metadataKey] != nil {
            throw SafeTensorsError(path: url.path, tensor: metadataKey, reason: "the name is reserved for metadata")
        }
        struct Planned {
            let name: String
            let tensor: Tensor
            let dtype: DType
            let shape: [Int]
            let byteCount: Int
        }
        let planned = tensors.map { name, tensor in
            let dtype = tensor.dtype
            return Planned(name: name, tensor: tensor, dtype: dtype, shape: tensor.shape, byteCount: tensor.byteCount)
        }.sorted { ($1.dtype.elementSize, $0.name) < ($0.dtype.elementSize, $1.name) }

        var header = "{"
        var fields: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            fields.append("\(jsonString(metadataKey)):{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for entry in planned {
            let shape = entry.shape.map(String.init).joined(separator: ",")
            fields.append(
                "\(jsonString(entry.name)):{\"dtype\":\"\(name(of: entry.dtype))\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + entry.byteCount)]}")
            offset += entry.byteCount
        }
        header += fields.joined(separator: ",") + "}"
        var headerBytes = Data(header.utf8)
        headerBytes.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - headerBytes.count % 8) % 8))

        do {
            try AtomicFile.write(to: url) { sink in
                var length = UInt64(headerBytes.count).littleEndian
                try withUnsafeBytes(of: &length) { try sink.write($0) }
                try sink.write(headerBytes)
                for entry in planned {
                    do {
                        try entry.tensor.withUnsafeBytes { try sink.write($0) }
                    } catch let error as TorchError {
                        throw SafeTensorsError(path: url.path, tensor: entry.name, reason: error.message)
                    }
                }
            }
        } catch let error as AtomicFile.WriteError {
            throw SafeTensorsError(path: url.path, reason: error.reason)
        }
    }

    /// A JSON string literal for `text`; with `escapingNonASCII`, every character beyond ASCII as \uXXXX
    /// (UTF-16, as Python's json.dumps writes by default).
    public static func jsonString(_ text: String, escapingNonASCII: Bool = false) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || (escapingNonASCII && scalar.value > 0x7F):
                for unit in String(scalar).utf16 { out += String(format: "\\u%04x", unit) }
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
