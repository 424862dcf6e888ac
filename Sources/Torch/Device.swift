// Device — where a tensor lives: the CPU or a CUDA device (when the linked libtorch has CUDA).
import CTorch

public enum Device: Sendable, Hashable, CustomStringConvertible {
    case cpu
    /// CUDA device N (`cuda:N`).
    case cuda(Int)

    /// Parses "cpu", "cuda" (= cuda:0) or "cuda:N".
    public init(parsing text: String) throws {
        switch text {
        case "cpu": self = .cpu
        case "cuda": self = .cuda(0)
        default:
            guard text.hasPrefix("cuda:"), let index = Int(text.dropFirst(5)), index >= 0 else {
                throw TorchError("unknown device '\(text)': expected cpu, cuda or cuda:N")
            }
            self = .cuda(index)
        }
    }

    public var description: String {
        switch self {
        case .cpu: "cpu"
        case .cuda(let index): "cuda:\(index)"
        }
    }

    var ctorch: ctorch_device {
        switch self {
        case .cpu: ctorch_device(type: Int32(CTORCH_DEVICE_CPU.rawValue), index: 0)
        case .cuda(let index): ctorch_device(type: Int32(CTORCH_DEVICE_CUDA.rawValue), index: Int32(clamping: index))
        }
    }

    init(ctorch: ctorch_device) {
        self = ctorch.type == Int32(CTORCH_DEVICE_CUDA.rawValue) ? .cuda(Int(ctorch.index)) : .cpu
    }
}

extension Device {
    /// The device a recipe's `device` key or a verb's `--device` names — `auto` (CUDA device 0 where the
    /// linked libtorch sees one, else the CPU), `cpu`, `cuda` or `cuda:N` — checked against the devices
    /// libtorch sees, so that asking a CPU-only build for CUDA fails before any weight is read.
    public static func resolve(_ text: String) throws -> Device {
        let cudaDevices = try TorchRuntime.cudaIsAvailable() ? TorchRuntime.cudaDeviceCount() : 0
        if text == "auto" { return cudaDevices > 0 ? .cuda(0) : .cpu }
        let device: Device
        do {
            device = try Device(parsing: text)
        } catch {
            throw TorchError("unknown device '\(text)': expected auto, cpu, cuda or cuda:N")
        }
        if case .cuda(let index) = device, index >= cudaDevices {
            let seen = cudaDevices == 0
                ? "the linked libtorch \(try TorchRuntime.version()) sees no CUDA device (a CPU build, or no GPU visible; `loom torch-info` says which)"
                : "the linked libtorch sees \(cudaDevices) CUDA device(s), cuda:0 to cuda:\(cudaDevices - 1)"
            throw TorchError("device \(device) is not available: \(seen); use cpu or auto")
        }
        return device
    }
}
