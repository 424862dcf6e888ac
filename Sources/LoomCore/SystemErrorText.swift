// SystemErrorText — the words a person should read for a Foundation file error: the operating
// system's own ("No such file or directory", "Permission denied") when Foundation wraps one, instead
// of "The operation could not be completed" or an `Error Domain=NSCocoaErrorDomain Code=…` dump.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum SystemErrorText {
    public static func reason(_ error: Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if nsError.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(nsError.code))) }
        if nsError.domain == NSCocoaErrorDomain, nsError.code == NSFileReadNoSuchFileError || nsError.code == NSFileNoSuchFileError {
            return String(cString: strerror(ENOENT))
        }
        return nsError.localizedFailureReason ?? nsError.localizedDescription
    }
}
