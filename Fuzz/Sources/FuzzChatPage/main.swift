// libFuzzer entry point (scripts/fuzz builds it with --sanitize=fuzzer --sanitize=address).
import Passport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    let params = ChatPage.params(bytes)
    // Every PARAM comes from a <param tag in the page: never more of them than tags, and none without a name.
    let lowered = bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
    let tag = Array("<param".utf8)
    var tags = 0
    if lowered.count >= tag.count {
        for index in 0...(lowered.count - tag.count) where lowered[index..<(index + tag.count)].elementsEqual(tag) { tags += 1 }
    }
    precondition(params.count <= tags, "more PARAMs than <param tags")
    precondition(!params.keys.contains(""), "a PARAM without a name")
    return 0
}
