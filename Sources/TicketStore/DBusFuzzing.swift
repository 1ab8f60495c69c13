/// What FuzzDBusMessage and FuzzRegressionTests run on one input: the bus's byte stream through the framer (whole,
/// and one byte at a time, which must agree), every message's body through the readers the direct read uses, and
/// the same bytes as an authentication answer and as a bus address. Properties, not just "no crash": a message the
/// framer accepts re-encodes (as a method call with its body) to bytes that frame back to the same body.
public enum DBusFuzzing {
    public static func check(_ bytes: [UInt8]) {
        let whole = frames(bytes, step: bytes.count)
        // One byte at a time for inputs of message size; in 7-byte steps for long streams (the fuzzer's speed).
        let trickled = frames(bytes, step: bytes.count <= 2048 ? 1 : 7)
        precondition(whole == trickled, "the framer's answer depends on how the bytes arrive")
        for message in whole {
            readBody(message)
            let again = DBusMessage.methodCall(
                serial: message.serial, destination: nil, path: "/", interface: nil, member: "M", signature: message.signature, body: message.body)
            var framer = DBusFramer()
            framer.append(again)
            if message.signature.utf8.count < 256, let reread = try? framer.next() {
                precondition(reread.body == message.body && reread.signature == message.signature, "a body does not survive re-encoding")
            }
        }
        _ = try? DBusAuthentication.reply(bytes)
        _ = DBusAddress.unixSocket(String(decoding: bytes, as: UTF8.self))
    }

    /// Messages until the first error or the end of the input.
    static func frames(_ bytes: [UInt8], step: Int) -> [DBusMessage] {
        var framer = DBusFramer()
        var messages: [DBusMessage] = []
        var offset = 0
        repeat {
            let end = min(bytes.count, offset + max(step, 1))
            framer.append(bytes[offset..<end])
            offset = end
            do {
                while let message = try framer.next() { messages.append(message) }
            } catch { return messages }
        } while offset < bytes.count
        return messages
    }

    /// The readers of the direct read, on whatever body arrives (they must refuse what does not fit).
    static func readBody(_ message: DBusMessage) {
        _ = message.errorMessage
        var reader = message.bodyReader()
        _ = try? reader.array(elementAlignment: 4) { (r: inout DBusReader) throws(DBusWire.Malformed) in try r.string() }
        reader = message.bodyReader()
        if (try? reader.signature()) != nil { _ = try? reader.byteArray(); _ = try? reader.string() }
        reader = message.bodyReader()
        _ = try? reader.structure()
        _ = try? reader.string()
        _ = try? reader.byteArray()
        _ = try? reader.byteArray()
        _ = try? reader.string()
    }
}
