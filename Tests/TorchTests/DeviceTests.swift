// DeviceTests — device names, CUDA paths (run only when the linked libtorch has CUDA and a device), and what
// a user's `device` value resolves to on this machine: auto picks CUDA device 0 when libtorch sees one and
// the CPU otherwise; an unavailable or unknown device is an error that says what libtorch sees.
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
    // Peak device memory (read through libtorch's device-generic allocator interface) is an error, not zeros.
    #expect(errorMessage { _ = try TorchRuntime.cudaMemoryPeak(device: 0) } != nil)
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

@Suite struct DeviceResolutionTests {
    @Test func autoAndCPUResolve() throws {
        let cuda = try TorchRuntime.cudaIsAvailable()
        #expect(try Device.resolve("auto") == (cuda ? .cuda(0) : .cpu))
        #expect(try Device.resolve("cpu") == .cpu)
    }

    @Test func anUnavailableOrUnknownDeviceIsAnErrorSayingWhatIsThere() throws {
        let count = try TorchRuntime.cudaIsAvailable() ? TorchRuntime.cudaDeviceCount() : 0
        let beyond = "cuda:\(count)"
        let message = errorMessage { _ = try Device.resolve(beyond) }
        if count == 0 {
            #expect(message?.hasPrefix("device cuda:0 is not available: the linked libtorch \(try TorchRuntime.version()) sees no CUDA device") == true, "\(message ?? "")")
            #expect(errorMessage { _ = try Device.resolve("cuda") } == message)
        } else {
            #expect(message == "device \(beyond) is not available: the linked libtorch sees \(count) CUDA device(s), cuda:0 to cuda:\(count - 1); use cpu or auto")
            #expect(try Device.resolve("cuda") == .cuda(0))
        }
        #expect(errorMessage { _ = try Device.resolve("gpu") } == "unknown device 'gpu': expected auto, cpu, cuda or cuda:N")
    }

    @Test func aModelTensorMovesToTheResolvedDeviceAndBack() throws {
        let device = try Device.resolve("auto")
        let x = try Tensor([1.0, 2.0, 3.0] as [Float]).to(device)
        #expect(x.device == device)
        #expect(try (x * 2).to(.cpu).toArray(Float.self) == [2, 4, 6])
    }
}
