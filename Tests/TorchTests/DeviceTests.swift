// DeviceTests — what a user's `device` value resolves to on this machine: auto picks CUDA device 0 when
// the linked libtorch sees one and the CPU otherwise; an unavailable or unknown device is an error that
// says what libtorch sees. (On a CPU-only build the CUDA errors are checked; on a GPU box, the devices.)
import Testing
import TestSupport
import Torch

@Suite struct DeviceTests {
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
