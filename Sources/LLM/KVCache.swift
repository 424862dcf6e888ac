// KVCache — keys and values of the positions already processed, per layer, so that generation feeds
// only the new token through the model. Preallocated to a capacity: appending writes into the buffer
// instead of concatenating (which would copy the whole cache at every step).
import Torch

public final class KVCache {
    public let batchSize: Int
    public let capacity: Int
    /// Positions stored so far (the position of the next token fed).
    public private(set) var length = 0
    /// Per layer, (B, kvHeads, capacity, headDim).
    private let keys: [Tensor]
    private let values: [Tensor]

    public init(config: ModelConfig, batchSize: Int, capacity: Int, dtype: DType = .float32, device: Device = .cpu) throws {
        guard batchSize > 0, capacity > 0 else { throw ModelError("a KV cache needs a positive batch size and capacity") }
        self.batchSize = batchSize
        self.capacity = capacity
        let shape = [batchSize, config.numKeyValueHeads, capacity, config.headDim]
        keys = try (0..<config.numHiddenLayers).map { _ in try Tensor.zeros(shape, dtype: dtype, device: device) }
        values = try (0..<config.numHiddenLayers).map { _ in try Tensor.zeros(shape, dtype: dtype, device: device) }
    }

    /// Stores layer `layer`'s keys and values (B, kvHeads, T, D) for positions length..<length+T and
    /// returns the layer's keys and values for positions 0..<length+T (views into the buffer).
    func store(layer: Int, keys newKeys: Tensor, values newValues: Tensor) throws -> (keys: Tensor, values: Tensor) {
        let count = newKeys.shape[2]
        guard length + count <= capacity else {
            throw ModelError("the KV cache holds \(capacity) positions; \(length) are used and \(count) more do not fit")
        }
        try withNoGrad {
            try keys[layer].narrow(dim: 2, start: length, length: count).copy(from: newKeys)
            try values[layer].narrow(dim: 2, start: length, length: count).copy(from: newValues)
        }
        return (try keys[layer].narrow(dim: 2, start: 0, length: length + count),
                try values[layer].narrow(dim: 2, start: 0, length: length + count))
    }

    /// Called once every layer has stored its `count` new positions.
    func advance(by count: Int) {
        length += count
    }
}
