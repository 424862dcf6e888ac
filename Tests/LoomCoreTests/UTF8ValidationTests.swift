// UTF8ValidationTests — the first byte that breaks UTF-8 and its offset, for error messages.
import Foundation
import LoomCore
import Testing

@Test func validUTF8HasNoProblem() {
    #expect(UTF8Validation.firstInvalidByte(in: Data("Ёж 😀 naïve".utf8)) == nil)
    #expect(UTF8Validation.problem(in: Data()) == nil)
}

@Test func theFirstBadByteIsNamedWithItsOffset() {
    let latin1 = Data("Ёж caf".utf8) + Data([0xE9, 0x0A])
    #expect(UTF8Validation.firstInvalidByte(in: latin1)?.offset == 8)
    #expect(UTF8Validation.problem(in: latin1) == "not valid UTF-8 (byte 0xE9 at offset 8)")
    // A sequence cut short by the end of the data, and a lone continuation byte.
    #expect(UTF8Validation.problem(in: Data([0x61, 0xD0])) == "not valid UTF-8 (byte 0xD0 at offset 1)")
    #expect(UTF8Validation.problem(in: Data([0x80])) == "not valid UTF-8 (byte 0x80 at offset 0)")
    // Offsets count from the data's own start, also for a slice.
    let slice = (Data([0x00, 0x00]) + latin1)[2...]
    #expect(UTF8Validation.problem(in: slice) == "not valid UTF-8 (byte 0xE9 at offset 8)")
}
