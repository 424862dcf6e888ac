// SentencePieceLibrary — finds and opens libLoomSentencePiece.so (our C shim over libsentencepiece)
// at run time, and resolves its entry points.
//
// Why dlopen and not a link-time dependency: Debian's libsentencepiece bundles protobuf-lite 3.14 and
// exports its symbols; libtorch loads libprotobuf 3.21. A process that links both aborts in protobuf's
// static initialisers before `main`. Opened with RTLD_LOCAL | RTLD_DEEPBIND, the shim and
// libsentencepiece resolve protobuf to their own copy and nobody else sees it, so the same process
// (loom, loom-torch, the test bundle) can use SentencePiece and libtorch side by side.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public struct SentencePieceError: Error, CustomStringConvertible, Sendable {
    public let message: String
    /// The condition of a SentencePiece check that failed without a sentence of its own
    /// (`!sentences_.empty()`), for the caller to explain in its own terms.
    let failedCheck: String?

    public init(_ message: String) {
        self.init(message: message, failedCheck: nil)
    }

    private init(message: String, failedCheck: String?) {
        self.message = message
        self.failedCheck = failedCheck
    }

    public var description: String { message }

    /// SentencePiece's failed checks read `Internal: ./src/file.cc(N) [condition] sentence`: a person
    /// needs the sentence; when there is none, what failed is kept for the caller.
    init(shimMessage: String) {
        guard shimMessage.hasPrefix("Internal: "), let open = shimMessage.firstIndex(of: "[") else {
            self.init(shimMessage)
            return
        }
        var depth = 0
        var close: String.Index?
        for index in shimMessage[open...].indices {
            if shimMessage[index] == "[" { depth += 1 }
            if shimMessage[index] == "]" { depth -= 1 }
            if depth == 0 { close = index; break }
        }
        guard let close else {
            self.init(shimMessage)
            return
        }
        let condition = String(shimMessage[shimMessage.index(after: open)..<close])
        let sentence = shimMessage[shimMessage.index(after: close)...].trimmingCharacters(in: .whitespaces)
        if sentence.isEmpty {
            self.init(message: "SentencePiece refused it (failed check: \(condition))", failedCheck: condition)
        } else {
            self.init(sentence)
        }
    }
}

typealias CString = UnsafeMutablePointer<CChar>
typealias ErrorOut = UnsafeMutablePointer<CString?>

/// The shim's C entry points (declared in Sources/CSentencePiece/include/csentencepiece.h).
struct SentencePieceLibrary: @unchecked Sendable {  // immutable C function pointers into a library never unloaded
    typealias ProcessorLoad = @convention(c) (UnsafePointer<CChar>, UnsafeMutablePointer<OpaquePointer?>, ErrorOut?) -> Int32
    typealias ProcessorPieceSize = @convention(c) (OpaquePointer, UnsafeMutablePointer<Int32>, ErrorOut?) -> Int32
    typealias ProcessorPiece = @convention(c) (
        OpaquePointer, Int32, UnsafeMutablePointer<CString?>, UnsafeMutablePointer<Int>, UnsafeMutablePointer<Float>,
        UnsafeMutablePointer<Int32>, ErrorOut?
    ) -> Int32
    typealias ProcessorOption = @convention(c) (OpaquePointer, UnsafePointer<CChar>, UnsafeMutablePointer<CString?>, ErrorOut?) -> Int32
    typealias ProcessorEncodeIds = @convention(c) (
        OpaquePointer, UnsafePointer<CChar>?, Int, UnsafeMutablePointer<UnsafeMutablePointer<Int32>?>, UnsafeMutablePointer<Int>, ErrorOut?
    ) -> Int32
    typealias ProcessorEncodePieces = @convention(c) (
        OpaquePointer, UnsafePointer<CChar>?, Int, UnsafeMutablePointer<CString?>, UnsafeMutablePointer<Int>, UnsafeMutablePointer<Int>,
        ErrorOut?
    ) -> Int32
    typealias ProcessorDecodeIds = @convention(c) (
        OpaquePointer, UnsafePointer<Int32>?, Int, UnsafeMutablePointer<CString?>, UnsafeMutablePointer<Int>, ErrorOut?
    ) -> Int32
    typealias Train = @convention(c) (
        UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?, Int, UnsafePointer<UnsafePointer<CChar>?>?, Int,
        Int32, UnsafeMutablePointer<CString?>, UnsafeMutablePointer<Int>, ErrorOut?
    ) -> Int32

    let freeString: @convention(c) (CString?) -> Void
    let freeBuffer: @convention(c) (UnsafeMutableRawPointer?) -> Void
    let processorLoad: ProcessorLoad
    let processorFree: @convention(c) (OpaquePointer?) -> Void
    let processorPieceSize: ProcessorPieceSize
    let processorPiece: ProcessorPiece
    let processorOption: ProcessorOption
    let processorEncodeIds: ProcessorEncodeIds
    let processorEncodePieces: ProcessorEncodePieces
    let processorDecodeIds: ProcessorDecodeIds
    let train: Train

    static let fileName = "libLoomSentencePiece.so"

    /// The library, opened once per process.
    static func shared() throws -> SentencePieceLibrary {
        try loaded.get()
    }

    private static let loaded: Result<SentencePieceLibrary, SentencePieceError> = Result { try open() }
        .mapError { $0 as? SentencePieceError ?? SentencePieceError("\($0)") }

    /// Where the shim may be: `$LOOM_SENTENCEPIECE_LIB`, beside the running executable (or the test
    /// bundle), then the dynamic loader's own search path.
    static func candidatePaths() -> [String] {
        var paths: [String] = []
        if let explicit = ProcessInfo.processInfo.environment["LOOM_SENTENCEPIECE_LIB"], !explicit.isEmpty {
            paths.append(explicit)
        }
        var directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        while directory.pathExtension == "xctest" { directory = directory.deletingLastPathComponent() }
        paths.append(directory.appendingPathComponent(fileName).path)
        paths.append(directory.deletingLastPathComponent().appendingPathComponent("lib").appendingPathComponent(fileName).path)
        paths.append(fileName)
        return paths
    }

    private static func open() throws -> SentencePieceLibrary {
        var failures: [String] = []
        for path in candidatePaths() {
            if path.contains("/") && !FileManager.default.fileExists(atPath: path) {
                failures.append("\(path): not found")
                continue
            }
            guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND) else {
                failures.append("\(path): \(String(cString: dlerror()))")
                continue
            }
            return try SentencePieceLibrary(handle: handle, path: path)
        }
        throw SentencePieceError(
            "cannot load \(fileName) (build it with `swift build --product LoomSentencePiece`, or set LOOM_SENTENCEPIECE_LIB):\n  "
                + failures.joined(separator: "\n  "))
    }

    private init(handle: UnsafeMutableRawPointer, path: String) throws {
        func symbol<T>(_ name: String, as type: T.Type) throws -> T {
            guard let address = dlsym(handle, name) else {
                throw SentencePieceError("\(path) lacks \(name): the shim is older than this Loom; rebuild it")
            }
            return unsafeBitCast(address, to: type)
        }
        freeString = try symbol("cspm_free_string", as: (@convention(c) (CString?) -> Void).self)
        freeBuffer = try symbol("cspm_free_buffer", as: (@convention(c) (UnsafeMutableRawPointer?) -> Void).self)
        processorLoad = try symbol("cspm_processor_load", as: ProcessorLoad.self)
        processorFree = try symbol("cspm_processor_free", as: (@convention(c) (OpaquePointer?) -> Void).self)
        processorPieceSize = try symbol("cspm_processor_piece_size", as: ProcessorPieceSize.self)
        processorPiece = try symbol("cspm_processor_piece", as: ProcessorPiece.self)
        processorOption = try symbol("cspm_processor_option", as: ProcessorOption.self)
        processorEncodeIds = try symbol("cspm_processor_encode_ids", as: ProcessorEncodeIds.self)
        processorEncodePieces = try symbol("cspm_processor_encode_pieces", as: ProcessorEncodePieces.self)
        processorDecodeIds = try symbol("cspm_processor_decode_ids", as: ProcessorDecodeIds.self)
        train = try symbol("cspm_train", as: Train.self)
    }

    /// Runs one shim call; a non-zero status becomes a thrown error carrying the shim's message.
    func check(_ call: (ErrorOut) -> Int32) throws {
        var message: CString? = nil
        if call(&message) != 0 {
            defer { freeString(message) }
            throw SentencePieceError(shimMessage: message.map { String(cString: $0) } ?? "sentencepiece call failed without a message")
        }
    }
}
