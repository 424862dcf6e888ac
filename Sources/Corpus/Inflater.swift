// Inflater — zlib's raw DEFLATE decoder (zip method 8), in memory, with a hard cap on output so that a
// zip bomb is stopped after `limit + 1` bytes instead of filling memory.
import CZlib
import Foundation

enum InflateFailure: Error, Equatable {
    /// More than `limit` bytes would come out.
    case exceedsLimit
    /// zlib's message for corrupt or truncated input.
    case corrupt(String)
}

enum Inflater {
    static func inflateRaw(_ input: UnsafeRawBufferPointer, limit: Int) -> Result<[UInt8], InflateFailure> {
        var stream = z_stream()
        guard inflateInit2_(&stream, -MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            return .failure(.corrupt("zlib could not start"))
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: min(limit + 1, max(1 << 16, input.count * 4)))
        var produced = 0
        let base = input.baseAddress?.assumingMemoryBound(to: UInt8.self)
        stream.next_in = UnsafeMutablePointer(mutating: base)
        stream.avail_in = UInt32(input.count)
        while true {
            if produced == output.count {
                // Grow geometrically, never past limit + 1 (one byte over the limit proves the bomb).
                output += [UInt8](repeating: 0, count: min(output.count, limit + 1 - output.count))
            }
            let room = output.count - produced
            let status: Int32 = output.withUnsafeMutableBufferPointer { buffer in
                stream.next_out = buffer.baseAddress! + produced
                stream.avail_out = UInt32(room)
                return inflate(&stream, Z_NO_FLUSH)
            }
            produced += room - Int(stream.avail_out)
            if produced > limit { return .failure(.exceedsLimit) }
            switch status {
            case Z_STREAM_END:
                output.removeLast(output.count - produced)
                return .success(output)
            case Z_OK:
                continue
            case Z_BUF_ERROR where stream.avail_in == 0:
                return .failure(.corrupt("deflate data ends early"))
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                return .failure(.corrupt(message))
            }
        }
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { buffer in
            var crc: UInt = CZlib.crc32(0, nil, 0)
            var offset = 0
            while offset < buffer.count {
                let length = min(buffer.count - offset, Int(UInt32.max))
                crc = CZlib.crc32(crc, buffer.baseAddress! + offset, UInt32(length))
                offset += length
            }
            return UInt32(truncatingIfNeeded: crc)
        }
    }
}
