// OptimAdamW — AdamW with PyTorch's arithmetic (torch.optim.AdamW's single-tensor path, the one PyTorch
// takes for CPU tensors): decoupled weight decay, bias corrections computed in double precision, epsilon
// added outside the square root, and the same in-place ops (lerp_, mul_, addcmul_, sqrt, div, add_,
// addcdiv_) in the same order, so the float32 roundings are PyTorch's. Its state (step counts, exp_avg,
// exp_avg_sq) saves to safetensors + JSON and loads back bit for bit.
import Foundation
import LoomCore

public final class AdamW {
    /// PyTorch's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 1e-2.
    public struct Configuration: Codable, Sendable, Equatable {
        public var learningRate: Double
        public var beta1: Double
        public var beta2: Double
        public var epsilon: Double
        public var weightDecay: Double

        public init(
            learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
            weightDecay: Double = 1e-2
        ) {
            self.learningRate = learningRate
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
            self.weightDecay = weightDecay
        }
    }

    /// A tensor the optimizer updates, under a name that is unique within the optimizer (the key of its
    /// state in a checkpoint), with optional per-parameter weight decay and learning-rate multiplier
    /// (PyTorch's parameter groups, one parameter at a time).
    public struct Parameter {
        public let name: String
        public let tensor: Tensor
        /// nil: the configuration's weight decay.
        public var weightDecay: Double?
        public var learningRateScale: Double

        public init(name: String, tensor: Tensor, weightDecay: Double? = nil, learningRateScale: Double = 1) {
            self.name = name
            self.tensor = tensor
            self.weightDecay = weightDecay
            self.learningRateScale = learningRateScale
        }
    }

    /// One parameter's moments, created at its first update (as PyTorch creates them lazily).
    final class Moments {
        var step: Int
        let expAvg: Tensor
        let expAvgSq: Tensor

        init(step: Int, expAvg: Tensor, expAvgSq: Tensor) {
            self.step = step
            self.expAvg = expAvg
            self.expAvgSq = expAvgSq
        }
    }

    public let parameters: [Parameter]
    public var configuration: Configuration
    /// Number of `step()` calls so far — the step a learning-rate schedule is evaluated at.
    public private(set) var stepCount: Int = 0
    private var moments: [Moments?]

    /// The base learning rate of the next update (set it from a schedule before each `step()`).
    public var learningRate: Double {
        get { configuration.learningRate }
        set { configuration.learningRate = newValue }
    }

    public init(parameters: [Parameter], configuration: Configuration = Configuration()) throws {
        var seen = Set<String>()
        for parameter in parameters {
            guard seen.insert(parameter.name).inserted else {
                throw TorchError("AdamW: parameter name '\(parameter.name)' appears twice")
            }
            guard parameter.tensor.dtype.isFloatingPoint else {
                throw TorchError("AdamW: parameter '\(parameter.name)' is \(parameter.tensor.dtype), not a floating-point tensor")
            }
        }
        self.parameters = parameters
        self.configuration = configuration
        self.moments = Array(repeating: nil, count: parameters.count)
    }

    /// Named tensors, all with the same settings.
    public convenience init(named tensors: [(name: String, tensor: Tensor)], configuration: Configuration = Configuration()) throws {
        try self.init(parameters: tensors.map { Parameter(name: $0.name, tensor: $0.tensor) }, configuration: configuration)
    }

    /// One update of every parameter that has a gradient (the others are left alone and keep their
    /// step count, as in PyTorch). Runs with grad mode off.
    public func step() throws {
        let c = configuration
        try withNoGrad {
            for (index, parameter) in parameters.enumerated() {
                guard let grad = parameter.tensor.grad else { continue }
                let state = try moments[index] ?? Moments(step: 0, expAvg: parameter.tensor.zerosLike(), expAvgSq: parameter.tensor.zerosLike())
                moments[index] = state
                state.step += 1

                let lr = c.learningRate * parameter.learningRateScale
                let weightDecay = parameter.weightDecay ?? c.weightDecay
                if weightDecay != 0 { try parameter.tensor.mulInPlace(1 - lr * weightDecay) }
                try state.expAvg.lerpInPlace(grad, weight: 1 - c.beta1)
                try state.expAvgSq.mulInPlace(c.beta2)
                try state.expAvgSq.addcmulInPlace(grad, grad, value: 1 - c.beta2)

                let biasCorrection1 = 1 - Foundation.pow(c.beta1, Double(state.step))
                let biasCorrection2 = 1 - Foundation.pow(c.beta2, Double(state.step))
                let stepSize = lr / biasCorrection1
                let biasCorrection2Sqrt = Foundation.pow(biasCorrection2, 0.5)
                let denominator = try state.expAvgSq.sqrt().div(biasCorrection2Sqrt)
                try denominator.addInPlace(c.epsilon)
                try parameter.tensor.addcdivInPlace(state.expAvg, denominator, value: -stepSize)
            }
        }
        stepCount += 1
    }

    /// Drops every parameter's gradient (PyTorch's `zero_grad()`, which sets them to None).
    public func zeroGrad() throws {
        try Gradients.clear(parameters.map(\.tensor))
    }

    // MARK: state

    /// What `saveState` writes as JSON besides the moment tensors.
    public struct State: Codable, Sendable, Equatable {
        public struct ParameterState: Codable, Sendable, Equatable {
            public var name: String
            public var step: Int
            public var shape: [Int]
        }

        public static let currentFormat = "loom.adamw/1"
        public var format: String
        public var configuration: Configuration
        public var stepCount: Int
        /// Parameters that have moments (those updated at least once), in the optimizer's order.
        public var parameters: [ParameterState]
    }

    /// The moment tensors, keyed `<name>.exp_avg` and `<name>.exp_avg_sq`, and the JSON-able rest.
    public func state() -> (state: State, tensors: [String: Tensor]) {
        var tensors: [String: Tensor] = [:]
        var entries: [State.ParameterState] = []
        for (parameter, state) in zip(parameters, moments) {
            guard let state else { continue }
            tensors["\(parameter.name).exp_avg"] = state.expAvg
            tensors["\(parameter.name).exp_avg_sq"] = state.expAvgSq
            entries.append(.init(name: parameter.name, step: state.step, shape: parameter.tensor.shape))
        }
        let state = State(format: State.currentFormat, configuration: configuration, stepCount: stepCount, parameters: entries)
        return (state, tensors)
    }

    /// Restores a state from `state()`: every saved parameter must exist here with the same shape. The
    /// tensors are copied, so the caller's may be released.
    public func load(state: State, tensors: [String: Tensor]) throws {
        guard state.format == State.currentFormat else {
            throw TorchError("AdamW state has format '\(state.format)', expected '\(State.currentFormat)'")
        }
        let indexByName = Dictionary(uniqueKeysWithValues: parameters.enumerated().map { ($1.name, $0) })
        var restored: [Moments?] = Array(repeating: nil, count: parameters.count)
        for entry in state.parameters {
            guard let index = indexByName[entry.name] else {
                throw TorchError("AdamW state has parameter '\(entry.name)', which this optimizer does not have")
            }
            let shape = parameters[index].tensor.shape
            guard entry.shape == shape else {
                throw TorchError("AdamW state for '\(entry.name)' has shape \(entry.shape), the parameter has \(shape)")
            }
            func moment(_ suffix: String) throws -> Tensor {
                let key = "\(entry.name).\(suffix)"
                guard let tensor = tensors[key] else { throw TorchError("AdamW state lacks tensor '\(key)'") }
                guard tensor.shape == shape else {
                    throw TorchError("AdamW state tensor '\(key)' has shape \(tensor.shape), expected \(shape)")
                }
                let copy = try parameters[index].tensor.zerosLike()
                try copy.copy(from: tensor)
                return copy
            }
            restored[index] = Moments(step: entry.step, expAvg: try moment("exp_avg"), expAvgSq: try moment("exp_avg_sq"))
        }
        moments = restored
        configuration = state.configuration
        stepCount = state.stepCount
    }

    /// File names inside a state directory.
    public static let stateTensorsFile = "optimizer.safetensors"
    public static let stateJSONFile = "optimizer.json"

    /// Writes `optimizer.safetensors` (moments) and `optimizer.json` (the rest) into `directory`, each
    /// atomically. Write the JSON last so a reader never sees JSON without its tensors.
    public func saveState(to directory: URL) throws {
        let (state, tensors) = state()
        try SafeTensors.write(tensors, metadata: ["format": State.currentFormat], to: directory.appendingPathComponent(Self.stateTensorsFile))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(encoder.encode(state), to: directory.appendingPathComponent(Self.stateJSONFile))
    }

    /// Reads what `saveState(to:)` wrote.
    public func loadState(from directory: URL) throws {
        let jsonURL = directory.appendingPathComponent(Self.stateJSONFile)
        let state: State
        do {
            state = try JSONDecoder().decode(State.self, from: Data(contentsOf: jsonURL))
        } catch {
            throw TorchError("\(jsonURL.path): not an AdamW state: \(error)")
        }
        let file = try SafeTensorsFile(url: directory.appendingPathComponent(Self.stateTensorsFile))
        try load(state: state, tensors: file.tensors())
    }
}
