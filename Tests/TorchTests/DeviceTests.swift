// DeviceTests — device names, and CUDA paths (run only when the linked libtorch has CUDA and a device).
import TestSupport
import Testing
import Torch

private let cudaAvailable = (try? TorchRuntime.cudaIsAvailable()) ?? false

@Test func devicesParseAndPrint() throws {
    #expect(try Device(parsing: "cpu") == .cpu)
    #expect(try Device(parsing: "cuda") == .cuda(0))
    #expect(try Device(parsing: "cuda:3") == .cuda(3))
    #expect(Device.cuda(1).description == "cuda:1")
    #expect(errorMessage { _ = try Device(parsing: "tpu") } == "unknown device 'tpu': expected cpu, cuda or cuda:N")
    #expect(try Tensor.zeros([1]).device == .cpu)
    #expect(try Tensor.zeros([1]).to(.cpu).device == .cpu)
}

@Test(.enabled(if: !cudaAvailable, "a CUDA device is present"))
func cudaRequestsFailWithAMessageWhenThereIsNoCUDA() throws {
    let message = errorMessage { _ = try Tensor.zeros([2], device: .cuda(0)) }
    #expect(message?.hasPrefix("device cuda:0 is not available: the linked libtorch sees 0 CUDA device(s) (a CPU-only build, or no visible GPU") == true)
    #expect(errorMessage { _ = try Generator(seed: 1, device: .cuda(0)) }?.hasPrefix("device cuda:0 is not available") == true)
    #expect(errorMessage { _ = try Tensor.zeros([1]).to(.cuda(0)) }?.hasPrefix("device cuda:0 is not available") == true)
    #expect(try TorchRuntime.cudaDeviceCount() == 0)
}

@Test(.enabled(if: cudaAvailable, "the linked libtorch has no CUDA device"))
func cudaTensorsComputeAndComeBack() throws {
    let x = try Tensor([Float(1), 2, 3]).to(.cuda(0))
    #expect(x.device == .cuda(0))
    let y = try (x * 2 + 1).sum()
    #expect(try y.scalar(Float.self) == 15)
    #expect(try x.to(.cpu).toArray(Float.self) == [1, 2, 3])
    let g = try Generator(seed: 4, device: .cuda(0))
    let a = try Tensor.randn([8], device: .cuda(0), generator: g).bytes()
    try g.reseed(4)
    #expect(try Tensor.randn([8], device: .cuda(0), generator: g).bytes() == a)
    let w = try Tensor.ones([2], device: .cuda(0)).setRequiresGrad()
    try (w * w).sum().backward()
    #expect(try #require(w.grad).toArray(Float.self) == [2, 2])
}
