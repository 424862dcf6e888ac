// SafeTensorsFile — reads a .safetensors file through a read-only memory map: the header is parsed and
// every entry checked against the file up front (dtype known, shape matching the byte count, ranges
// inside the data and not overlapping), so that a bad file fails with an error naming the file and the
// tensor instead of crashing or reading garbage; tensors are then copied out one by one on request.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An open safetensors file. Listing names, shapes and dtypes reads only the header; `tensor(_:)` copies
/// (and optionally converts) one tensor's bytes from the mapping into a new libtorch tensor, so the
/// tensors outlive this object. Holes between tensors are tolerated; overlaps are not.
///
/// Sendable because it is immutable after `init` (the mapping is read-only).
public final class SafeTensorsFile: @unchecked Sendable {
    public let url: URL
    /// The `__metadata__` strings (empty when absent).
    public let metadata: [String: String]
    /// Every tensor's header entry, by name.
    public let entries: [String: SafeTensors.TensorInfo]

    private let mapping: UnsafeRawPointer
    private let mappingLength: Int
    private let dataStart: Int

    /// Opens, maps and validates the file.
    public init(url: URL) throws {
        self.url = url
        let path = url.path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SafeTensorsError(path: path, reason: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            throw SafeTensorsError(path: path, reason: "cannot stat: \(String(cString: strerror(errno)))")
        }
        let fileSize = Int(status.st_size)
        guard fileSize >= 8 else {
            throw SafeTensorsError(path: path, reason: "file is \(fileSize) bytes, too short for the 8-byte header length")
        }
        guard let base = mmap(nil, fileSize, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw SafeTensorsError(path: path, reason: "cannot map: \(String(cString: strerror(errno)))")
        }
        do {
            let raw = UnsafeRawPointer(base)
            let header = try SafeTensorsHeader.parse(UnsafeRawBufferPointer(start: raw, count: fileSize), path: path)
            self.metadata = header.metadata
            self.entries = header.entries
            self.dataStart = header.dataStart
        } catch {
            munmap(base, fileSize)
            throw error
        }
        self.mapping = UnsafeRawPointer(base)
        self.mappingLength = fileSize
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: mapping), mappingLength)
    }

    /// Tensor names, sorted.
    public var names: [String] { entries.keys.sorted() }

    /// The header entry of `name`; an error naming the file and tensor when there is none.
    public func info(_ name: String) throws -> SafeTensors.TensorInfo {
        guard let entry = entries[name] else {
            throw SafeTensorsError(path: url.path, tensor: name, reason: "no such tensor (the file has \(entries.count))")
        }
        return entry
    }

    /// A new tensor with `name`'s data: as stored, or converted to `dtype`; `upcastHalf` converts bf16
    /// and f16 tensors (only those) to f32, as a CPU model loading a half-precision checkpoint wants.
    /// Conversion happens while copying out of the mapping (one pass).
    public func tensor(_ name: String, as dtype: DType? = nil, upcastHalf: Bool = false, device: Device = .cpu) throws -> Tensor {
        let entry = try info(name)
        var target = dtype ?? entry.dtype
        if dtype == nil, upcastHalf, entry.dtype == .bfloat16 || entry.dtype == .float16 { target = .float32 }
        let bytes = UnsafeRawBufferPointer(start: mapping + dataStart + entry.dataOffsets.lowerBound, count: entry.dataOffsets.count)
        do {
            return try Tensor(bytes: bytes, shape: entry.shape, dtype: entry.dtype, as: target, device: device)
        } catch let error as TorchError {
            throw SafeTensorsError(path: url.path, tensor: name, reason: error.message)
        }
    }

    /// Every tensor, by name (see `tensor(_:as:upcastHalf:device:)`).
    public func tensors(upcastHalf: Bool = false, device: Device = .cpu) throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for name in names { result[name] = try tensor(name, upcastHalf: upcastHalf, device: device) }
        return result
    }
}

/// The parsed, validated header of a safetensors file.
struct SafeTensorsHeader {
    let metadata: [String: String]
    let entries: [String: SafeTensors.TensorInfo]
    /// Offset of the first data byte in the file.
    let dataStart: Int

    static func parse(_ file: UnsafeRawBufferPointer, path: String) throws -> SafeTensorsHeader {
        func fail(_ reason: String, tensor: String? = nil) -> SafeTensorsError {
            SafeTensorsError(path: path, tensor: tensor, reason: reason)
        }
        var headerLength: UInt64 = 0
        withUnsafeMutableBytes(of: &headerLength) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: file[0..<8])) }
        headerLength = UInt64(littleEndian: headerLength)
        guard headerLength <= UInt64(file.count - 8) else {
            throw fail("header length \(headerLength) exceeds the \(file.count - 8) bytes that follow it (file is \(file.count) bytes)")
        }
        let dataStart = 8 + Int(headerLength)
        let dataSize = file.count - dataStart
        let headerBytes = Data(UnsafeRawBufferPointer(rebasing: file[8..<dataStart]))
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: headerBytes)
        } catch {
            throw fail("header is not valid JSON (\(headerLength) bytes starting \(String(decoding: headerBytes.prefix(24), as: UTF8.self).debugDescription))")
        }
        guard let object = json as? [String: Any] else { throw fail("header is not a JSON object") }

        var metadata: [String: String] = [:]
        if let rawMetadata = object[SafeTensors.metadataKey] {
            guard let strings = rawMetadata as? [String: Any] else {
                throw fail("\(SafeTensors.metadataKey) is not an object of strings")
            }
            for (key, value) in strings {
                guard let text = value as? String else {
                    throw fail("\(SafeTensors.metadataKey) value for '\(key)' is not a string")
                }
                metadata[key] = text
            }
        }

        var entries: [String: SafeTensors.TensorInfo] = [:]
        for (name, value) in object where name != SafeTensors.metadataKey {
            guard let fields = value as? [String: Any] else { throw fail("entry is not a JSON object", tensor: name) }
            guard let dtypeName = fields["dtype"] as? String else { throw fail("missing string \"dtype\"", tensor: name) }
            guard let dtype = SafeTensors.dtypesByName[dtypeName] else {
                let known = SafeTensors.dtypesByName.keys.sorted().joined(separator: ", ")
                if SafeTensors.unsupportedDTypeNames.contains(dtypeName) {
                    throw fail("dtype \(dtypeName) is not supported by Loom (supported: \(known))", tensor: name)
                }
                throw fail("unknown dtype \"\(dtypeName)\" (supported: \(known))", tensor: name)
            }
            guard let shape = naturals(fields["shape"]) else {
                throw fail("\"shape\" is not an array of non-negative integers", tensor: name)
            }
            guard let offsets = naturals(fields["data_offsets"]), offsets.count == 2 else {
                throw fail("\"data_offsets\" is not a pair of non-negative integers", tensor: name)
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin <= end else {
                throw fail("data_offsets [\(begin), \(end)] end before they begin", tensor: name)
            }
            guard end <= dataSize else {
                throw fail("data_offsets [\(begin), \(end)] run past the end of the data (\(dataSize) bytes): the file is truncated or the header is wrong", tensor: name)
            }
            var expected = dtype.elementSize
            for size in shape {
                let (product, overflow) = expected.multipliedReportingOverflow(by: size)
                guard !overflow else { throw fail("shape \(shape) is too large", tensor: name) }
                expected = product
            }
            guard expected == end - begin else {
                throw fail("shape \(shape) of \(dtypeName) needs \(expected) bytes but data_offsets [\(begin), \(end)] hold \(end - begin)", tensor: name)
            }
            entries[name] = SafeTensors.TensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: begin..<end)
        }

        let ordered = entries.values.filter { !$0.dataOffsets.isEmpty }.sorted {
            ($0.dataOffsets.lowerBound, $0.name) < ($1.dataOffsets.lowerBound, $1.name)
        }
        for (previous, next) in zip(ordered, ordered.dropFirst()) where next.dataOffsets.lowerBound < previous.dataOffsets.upperBound {
            throw fail("data [\(next.dataOffsets.lowerBound), \(next.dataOffsets.upperBound)) overlaps tensor '\(previous.name)' [\(previous.dataOffsets.lowerBound), \(previous.dataOffsets.upperBound))", tensor: next.name)
        }
        return SafeTensorsHeader(metadata: metadata, entries: entries, dataStart: dataStart)
    }

    /// A JSON array of non-negative integers, or nil. (JSON booleans and reals arrive as NSNumbers too;
    /// their type code tells them apart: "c" for booleans, "d"/"f" for reals.)
    private static func naturals(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        var result: [Int] = []
        result.reserveCapacity(array.count)
        for element in array {
            guard let number = element as? NSNumber, !["c", "d", "f"].contains(String(cString: number.objCType)),
                  let integer = element as? Int, integer >= 0
            else { return nil }
            result.append(integer)
        }
        return result
    }
}
