internal import CCurl

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

    public init(options: Options) throws(PassportError) {
        if let failure = gk_curl_load() {
            throw PassportError(.configuration, "cannot load libcurl (\(String(cString: failure)))", hint: "install libcurl4 (apt install libcurl4)")
        }
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
        if let caFile = options.caFile { ok = ok && gk_curl_easy_setopt_string(handle, CURLOPT_CAINFO, caFile) == CURLE_OK }
        guard ok else {
            gk_curl_easy_cleanup(handle)
            errorBuffer.deallocate()
            throw PassportError(.configuration, "libcurl refused a required option (is it older than 7.85?)")
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
            throw PassportError(.configuration, "refusing to send a Passport request over plain HTTP to \(request.url.host)")
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
            // OpenSSL's verdict on the peer's certificate (X509_V_*), kept by libcurl even when the handshake failed.
            var verifyResult = 0
            _ = gk_curl_easy_getinfo_long(handle, CURLINFO_SSL_VERIFYRESULT, &verifyResult)
            throw Self.error(code, detail: String(cString: errorBuffer), url: request.url, tooLarge: collector.tooLarge, verifyResult: verifyResult)
        }
        guard collector.headersComplete else {
            throw PassportError(.server, "\(request.url.host):\(request.url.port) closed the connection in the middle of the response headers")
        }
        var status = 0
        _ = gk_curl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: collector.headers, body: collector.body)
    }

    /// OpenSSL's certificate verification results (X509_V_ERR_*, openssl/x509_vfy.h) that gkpass explains.
    enum CertificateVerdict {
        static let notYetValid = 9, expired = 10, hostnameMismatch = 62
        /// No chain to a trusted CA: unable to get the issuer (2, 20), unable to verify the leaf (21), self-signed
        /// (18, 19), untrusted (27), invalid CA (24).
        static let untrustedIssuer: Set<Int> = [2, 18, 19, 20, 21, 24, 27]
    }

    /// libcurl failures in the user's terms: which kind (exit 7 either way) and what exactly failed. A failed TLS
    /// handshake is explained from `verifyResult` (CURLINFO_SSL_VERIFYRESULT, OpenSSL's X509_V_* code), never from
    /// the text of libcurl's message, which changes between versions and TLS libraries.
    static func error(_ code: CURLcode, detail: String, url: PassportURL, tooLarge: Bool, verifyResult: Int = 0) -> PassportError {
        let host = url.host + ":\(url.port)"
        let reason = detail.isEmpty ? String(cString: gk_curl_easy_strerror(code)) : detail
        switch code {
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM:
            let what: String
            switch verifyResult {
            case CertificateVerdict.expired: what = "the certificate of \(host) has expired"
            case CertificateVerdict.notYetValid: what = "the certificate of \(host) is not valid yet"
            case CertificateVerdict.hostnameMismatch: what = "the certificate of \(host) is for another host name"
            case let result where CertificateVerdict.untrustedIssuer.contains(result):
                what = "the certificate of \(host) is signed by a CA this network does not trust"
            // libcurl refused the peer without OpenSSL's verdict on the chain: its own check of the host name. It starts
            // the result at 1 (!X509_V_OK) and, in 7.88, records OpenSSL's verdict only after that check passes; 0 when
            // the chain verified first.
            case let result where result <= 1 && code == CURLE_PEER_FAILED_VERIFICATION:
                what = "the certificate of \(host) is for another host name"
            default: what = "the TLS handshake with \(host) failed"
            }
            return PassportError(.tls, "TLS: \(what) (\(reason))",
                hint: code == CURLE_SSL_CACERT_BADFILE ? "check the network's ca_file or --cacert" : "check the network's ca_file or --cacert, or the clock")
        case CURLE_COULDNT_RESOLVE_HOST:
            return PassportError(.network, "cannot resolve \(url.host) (\(reason))")
        case CURLE_COULDNT_CONNECT:
            return PassportError(.network, "cannot connect to \(host) (\(reason))")
        case CURLE_OPERATION_TIMEDOUT:
            return PassportError(.network, "\(host) did not answer in time (\(reason))")
        case CURLE_GOT_NOTHING:
            return PassportError(.server, "\(host) closed the connection without answering")
        case CURLE_OUT_OF_MEMORY:
            // libcurl refuses response headers over its 100 KiB limit this way; a real shortage of memory would
            // not get this far.
            return PassportError(.server, "\(host) sent a response header longer than any HTTP server should (\(reason))")
        case CURLE_WEIRD_SERVER_REPLY:
            return PassportError(.server, "\(host) sent a malformed HTTP response (\(reason))")
        case CURLE_WRITE_ERROR where tooLarge:
            return PassportError(.server, "\(host) sent a response larger than any Passport page")
        case CURLE_UNSUPPORTED_PROTOCOL:
            return PassportError(.configuration, "refusing a non-https URL for \(url.host)")
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
