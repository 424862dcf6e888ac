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
