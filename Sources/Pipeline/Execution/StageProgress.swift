// StageProgress — what a running stage last said about its progress (step of total, loss, tokens per
// second, ETA, a message). Stored as JSON on the stage's row, shown live by `loom run` and `loom status`.
import Foundation

public struct StageProgress: Sendable, Equatable {
    public var step: Int?
    public var total: Int?
    public var loss: Double?
    public var tokensPerSecond: Double?
    /// Seconds left; filled in by the reporter from the step rate when the kind does not give it.
    public var etaSeconds: Double?
    public var message: String?

    public init(step: Int? = nil, total: Int? = nil, loss: Double? = nil, tokensPerSecond: Double? = nil,
                etaSeconds: Double? = nil, message: String? = nil) {
        self.step = step
        self.total = total
        self.loss = loss
        self.tokensPerSecond = tokensPerSecond
        self.etaSeconds = etaSeconds
        self.message = message
    }

    public var json: JSONValue {
        var object: [String: JSONValue] = [:]
        if let step { object["step"] = .int(step) }
        if let total { object["total"] = .int(total) }
        if let loss, loss.isFinite { object["loss"] = .double(loss) }
        if let tokensPerSecond, tokensPerSecond.isFinite { object["tokens_per_second"] = .double(tokensPerSecond) }
        if let etaSeconds, etaSeconds.isFinite { object["eta_s"] = .double(etaSeconds) }
        if let message { object["message"] = .string(message) }
        return .object(object)
    }

    public init(json: JSONValue) {
        self.init(step: json["step"]?.intValue, total: json["total"]?.intValue, loss: json["loss"]?.doubleValue,
                  tokensPerSecond: json["tokens_per_second"]?.doubleValue, etaSeconds: json["eta_s"]?.doubleValue,
                  message: json["message"]?.stringValue)
    }

    /// `step 120/1000 · loss 2.310 · 3.1k tok/s · ETA 4:10 · message`
    public var summary: String {
        var parts: [String] = []
        if let step { parts.append(total.map { "step \(step)/\($0)" } ?? "step \(step)") }
        if let loss { parts.append(String(format: "loss %.3f", loss)) }
        if let tokensPerSecond { parts.append("\(Self.compact(tokensPerSecond)) tok/s") }
        if let etaSeconds { parts.append("ETA \(Self.clock(etaSeconds))") }
        if let message, !message.isEmpty { parts.append(message) }
        return parts.joined(separator: " · ")
    }

    static func compact(_ value: Double) -> String {
        switch value {
        case 1e6...: String(format: "%.1fM", value / 1e6)
        case 1e3...: String(format: "%.1fk", value / 1e3)
        default: String(format: "%.0f", value)
        }
    }

    /// `0:42`, `12:05`, `1:02:03`.
    public static func clock(_ seconds: Double) -> String {
        let total = max(0, Int(seconds.rounded()))
        let (h, m, s) = (total / 3600, (total / 60) % 60, total % 60)
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, s) : String(format: "%d:%02d", m, s)
    }
}
