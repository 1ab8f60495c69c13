// libFuzzer entry point (scripts/fuzz builds it with --sanitize=fuzzer --sanitize=address).
import GKPassKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    // The TOML reader and the networks on top of it: errors, never crashes; and what it accepts is safe to use.
    _ = try? TOMLReader.parse(bytes)
    if let config = try? NetworkConfig.parse(String(decoding: bytes, as: UTF8.self), path: "fuzz.toml", baseDirectory: "/nonexistent", home: "/nonexistent") {
        for network in config.networks {
            // Where the password or tickets go is https only, and hosts lists hold bare host names.
            for url in [network.nexusURL, network.webLoginURL, network.chatRoomURL].compactMap({ $0 }) {
                precondition(url.lowercased().hasPrefix("https://"), "a config URL that is not https")
            }
            for host in network.daHosts + network.servers {
                precondition(Network.hostName(host) == host, "a host list entry that is not a bare host name")
            }
            precondition(!network.name.isEmpty && network.name != "sandbox", "a network name that cannot be used")
        }
    }
    return 0
}
