internal import Glibc

/// The process environment, read once (no Foundation: this binary starts on every connection).
enum Environment {
    /// Every `NAME=value` entry of `environ`. A name given twice keeps its first value, the one `getenv` (and so
    /// GDBus and libcurl) sees. Split on the bytes: `String.firstIndex(of:)` compares Characters (grapheme by
    /// grapheme), which cost about 6,000 instructions an entry, two thirds of a read's own Swift work before the
    /// store (callgrind, docs/benchmarks.md).
    static var current: [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            pointer += 1
            guard let equals = strchr(entry, 0x3D) else { continue }
            let name = String(decoding: UnsafeRawBufferPointer(start: entry, count: equals - entry), as: UTF8.self)
            if result[name] == nil { result[name] = String(cString: equals + 1) }
        }
        return result
    }
}
