// ErrorText — an error as one readable line. Loom's own errors describe themselves; Foundation's
// NSErrors print as "Error Domain=… Code=…", so they are reduced to the reason and the path.
import Foundation
import LoomCore

public enum ErrorText {
    public static func describe(_ error: Error) -> String {
        let text = String(describing: error)
        if !text.hasPrefix("Error Domain=") { return text }
        let nsError = error as NSError
        let reason = SystemErrorText.reason(error)
        if let path = nsError.userInfo[NSFilePathErrorKey] as? String {
            return "\(reason): \(path)"
        }
        return reason
    }
}
