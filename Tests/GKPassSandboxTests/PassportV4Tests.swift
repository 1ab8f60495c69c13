import GKPassTestSupport
import Foundation
import GKPassSandbox
import Testing

/// The irc7 PassportV4 algorithm written again in Python with the `cryptography` package, from protocol.md §2.5.
let pythonPassportV4 = #"""
import base64, hashlib, hmac, os, sys, urllib.parse
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
secret = sys.argv[2].encode()
ck = hashlib.sha256(b"ENCRYPTION" + secret).digest()[:16]
sk = hashlib.sha256(b"SIGNATURE" + secret).digest()[:16]
if sys.argv[1] == "open":
    raw = base64.b64decode(sys.stdin.read().strip())
    d = Cipher(algorithms.AES(ck), modes.CBC(raw[:16])).decryptor()
    u = padding.PKCS7(128).unpadder()
    plain = (u.update(d.update(raw[16:]) + d.finalize()) + u.finalize()).decode()
    body, sig = plain.split("&sig=")
    assert hmac.compare_digest(base64.b64decode(urllib.parse.unquote(sig)), hmac.new(sk, body.encode(), "sha256").digest())
    print(body)
else:
    body = sys.stdin.read().strip()
    plain = body + "&sig=" + urllib.parse.quote(base64.b64encode(hmac.new(sk, body.encode(), "sha256").digest()).decode(), safe="")
    iv = os.urandom(16)
    p = padding.PKCS7(128).padder()
    e = Cipher(algorithms.AES(ck), modes.CBC(iv)).encryptor()
    print(base64.b64encode(iv + e.update(p.update(plain.encode()) + p.finalize()) + e.finalize()).decode())
"""#

@Suite("PassportV4 tokens")
struct PassportV4Tests {
    let tokens = PassportV4(secret: PassportV4.defaultSecret)

    @Test("seal then open returns the fields")
    func roundTrip() throws {
        let token = tokens.seal(["puid": "0001A2B3C4D5E6F7", "domain": "GateKeeperPassport", "ts": "1700000000", "ttl": "86400"])
        let fields = try #require(tokens.open(token))
        #expect(fields == ["puid": "0001A2B3C4D5E6F7", "domain": "GateKeeperPassport", "ts": "1700000000", "ttl": "86400"])
    }

    @Test("values with & = + / and non-ASCII survive")
    func awkwardValues() throws {
        let token = tokens.seal(["nick": "a&b=c+d/é"])
        #expect(tokens.open(token)?["nick"] == "a&b=c+d/é")
    }

    @Test("another secret, a flipped byte, or garbage does not open")
    func refuses() throws {
        let token = tokens.seal(["nick": "Demo"])
        #expect(PassportV4(secret: "other").open(token) == nil)
        var raw = try #require(Data(base64Encoded: token))
        raw[raw.count - 20] ^= 1
        #expect(tokens.open(raw.base64EncodedString()) == nil)
        for junk in ["", "x", "AAAA", String(repeating: "A", count: 44), "%%%"] { #expect(tokens.open(junk) == nil) }
    }

    @Test("an independent Python implementation opens the sandbox's tokens, and the sandbox opens Python's")
    func crossCheckedWithPython() throws {
        let ours = tokens.seal(["puid": "0001A2B3C4D5E6F7", "ts": "1700000000"])
        let opened = try Run.program("/usr/bin/python3", ["-c", pythonPassportV4, "open", PassportV4.defaultSecret], input: ours)
        #expect(opened.status == 0, "\(opened.stderr)")
        #expect(opened.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "puid=0001A2B3C4D5E6F7&ts=1700000000")

        let theirs = try Run.program("/usr/bin/python3", ["-c", pythonPassportV4, "seal", PassportV4.defaultSecret], input: "nick=Demo&x=1")
        #expect(theirs.status == 0, "\(theirs.stderr)")
        #expect(tokens.open(theirs.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) == ["nick": "Demo", "x": "1"])
    }
}
