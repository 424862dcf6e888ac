import Foundation
import LoomCore
import TestSupport
import Testing

@Test func sha256OfKnownVectors() throws {
    #expect(Digest.sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(Digest.sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
}

@Test func fileDigestEqualsDataDigestAcrossChunks() throws {
    let scratch = try ScratchDirectory()
    var bytes = [UInt8](repeating: 0, count: (1 << 20) * 2 + 17)
    for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 31 &+ 7) }
    let url = scratch.path("blob")
    try Data(bytes).write(to: url)
    #expect(try Digest.sha256Hex(fileAt: url) == Digest.sha256Hex(Data(bytes)))
}

@Test func atomicWriteReplacesWholeFileAndLeavesNoTemp() throws {
    let scratch = try ScratchDirectory()
    let url = scratch.path("manifest.json")
    try AtomicFile.write("old", to: url)
    try AtomicFile.write("new content", to: url)
    #expect(try String(contentsOf: url, encoding: .utf8) == "new content")
    #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) == ["manifest.json"])
}

@Test func atomicWriteIntoMissingDirectoryNamesThePath() throws {
    let scratch = try ScratchDirectory()
    let url = scratch.path("no/such/dir/file.txt")
    #expect {
        try AtomicFile.write("x", to: url)
    } throws: { error in
        "\(error)".contains(url.path) && "\(error)".contains("No such file")
    }
}
