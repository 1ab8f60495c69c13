internal import FoundationEssentials
public import TicketStore

/// The nexus answer (where the Tweener DA is) per network, kept in the file store's `cache/` so a login makes one
/// request fewer (protocol.md §3a step 1: clients cached PassportURLs). Entries name the nexus they came from and
/// their time, and expire after `maximumAge`; a DA that fails through a cached entry is looked up afresh once.
public struct NexusCache {
    public static let maximumAge: Int64 = 7 * 86_400

    public struct Entry: Codable, Equatable, Sendable {
        public var nexus: String
        public var da: String
        public var fetched: Int64
    }

    let store: FileStore

    public init(store: FileStore) { self.store = store }

    static func name(_ network: String) -> String { "nexus-" + network }

    /// The cached DA for `network` if it came from `nexus` and is younger than `maximumAge` at `now`.
    public func lookup(network: String, nexus: String, now: Int64) -> Entry? {
        guard let bytes = store.readCache(Self.name(network)),
            let entry = try? JSONDecoder().decode(Entry.self, from: Data(bytes)),
            entry.nexus == nexus, entry.fetched <= now, now - entry.fetched < Self.maximumAge
        else { return nil }
        return entry
    }

    /// Keeps `da` for `network`. A cache that cannot be written only costs a request next time.
    public func remember(network: String, nexus: String, da: String, now: Int64) {
        guard let data = try? JSONEncoder().encode(Entry(nexus: nexus, da: da, fetched: now)) else { return }
        try? store.writeCache(Self.name(network), Array(data))
    }

    public func forget(network: String) { store.removeCache(Self.name(network)) }
}
