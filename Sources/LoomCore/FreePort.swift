// FreePort — a TCP port that is free on this host now, chosen by the kernel (bind to port 0 on the
// loopback interface, read the number back, close): where a data-parallel stage's rank 0 serves its
// rendezvous store. Another process could take it before it is bound again; a rendezvous that fails
// says so.
import Foundation
import Glibc

public enum FreePort {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func onLoopback() throws -> Int {
        func failure(_ what: String) -> Failure { Failure(description: "cannot \(what) to find a free port: \(String(cString: strerror(errno)))") }
        let socketHandle = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketHandle >= 0 else { throw failure("open a socket") }
        defer { close(socketHandle) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketHandle, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw failure("bind a socket") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketHandle, $0, &length) }
        }
        guard named == 0 else { throw failure("read the bound port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
