// DeviceParameter — the `device` key of the model kinds (pretrain-base, train, eval): where the model
// runs. Its syntax is checked when the recipe is validated; whether the device exists is checked when the
// stage starts, on the machine that runs it (a recipe may be validated on a login node without a GPU).
// It is not in the fingerprint: a result is reused whichever device made it, and the device used is
// recorded with the stage (its log and its JSON output).
import Pipeline

public enum DeviceParameter {
    static let spec = ParamSpec.string(
        "device", default: "auto",
        doc: "where the model runs: auto (the first CUDA device when libtorch sees one, else the CPU), cpu, cuda or cuda:N")
        .notFingerprinted()

    /// Refuses anything but auto, cpu, cuda and cuda:N.
    static func check(_ value: String) throws {
        if ["auto", "cpu", "cuda"].contains(value) { return }
        if value.hasPrefix("cuda:"), let index = Int(value.dropFirst(5)), index >= 0 { return }
        throw ParameterConstraintError("device", "expected auto, cpu, cuda or cuda:N, got '\(value)'")
    }
}
