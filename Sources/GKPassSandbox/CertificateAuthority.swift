import Crypto
public import Foundation
import SwiftASN1
import X509

/// The sandbox's own certificate authority, made on first start and kept in the state directory, and the server
/// certificate it signs for the loopback names. Clients trust the sandbox by pointing at `ca.pem` (design.md §8).
///
/// Files: `ca.pem` (0644, the only one clients need), `ca.key` (0600), `server.pem` (0644), `server.key` (0600).
/// An existing CA is reused, so a client's trust survives restarts; the server certificate is reissued when it is
/// missing, unreadable, about to expire, or does not name every address the sandbox listens on (a state directory
/// from before `da-offsite-redirect` has a certificate without 127.0.0.2, and gets a new one).
public struct CertificateAuthority: Sendable {
    public let caFile: String
    public let serverCertificatePEM: String
    public let serverKeyPEM: String

    /// Loads or creates the CA and a server certificate for `hosts` (IP literals or DNS names; the first is the
    /// subject's common name). `faults` may ask for a broken server certificate (`expired-certificate`,
    /// `wrong-host-certificate`): it is minted fresh for this run and not kept.
    public static func prepare(stateDirectory: String, hosts: [String], faults: Set<SandboxFault> = [], now: Date = Date()) throws -> CertificateAuthority {
        let host = hosts.first ?? "127.0.0.1"
        let caCertPath = stateDirectory + "/ca.pem", caKeyPath = stateDirectory + "/ca.key"
        let serverCertPath = stateDirectory + "/server.pem", serverKeyPath = stateDirectory + "/server.key"

        var caKey: P256.Signing.PrivateKey
        var caCertificate: Certificate
        if let keyText = try? String(contentsOfFile: caKeyPath, encoding: .utf8),
            let certText = try? String(contentsOfFile: caCertPath, encoding: .utf8),
            let key = try? P256.Signing.PrivateKey(pemRepresentation: keyText),
            let certificate = try? Certificate(pemEncoded: certText),
            certificate.notValidAfter > now.addingTimeInterval(86_400)
        {
            caKey = key
            caCertificate = certificate
        } else {
            caKey = P256.Signing.PrivateKey()
            let name = try DistinguishedName {
                OrganizationName("gkpass-sandbox")
                CommonName("gkpass-sandbox local CA")
            }
            let identifier = SubjectKeyIdentifier(hash: Certificate.PublicKey(caKey.publicKey))
            caCertificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(),
                publicKey: Certificate.PublicKey(caKey.publicKey),
                notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(10 * 365 * 86_400),
                issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    identifier
                },
                issuerPrivateKey: Certificate.PrivateKey(caKey))
            try write(caKey.pemRepresentation, to: caKeyPath, mode: 0o600)
            try write(try caCertificate.serializeAsPEM().pemString, to: caCertPath, mode: 0o644)
            // A new CA invalidates any old server certificate.
            try? FileManager.default.removeItem(atPath: serverCertPath)
        }

        let broken = faults.contains(.expiredCertificate) || faults.contains(.wrongHostCertificate)
        if !broken, let certText = try? String(contentsOfFile: serverCertPath, encoding: .utf8),
            let keyText = try? String(contentsOfFile: serverKeyPath, encoding: .utf8),
            let certificate = try? Certificate(pemEncoded: certText),
            certificate.issuer == caCertificate.subject,
            certificate.notValidAfter > now.addingTimeInterval(86_400),
            let names = (try? certificate.extensions.subjectAlternativeNames) ?? nil,
            hosts.allSatisfy({ names.contains(hostName($0)) })
        {
            return CertificateAuthority(caFile: caCertPath, serverCertificatePEM: certText, serverKeyPEM: keyText)
        }

        let serverKey = P256.Signing.PrivateKey()
        var names: [GeneralName] = [.dnsName("localhost"), ipName("127.0.0.1")!, ipName("::1")!]
        for wanted in hosts.map(hostName) where !names.contains(wanted) { names.append(wanted) }
        if faults.contains(.wrongHostCertificate) { names = [.dnsName("elsewhere.invalid")] }
        let validity = faults.contains(.expiredCertificate)
            ? (now.addingTimeInterval(-2 * 86_400), now.addingTimeInterval(-86_400))
            : (now.addingTimeInterval(-3600), now.addingTimeInterval(397 * 86_400))
        let caIdentifier = (try? caCertificate.extensions.subjectKeyIdentifier)??.keyIdentifier
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(serverKey.publicKey),
            notValidBefore: validity.0, notValidAfter: validity.1,
            issuer: caCertificate.subject,
            subject: try DistinguishedName {
                OrganizationName("gkpass-sandbox")
                CommonName(faults.contains(.wrongHostCertificate) ? "elsewhere.invalid" : host)
            },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
                SubjectKeyIdentifier(hash: Certificate.PublicKey(serverKey.publicKey))
                AuthorityKeyIdentifier(keyIdentifier: caIdentifier)
            },
            issuerPrivateKey: Certificate.PrivateKey(caKey))
        let certPEM = try certificate.serializeAsPEM().pemString
        if !broken {
            try write(serverKey.pemRepresentation, to: serverKeyPath, mode: 0o600)
            try write(certPEM, to: serverCertPath, mode: 0o644)
        }
        return CertificateAuthority(caFile: caCertPath, serverCertificatePEM: certPEM, serverKeyPEM: serverKey.pemRepresentation)
    }

    static func ipName(_ text: String) -> GeneralName? {
        var v4 = in_addr(), v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(withUnsafeBytes(of: &v4) { Array($0) })))
        }
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(withUnsafeBytes(of: &v6) { Array($0) })))
        }
        return nil
    }

    static func hostName(_ host: String) -> GeneralName { ipName(host) ?? .dnsName(host) }

    /// Writes `text` to `path` with `mode`, atomically (temporary file in the same directory, then rename).
    static func write(_ text: String, to path: String, mode: mode_t) throws {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SandboxError("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        fchmod(fd, mode)
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw SandboxError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
