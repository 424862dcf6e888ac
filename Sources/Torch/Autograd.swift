// Autograd — marking parameters, back-propagation, reading and resetting gradients, and grad mode
// (`withNoGrad`), all through libtorch's autograd engine (ops called from the shim dispatch through
// ATen's autograd kernels, so a graph is recorded whenever an input requires grad and grad mode is on).
import CTorch

extension Tensor {
    /// Whether gradients flow to this tensor.
    public var requiresGrad: Bool {
        var flag: Int32 = 0
        mustSucceed { ctorch_requires_grad(handle, &flag, $0) }
        return flag != 0
    }

    /// Marks (or unmarks) a leaf tensor as a parameter whose gradient `backward()` accumulates in `grad`.
    /// Returns self, so that `let w = try Tensor.randn([4, 4]).setRequiresGrad()` reads naturally.
    @discardableResult
    public func setRequiresGrad(_ requiresGrad: Bool = true) throws -> Tensor {
        try check { ctorch_set_requires_grad(handle, requiresGrad ? 1 : 0, $0) }
        return self
    }

    /// True for tensors made by the user (not by an op on tensors that require grad).
    public var isLeaf: Bool {
        var flag: Int32 = 0
        mustSucceed { ctorch_is_leaf(handle, &flag, $0) }
        return flag != 0
    }

    /// Keeps the gradient of this non-leaf tensor after `backward()` (to inspect intermediate gradients).
    public func retainGrad() throws {
        try check { ctorch_retain_grad(handle, $0) }
    }

    /// Back-propagates from this tensor, accumulating into the `grad` of every leaf that requires grad.
    /// `gradient` is d(something)/d(self); omit it for a one-element loss. `retainGraph` allows a second
    /// backward through the same graph.
    public func backward(_ gradient: Tensor? = nil, retainGraph: Bool = false) throws {
        try check { ctorch_backward(handle, gradient?.handle, retainGraph ? 1 : 0, $0) }
    }

    /// The accumulated gradient (sharing storage with it: in-place changes such as clipping act on the
    /// real gradient), or nil when none has been computed or it was cleared.
    public var grad: Tensor? {
        var out: OpaquePointer? = nil
        mustSucceed { ctorch_grad(handle, &out, $0) }
        return out.map { Tensor(owning: $0) }
    }

    /// Replaces the gradient (same shape), or clears it with nil.
    public func setGrad(_ gradient: Tensor?) throws {
        try check { ctorch_set_grad(handle, gradient?.handle, $0) }
    }

    /// Drops the gradient (the next backward starts from nothing) — PyTorch's `zero_grad(set_to_none=True)`.
    public func clearGrad() throws { try setGrad(nil) }

    /// Sets the existing gradient, if any, to zeros in place.
    public func zeroGrad() throws {
        try grad?.zero()
    }
}

/// Grad mode of the calling thread (libtorch's is thread-local). Disable it for inference and for
/// optimizer updates: no graph is recorded, so ops run leaner and in-place updates of parameters are
/// allowed.
public enum GradMode {
    public static var isEnabled: Bool {
        var enabled: Int32 = 0
        mustSucceed { ctorch_is_grad_enabled(&enabled, $0) }
        return enabled != 0
    }

    /// Sets grad mode on the calling thread and returns the previous mode.
    @discardableResult
    public static func setEnabled(_ enabled: Bool) -> Bool {
        var previous: Int32 = 0
        mustSucceed { ctorch_set_grad_enabled(enabled ? 1 : 0, &previous, $0) }
        return previous != 0
    }
}

/// Runs `body` with grad mode off on this thread, restoring the previous mode afterwards (also when
/// `body` throws). Synchronous on purpose: grad mode is thread-local, and an `async` body could resume
/// on another thread.
public func withNoGrad<T>(_ body: () throws -> T) rethrows -> T {
    try withGradMode(enabled: false, body)
}

/// Runs `body` with grad mode set to `enabled` on this thread, then restores the previous mode.
public func withGradMode<T>(enabled: Bool, _ body: () throws -> T) rethrows -> T {
    let previous = GradMode.setEnabled(enabled)
    defer { GradMode.setEnabled(previous) }
    return try body()
}
