import Torch
import Testing

@Test func linkedLibtorchReportsVersionAndThreads() throws {
    let version = try TorchRuntime.version()
    #expect(version.split(separator: ".").count == 3)
    #expect(try TorchRuntime.numThreads() >= 1)
}

@Test func invalidThreadCountIsAnErrorWithMessage() throws {
    #expect {
        try TorchRuntime.setNumThreads(0)
    } throws: { error in
        "\(error)".contains("thread count must be at least 1")
    }
}
