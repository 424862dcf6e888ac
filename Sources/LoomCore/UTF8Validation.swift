// UTF8Validation — where a byte string stops being UTF-8, so that "not valid UTF-8" can say which
// byte and where (a Latin-1 "é" in a recipe, a Windows-1251 file given to the tokenizer).
import Foundation

public enum UTF8Validation {
    /// The first byte that does not begin a valid UTF-8 sequence, and its offset; nil for valid UTF-8.
    public static func firstInvalidByte(in data: Data) -> (offset: Int, byte: UInt8)? {
        var iterator = data.makeIterator()
        var decoder = UTF8()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                offset += UTF8.width(scalar)
            case .emptyInput:
                return nil
            case .error:
                return (offset, data[data.startIndex + offset])
            }
        }
    }

    /// `not valid UTF-8 (byte 0xE9 at offset 12)`, or nil when `data` is valid UTF-8.
    public static func problem(in data: Data) -> String? {
        guard let (offset, byte) = firstInvalidByte(in: data) else { return nil }
        return "not valid UTF-8 (byte 0x\(String(format: "%02X", byte)) at offset \(offset))"
    }
}
