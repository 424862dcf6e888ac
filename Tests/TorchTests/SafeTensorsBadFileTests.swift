// SafeTensorsBadFileTests — every kind of malformed safetensors file is refused at open with an error
// that names the file and (where one is at fault) the tensor: never a crash, never garbage data.
import Foundation
import Testing
import TestSupport
import Torch

/// Writes a safetensors file from a raw header string and data bytes, with a chosen header length.
private func writeFile(
    _ scratch: ScratchDirectory, header: String, data: [UInt8], declaredLength: UInt64? = nil, name: String = "bad.safetensors"
) throws -> URL {
    var bytes = Data()
    var length = (declaredLength ?? UInt64(header.utf8.count)).littleEndian
    withUnsafeBytes(of: &length) { bytes.append(contentsOf: $0) }
    bytes.append(contentsOf: Array(header.utf8))
    bytes.append(contentsOf: data)
    let url = scratch.path(name)
    try bytes.write(to: url)
    return url
}

private func openError(_ url: URL) -> String? {
    errorMessage { _ = try SafeTensorsFile(url: url) }
}

@Test func truncatedFileNamesTheTensorThatRunsPastTheEnd() throws {
    let scratch = try ScratchDirectory()
    let good = scratch.path("good.safetensors")
    try SafeTensors.write(["a": Tensor.zeros([4]), "b": Tensor.zeros([4])], to: good)
    let bytes = try Data(contentsOf: good)
    let truncated = scratch.path("truncated.safetensors")
    try bytes.prefix(bytes.count - 3).write(to: truncated)
    #expect(openError(truncated) == "\(truncated.path): tensor 'b': data_offsets [16, 32] run past the end of the data (29 bytes): the file is truncated or the header is wrong")
}

@Test func dataOffsetPastTheEndIsRefused() throws {
    let scratch = try ScratchDirectory()
    let url = try writeFile(scratch, header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[100,104]}}"#, data: [0, 0, 0, 0])
    #expect(openError(url) == "\(url.path): tensor 'w': data_offsets [100, 104] run past the end of the data (4 bytes): the file is truncated or the header is wrong")
}

@Test func overlappingRangesAreRefused() throws {
    let scratch = try ScratchDirectory()
    let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
    let url = try writeFile(scratch, header: header, data: [UInt8](repeating: 0, count: 12))
    #expect(openError(url) == "\(url.path): tensor 'b': data [4, 12) overlaps tensor 'a' [0, 8)")
}

@Test func headerLengthLargerThanTheFileIsRefused() throws {
    let scratch = try ScratchDirectory()
    let url = try writeFile(scratch, header: "{}", data: [], declaredLength: 1 << 40)
    #expect(openError(url) == "\(url.path): header length 1099511627776 exceeds the 2 bytes that follow it (file is 10 bytes)")
    let tiny = scratch.path("tiny.safetensors")
    try Data([1, 2, 3]).write(to: tiny)
    #expect(openError(tiny) == "\(tiny.path): file is 3 bytes, too short for the 8-byte header length")
}

@Test func unknownAndUnsupportedDTypesAreRefused() throws {
    let scratch = try ScratchDirectory()
    let unknown = try writeFile(scratch, header: #"{"w":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}"#, data: [0], name: "q4.safetensors")
    #expect(openError(unknown) == "\(unknown.path): tensor 'w': unknown dtype \"Q4\" (supported: BF16, BOOL, F16, F32, F64, I32, I64, I8, U8)")
    let unsupported = try writeFile(scratch, header: #"{"w":{"dtype":"U16","shape":[1],"data_offsets":[0,2]}}"#, data: [0, 0], name: "u16.safetensors")
    #expect(openError(unsupported) == "\(unsupported.path): tensor 'w': dtype U16 is not supported by Loom (supported: BF16, BOOL, F16, F32, F64, I32, I64, I8, U8)")
}

@Test func shapeThatDisagreesWithTheByteCountIsRefused() throws {
    let scratch = try ScratchDirectory()
    let url = try writeFile(scratch, header: #"{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}"#, data: [UInt8](repeating: 0, count: 20))
    #expect(openError(url) == "\(url.path): tensor 'w': shape [2, 3] of F32 needs 24 bytes but data_offsets [0, 20] hold 20")
}

@Test func headerThatIsNotJSONOrNotAnObjectIsRefused() throws {
    let scratch = try ScratchDirectory()
    let garbage = try writeFile(scratch, header: "not json at all", data: [], name: "garbage.safetensors")
    #expect(openError(garbage)?.hasPrefix("\(garbage.path): header is not valid JSON (15 bytes starting \"not json at all\")") == true)
    let array = try writeFile(scratch, header: "[1, 2]", data: [], name: "array.safetensors")
    #expect(openError(array) == "\(array.path): header is not a JSON object")
}

@Test func malformedEntriesNameTheirTensor() throws {
    let scratch = try ScratchDirectory()
    let cases: [(String, String)] = [
        (#"{"w":5}"#, "tensor 'w': entry is not a JSON object"),
        (#"{"w":{"shape":[1],"data_offsets":[0,4]}}"#, "tensor 'w': missing string \"dtype\""),
        (#"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, "tensor 'w': \"shape\" is not an array of non-negative integers"),
        (#"{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, "tensor 'w': \"shape\" is not an array of non-negative integers"),
        (#"{"w":{"dtype":"F32","shape":[true],"data_offsets":[0,4]}}"#, "tensor 'w': \"shape\" is not an array of non-negative integers"),
        (#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#, "tensor 'w': \"data_offsets\" is not a pair of non-negative integers"),
        (#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, "tensor 'w': data_offsets [4, 0] end before they begin"),
        (#"{"__metadata__":{"k":1}}"#, "__metadata__ value for 'k' is not a string"),
    ]
    for (index, (header, reason)) in cases.enumerated() {
        let url = try writeFile(scratch, header: header, data: [0, 0, 0, 0], name: "case\(index).safetensors")
        #expect(openError(url) == "\(url.path): \(reason)")
    }
}

@Test func missingFileNamesThePath() throws {
    let url = URL(fileURLWithPath: "/nonexistent/model.safetensors")
    #expect(openError(url) == "/nonexistent/model.safetensors: cannot open: No such file or directory")
}
