// ByteLevelAlphabet — GPT-2's byte ↔ character table used by byte-level BPE: every byte is written
// as a printable character ("Ġ" for a space, "Ð" "¾" for the two bytes of "о") so that a
// vocabulary entry is a string while the model works on bytes.
enum ByteLevelAlphabet {
    /// The character standing for each byte.
    static let characterForByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (33...126).contains(byte) || (161...172).contains(byte) || (174...255).contains(byte)
            if printable {
                table[byte] = Unicode.Scalar(UInt32(byte))!
            } else {
                table[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The byte each alphabet character stands for, by scalar value (values ≥ 324 are never in it).
    static let byteForCharacter: [Int16] = {
        var table = [Int16](repeating: -1, count: 324)
        for (byte, character) in characterForByte.enumerated() { table[Int(character.value)] = Int16(byte) }
        return table
    }()

    /// The bytes a vocabulary entry stands for, or nil if some character is outside the alphabet.
    static func bytes(of piece: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(piece.utf8.count)
        for scalar in piece.unicodeScalars {
            guard scalar.value < 324, case let byte = byteForCharacter[Int(scalar.value)], byte >= 0 else { return nil }
            out.append(UInt8(byte))
        }
        return out
    }

    /// The vocabulary spelling of raw bytes.
    static func piece(of bytes: some Sequence<UInt8>) -> String {
        var text = String.UnicodeScalarView()
        for byte in bytes { text.append(characterForByte[Int(byte)]) }
        return String(text)
    }
}
