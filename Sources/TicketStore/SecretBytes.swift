internal import Glibc

/// Secret bytes (a ticket document, a password) in one heap buffer that is zeroed when released.
///
/// Swift arrays copy freely, so secrets live here instead and are only exposed inside ``withUnsafeBytes(_:)``.
/// Copies made by callers (a `String` for printing) are theirs to keep short-lived. Never printed: the description
/// shows only the length.
public final class SecretBytes: @unchecked Sendable, CustomStringConvertible {
    private let storage: UnsafeMutableRawBufferPointer
    public let count: Int

    public init(_ bytes: some Collection<UInt8>) {
        count = bytes.count
        storage = .allocate(byteCount: max(count, 1), alignment: 1)
        _ = storage.initializeMemory(as: UInt8.self, from: bytes)
    }

    /// Takes ownership of `bytes` and wipes the caller's array afterwards (as far as Swift lets us: the array's own
    /// buffer, if uniquely referenced).
    public convenience init(consuming bytes: inout [UInt8]) {
        self.init(bytes)
        bytes.withUnsafeMutableBytes { SecretBytes.wipe($0) }
        bytes = []
    }

    deinit {
        SecretBytes.wipe(storage)
        storage.deallocate()
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(rebasing: storage[0..<count]))
    }

    /// A copy as an array, for APIs that need one; the caller should wipe it (``wipe(_:)``) when done.
    public func copyBytes() -> [UInt8] { withUnsafeBytes { Array($0) } }

    public var description: String { "SecretBytes(\(count) bytes)" }

    /// Zeroes memory in a way the optimiser may not remove (explicit_bzero).
    public static func wipe(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        explicit_bzero(base, buffer.count)
    }

    public static func wipe(_ array: inout [UInt8]) {
        array.withUnsafeMutableBytes { wipe($0) }
    }
}
