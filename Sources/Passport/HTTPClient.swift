internal import CLoader

/// One HTTP request as the login flows build it.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: PassportURL
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?

    public init(method: String = "GET", url: PassportURL, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// One response: every header line kept in order (Set-Cookie repeats), the body bounded.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first header called `name`, case-insensitively.
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.lowercased() == lowered }?.value
    }

    public func headers(named name: String) -> [String] {
        let lowered = name.lowercased()
        return headers.filter { $0.name.lowercased() == lowered }.map(\.value)
    }
}

/// libcurl, one easy handle per login (keep-alive across the flow's requests), TLS verification always on.
///
/// Redirects are not followed by libcurl: the flows follow them so every hop's Set-Cookie and headers are seen.
/// libcurl's cookie engine is off (cookies live in ``CookieJar``, in memory). Not thread-safe; one per login.
public final class HTTPClient {
    public struct Options: Sendable {
        /// A PEM bundle to trust instead of the system's (a network's `ca_file`, or the sandbox's CA).
        public var caFile: String?
        public var connectTimeout: Int
        public var totalTimeout: Int
        public var userAgent: String
        /// Bodies larger than this abort the request: no Passport page is near it.
        public var maximumBodySize: Int
        /// Allow plain-HTTP URLs (only chat sites of the era used them; never the DA).
        public var allowHTTP: Bool

        public init(caFile: String? = nil, connectTimeout: Int = 10, totalTimeout: Int = 30, userAgent: String = "gkpass", maximumBodySize: Int = 1 << 20, allowHTTP: Bool = false) {
            self.caFile = caFile
            self.connectTimeout = connectTimeout
            self.totalTimeout = totalTimeout
            self.userAgent = userAgent
            self.maximumBodySize = maximumBodySize
            self.allowHTTP = allowHTTP
        }
    }

    /// What the callbacks fill in; passed to libcurl as an unretained pointer for the duration of one perform.
    final class Collector {
        var headers: [(name: String, value: String)] = []
        var body: [UInt8] = []
        var limit: Int
        var tooLarge = false
        /// The blank line that ends the header block arrived: libcurl hands over a response whose connection closed
        /// mid-headers as if it were whole.
        var headersComplete = false
        init(limit: Int) { self.limit = limit }
    }

    private let handle: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    public let options: Options

    /// Loads libcurl (once per process: Sources/CLoader); `.library` names the missing library and its package. Every
    /// client does this first; `gkpass doctor` asks on its own, to report a missing libcurl with no network to probe.
    public static func loadLibrary() throws(PassportError) {
        if let failure = gk_curl_load() {
            throw PassportError(.library, String(cString: failure), hint: "apt install libcurl4 (or your distribution's libcurl 7.85 or later)")
        }
    }

    public init(options: Options) throws(PassportError) {
        try Self.loadLibrary()
        guard let handle = gk_curl_easy_init() else { throw PassportError(.network, "libcurl could not start (out of memory?)") }
        self.handle = handle
        self.options = options
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        // Every option is checked: a libcurl that refuses one of these must not be used half-configured.
        var ok = true
        ok = ok && gk_curl_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer) == CURLE_OK
        ok = ok && gk_curl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1) == CURLE_OK
        ok = ok && gk_curl_easy_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0) == CURLE_OK
        ok = ok && gk_curl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1) == CURLE_OK
        ok = ok && gk_curl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2) == CURLE_OK
        ok = ok && gk_curl_easy_setopt_string(handle, CURLOPT_PROTOCOLS_STR, options.allowHTTP ? "https,http" : "https") == CURLE_OK
        ok = ok && gk_curl_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, options.connectTimeout) == CURLE_OK
        ok = ok && gk_curl_easy_setopt_long(handle, CURLOPT_TIMEOUT, options.totalTimeout) == CURLE_OK
        ok = ok && gk_curl_easy_setopt_string(handle, CURLOPT_USERAGENT, options.userAgent) == CURLE_OK
        ok = ok && gk_curl_easy_setopt_long(handle, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1)) == CURLE_OK
        if let caFile = options.caFile {
            // Instead of the system's store, not beside it: libcurl's built-in CA path (/etc/ssl/certs on Debian)
            // would otherwise still be searched.
            ok = ok && gk_curl_easy_setopt_string(handle, CURLOPT_CAINFO, caFile) == CURLE_OK
            ok = ok && gk_curl_easy_setopt_string(handle, CURLOPT_CAPATH, nil) == CURLE_OK
        }
        guard ok else {
            gk_curl_easy_cleanup(handle)
            errorBuffer.deallocate()
            throw PassportError(.library, "libcurl.so.4 refused a required option (built without HTTPS?)", hint: "apt install libcurl4 (or your distribution's libcurl 7.85 or later)")
        }
    }

    deinit {
        gk_curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    static let headerCallback: gk_curl_data_callback = { data, size, count, userdata in
        let collector = Unmanaged<Collector>.fromOpaque(userdata!).takeUnretainedValue()
        let length = size * count
        let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            collector.headers = []  // a new response (e.g. after 100 Continue): start over
            collector.headersComplete = false
        } else if line == "\r\n" || line == "\n" {
            collector.headersComplete = true
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].trimmedSpaces()
            let value = line[line.index(after: colon)...].trimmingLineEnd().trimmedSpaces()
            collector.headers.append((name, value))
        }
        return length
    }

    static let bodyCallback: gk_curl_data_callback = { data, size, count, userdata in
        let collector = Unmanaged<Collector>.fromOpaque(userdata!).takeUnretainedValue()
        let length = size * count
        guard collector.body.count + length <= collector.limit else {
            collector.tooLarge = true
            return 0  // makes libcurl abort with CURLE_WRITE_ERROR
        }
        collector.body += UnsafeRawBufferPointer(start: data, count: length)
        return length
    }

    /// Performs `request` and returns the response, whatever its status. Throws only for transport failures.
    public func send(_ request: HTTPRequest) throws(PassportError) -> HTTPResponse {
        if request.url.scheme == "http" && !options.allowHTTP {
            throw PassportError(.unreadable, "refusing to send a Passport request over plain HTTP to \(request.url.host)")
        }
        let collector = Collector(limit: options.maximumBodySize)
        let opaque = Unmanaged.passUnretained(collector).toOpaque()
        var list: UnsafeMutablePointer<curl_slist>? = nil
        // Disable curl's automatic "Expect: 100-continue" and "Accept: */*"; send exactly what the flow built.
        for header in request.headers + [("Expect", ""), ("Accept", "*/*")] {
            list = gk_curl_slist_append(list, "\(header.name): \(header.value)")
        }
        defer { gk_curl_slist_free_all(list) }
        errorBuffer[0] = 0
        var ok = gk_curl_easy_setopt_string(handle, CURLOPT_URL, request.url.description) == CURLE_OK
        ok = ok && gk_curl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, list) == CURLE_OK
        ok = ok && gk_curl_easy_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, Self.headerCallback) == CURLE_OK
        ok = ok && gk_curl_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, opaque) == CURLE_OK
        ok = ok && gk_curl_easy_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, Self.bodyCallback) == CURLE_OK
        ok = ok && gk_curl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, opaque) == CURLE_OK
        if let body = request.body {
            ok = ok && gk_curl_easy_setopt_long(handle, CURLOPT_POSTFIELDSIZE, body.count) == CURLE_OK
            ok = ok && body.withUnsafeBytes { raw in
                // COPYPOSTFIELDS copies, so the bytes need not outlive this call.
                gk_curl_easy_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!)) == CURLE_OK
            }
        } else {
            ok = ok && gk_curl_easy_setopt_long(handle, CURLOPT_HTTPGET, 1) == CURLE_OK
        }
        ok = ok && gk_curl_easy_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method == (request.body == nil ? "GET" : "POST") ? nil : request.method) == CURLE_OK
        guard ok else { throw PassportError(.configuration, "libcurl refused the request options for \(request.url.host)") }

        let code = gk_curl_easy_perform(handle)
        // The secret-bearing body copy inside libcurl is gone after perform; clear our pointer to it too.
        _ = gk_curl_easy_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, nil)
        if code != CURLE_OK {
            var verify = 0
            _ = gk_curl_easy_getinfo_long(handle, CURLINFO_SSL_VERIFYRESULT, &verify)
            let failure = TLSFailure(code: code, verifyResult: verify)
            throw Self.error(
                code, detail: String(cString: errorBuffer), url: request.url, tooLarge: collector.tooLarge, tls: failure,
                presented: failure?.wantsCertificate == true ? presented(by: request.url) : nil)
        }
        guard collector.headersComplete else {
            throw PassportError(.network, "\(request.url.host):\(request.url.port) closed the connection in the middle of the response headers")
        }
        var status = 0
        _ = gk_curl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: collector.headers, body: collector.body)
    }

    /// What went wrong in a TLS handshake, from libcurl's result and OpenSSL's verify result
    /// (`CURLINFO_SSL_VERIFYRESULT`), never from the wording of a message.
    enum TLSFailure: Equatable {
        case untrusted(Int)
        case notACA(Int)
        case expired
        case notYetValid
        case otherVerify(Int)
        case hostName
        case handshake

        // OpenSSL's X509_V_ERR_* numbers (x509_vfy.h); stable across OpenSSL 1.1 and 3.
        static let notYetValidCodes: Set<Int> = [9, 13]
        static let expiredCodes: Set<Int> = [10, 14]
        static let untrustedCodes: Set<Int> = [2, 18, 19, 20, 21, 27]
        static let notACACodes: Set<Int> = [24, 32, 37, 79]
        static let hostMismatch = 62

        init?(code: CURLcode, verifyResult: Int) {
            switch code {
            case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM:
                break
            default:
                return nil
            }
            switch verifyResult {
            case 0, 1:
                // Verification passed (0), or never ran (1, X509_V_ERR_UNSPECIFIED: OpenSSL 3's value before the
                // chain was checked): libcurl's own host name check failed, or the handshake did.
                self = code == CURLE_PEER_FAILED_VERIFICATION ? .hostName : .handshake
            case Self.hostMismatch: self = .hostName
            case let v where Self.expiredCodes.contains(v): self = .expired
            case let v where Self.notYetValidCodes.contains(v): self = .notYetValid
            case let v where Self.untrustedCodes.contains(v): self = .untrusted(v)
            case let v where Self.notACACodes.contains(v): self = .notACA(v)
            default: self = .otherVerify(verifyResult)
            }
        }

        var wantsCertificate: Bool {
            switch self {
            case .untrusted, .notACA, .hostName: true
            default: false
            }
        }
    }

    /// What the server's certificates say, read from a second handshake that verifies nothing and sends nothing
    /// (`CURLOPT_CONNECT_ONLY`); only after a handshake failed verification, to name in the message the CA the
    /// chain ends in, or the names the certificate is for.
    struct Presented {
        /// The issuer of the last certificate the server sent (the CA its chain ends in).
        var issuer: String?
        /// The leaf's subject alternative names (`DNS:localhost, IP Address:127.0.0.1`), else its subject.
        var names: String?
    }

    func presented(by url: PassportURL) -> Presented? {
        guard let probe = gk_curl_easy_init() else { return nil }
        defer { gk_curl_easy_cleanup(probe) }
        var ok = gk_curl_easy_setopt_string(probe, CURLOPT_URL, url.origin + "/") == CURLE_OK
        ok = ok && gk_curl_easy_setopt_long(probe, CURLOPT_NOSIGNAL, 1) == CURLE_OK
        ok = ok && gk_curl_easy_setopt_long(probe, CURLOPT_CONNECT_ONLY, 1) == CURLE_OK
        ok = ok && gk_curl_easy_setopt_long(probe, CURLOPT_SSL_VERIFYPEER, 0) == CURLE_OK
        ok = ok && gk_curl_easy_setopt_long(probe, CURLOPT_SSL_VERIFYHOST, 0) == CURLE_OK
        ok = ok && gk_curl_easy_setopt_long(probe, CURLOPT_CERTINFO, 1) == CURLE_OK
        ok = ok && gk_curl_easy_setopt_long(probe, CURLOPT_TIMEOUT, max(1, min(5, options.totalTimeout))) == CURLE_OK
        guard ok, gk_curl_easy_perform(probe) == CURLE_OK else { return nil }
        var info: UnsafeMutablePointer<curl_certinfo>?
        guard gk_curl_easy_getinfo_certinfo(probe, &info) == CURLE_OK, let info, info.pointee.num_of_certs > 0,
            let chain = info.pointee.certinfo
        else { return nil }
        func field(_ name: String, of index: Int) -> String? {
            var entry = chain[index]
            while let item = entry {
                let text = String(cString: item.pointee.data)
                if text.hasPrefix(name + ":") { return String(text.dropFirst(name.count + 1)).trimmedSpaces() }
                entry = item.pointee.next
            }
            return nil
        }
        let last = Int(info.pointee.num_of_certs) - 1
        return Presented(issuer: field("Issuer", of: last), names: field("X509v3 Subject Alternative Name", of: 0) ?? field("Subject", of: 0))
    }

    /// libcurl failures in the user's terms: which kind (exit 7 either way) and what exactly failed.
    static func error(_ code: CURLcode, detail: String, url: PassportURL, tooLarge: Bool, tls: TLSFailure? = nil, presented: Presented? = nil) -> PassportError {
        let host = url.host + ":\(url.port)"
        let reason = detail.isEmpty ? String(cString: gk_curl_easy_strerror(code)) : detail
        if let tls {
            let byIP = url.host.allSatisfy { $0.isNumber || $0 == "." } || url.host.contains(":")
            let named = presented?.issuer.map { " (issuer: \($0))" } ?? ""
            switch tls {
            case .untrusted:
                return PassportError(.tls, "TLS: the certificate of \(host) is signed by a CA this network does not trust\(named)",
                    hint: "if that CA is the network's, put its certificate in the network's ca_file (or --cacert)")
            case .notACA:
                return PassportError(.tls, "TLS: the chain of \(host) ends in a certificate that is not marked as a CA (basicConstraints CA:TRUE, keyCertSign)\(named)",
                    hint: "the network's CA certificate must be made as a CA; ca_file cannot fix a server certificate used as its own root")
            case .expired:
                return PassportError(.tls, "TLS: the certificate of \(host) has expired", hint: "check this machine's clock; if it is right, the server's certificate must be renewed")
            case .notYetValid:
                return PassportError(.tls, "TLS: the certificate of \(host) is not valid yet", hint: "check this machine's clock")
            case .otherVerify(let v):
                return PassportError(.tls, "TLS: the certificate of \(host) failed verification (OpenSSL verify result \(v): \(reason))")
            case .hostName:
                let names = presented?.names.map { " (it is for \($0))" } ?? ""
                return PassportError(.tls, "TLS: the certificate of \(host) is for another host name than \(url.host)\(names)",
                    hint: "use a name the certificate is for in the network's URLs")
            case .handshake where byIP && code == CURLE_SSL_CONNECT_ERROR:
                return PassportError(.tls, "TLS: \(host) refused the handshake (\(reason))",
                    hint: "a server reached by IP address gets no host name (SNI) and may need one: use the server's host name in the network's URLs")
            case .handshake:
                return PassportError(.tls, "TLS: the handshake with \(host) failed (\(reason))")
            }
        }
        if code == CURLE_SSL_CACERT_BADFILE {
            return PassportError(.configuration, "the CA file for \(url.host) holds no certificate libcurl can read (\(reason))",
                hint: "the network's ca_file (or --cacert) must be PEM certificates (-----BEGIN CERTIFICATE-----)")
        }
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST:
            return PassportError(.unreachable, "cannot resolve \(url.host) (\(reason))")
        case CURLE_COULDNT_CONNECT:
            return PassportError(.unreachable, "cannot connect to \(host) (\(reason))")
        case CURLE_OPERATION_TIMEDOUT:
            return PassportError(.network, "\(host) did not answer in time (\(reason))")
        case CURLE_GOT_NOTHING:
            return PassportError(.network, "\(host) closed the connection without answering")
        case CURLE_OUT_OF_MEMORY:
            // libcurl refuses response headers over its 100 KiB limit this way; a real shortage of memory would
            // not get this far.
            return PassportError(.unreadable, "\(host) sent a response header longer than any HTTP server should (\(reason))")
        case CURLE_WEIRD_SERVER_REPLY:
            return PassportError(.unreadable, "\(host) sent a malformed HTTP response (\(reason))")
        case CURLE_WRITE_ERROR where tooLarge:
            return PassportError(.unreadable, "\(host) sent a response larger than any Passport page")
        case CURLE_UNSUPPORTED_PROTOCOL:
            return PassportError(.unreadable, "refusing a non-https URL for \(url.host)")
        default:
            return PassportError(.network, "the request to \(host) failed (\(reason))")
        }
    }
}

extension StringProtocol {
    func trimmingLineEnd() -> Substring {
        var text = Substring(self)
        while let last = text.last, last == "\r" || last == "\n" || last == "\r\n" { text = text.dropLast() }
        return text
    }
}
