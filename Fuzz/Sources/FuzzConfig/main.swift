// libFuzzer entry point (scripts/fuzz builds it with --sanitize=fuzzer --sanitize=address).
import GKPassKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    // The TOML reader and the networks on top of it: errors, never crashes.
    _ = try? TOMLReader.parse(bytes)
    _ = try? NetworkConfig.parse(String(decoding: bytes, as: UTF8.self), path: "fuzz.toml", baseDirectory: "/nonexistent", home: "/nonexistent")
    return 0
}
