// PythonStyleJSON — JSON written the way Hugging Face libraries write config files
// (`json.dumps(obj, indent=2, sort_keys=True)`): two-space indent, sorted keys, floats as Python prints
// them (0.0 stays 0.0, not 0), non-ASCII escaped. Files Loom writes for transformers and PEFT then
// read, and diff, like theirs.
import Foundation
import Torch

enum PythonStyleJSON {
    /// `value` made of dictionaries, arrays, strings, numbers (NSNumber, Int, Double), Bool and NSNull.
    static func data(_ value: Any) -> Data {
        var text = ""
        write(value, indent: 0, into: &text)
        text += "\n"
        return Data(text.utf8)
    }

    private static func write(_ value: Any, indent: Int, into text: inout String) {
        let pad = String(repeating: " ", count: indent + 2)
        switch value {
        case is NSNull:
            text += "null"
        case let dictionary as [String: Any]:
            guard !dictionary.isEmpty else { text += "{}"; return }
            text += "{\n"
            for (offset, key) in dictionary.keys.sorted().enumerated() {
                text += pad + quoted(key) + ": "
                write(dictionary[key]!, indent: indent + 2, into: &text)
                text += offset == dictionary.count - 1 ? "\n" : ",\n"
            }
            text += String(repeating: " ", count: indent) + "}"
        case let array as [Any]:
            guard !array.isEmpty else { text += "[]"; return }
            text += "[\n"
            for (offset, element) in array.enumerated() {
                text += pad
                write(element, indent: indent + 2, into: &text)
                text += offset == array.count - 1 ? "\n" : ",\n"
            }
            text += String(repeating: " ", count: indent) + "]"
        case let string as String:
            text += quoted(string)
        case let flag as Bool where !(value is NSNumber) || isBoolean(value as! NSNumber):
            text += flag ? "true" : "false"
        case let number as NSNumber:
            let kind = String(cString: number.objCType)
            text += kind == "d" || kind == "f" ? python(number.doubleValue) : "\(number.int64Value)"
        case let integer as Int:
            text += "\(integer)"
        case let real as Double:
            text += python(real)
        default:
            text += quoted("\(value)")
        }
    }

    /// JSONSerialization's true/false are NSNumbers of Objective-C type "c".
    static func isBoolean(_ number: NSNumber) -> Bool { String(cString: number.objCType) == "c" }

    /// Python's repr of a float: Swift's shortest round-trip form, which agrees for finite values
    /// (0.0, 1e-05, 10000.0, 1e+16).
    private static func python(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "Infinity" : "-Infinity") }
        return "\(value)"
    }

    private static func quoted(_ string: String) -> String {
        SafeTensors.jsonString(string, escapingNonASCII: true)
    }
}
