import GateKeeper

/// Hex text to bytes for test literals ("00 20 2c" or "00202c").
func bytes(hex: String) -> [UInt8] {
    let digits = Array(hex.utf8.filter { $0 != 0x20 })
    precondition(digits.count % 2 == 0, "odd hex literal")
    return stride(from: 0, to: digits.count, by: 2).map {
        UInt8(String(decoding: digits[$0...$0 + 1], as: UTF8.self), radix: 16)!
    }
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

/// ASCII text with `<0xNN>` for one raw byte, as protocol.md §5 writes wire examples.
func wire(_ text: String) -> [UInt8] {
    var out: [UInt8] = []
    var rest = Substring(text)
    while !rest.isEmpty {
        if rest.hasPrefix("<0x"), let close = rest.firstIndex(of: ">") {
            out.append(UInt8(rest[rest.index(rest.startIndex, offsetBy: 3)..<close], radix: 16)!)
            rest = rest[rest.index(after: close)...]
        } else {
            out += Array(String(rest.first!).utf8)
            rest = rest.dropFirst()
        }
    }
    return out
}

/// A small deterministic generator (SplitMix64) so property tests are reproducible from their seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) } }
}
