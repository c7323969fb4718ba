/// How the fake server answers one request: a proper response or a misbehaviour.
public enum FakeHTTPReply: Sendable {
    /// A complete response: "HTTP/1.1 <status> <reason>", `headers`, then `body`.
    ///
    /// A Content-Length header is added unless `headers` already has Content-Length or
    /// Transfer-Encoding. The connection stays open for the next request when the client
    /// allows it and `headers` do not say `Connection: close`.
    case response(status: Int, headers: [(String, String)] = [], body: [UInt8])

    /// A response with `Transfer-Encoding: chunked`, each chunk written and flushed on its own,
    /// then the terminating zero-length chunk. Empty chunks are skipped (they would end the body).
    case chunked(status: Int, headers: [(String, String)], chunks: [[UInt8]])

    /// Exactly these bytes, then the connection is closed.
    case raw([UInt8])

    /// These bytes in pieces of `chunkSize`, pausing `interval` between pieces, then close.
    case slow(bytes: [UInt8], chunkSize: Int, interval: Duration)

    /// Exactly these bytes once `gate` is opened, then the connection is closed.
    case held([UInt8], until: FakeGate)

    /// No answer at all: the connection stays open until the client closes it or the server
    /// shuts down.
    case hang

    /// A response head with no Content-Length (unless given in `headers`), then body bytes
    /// forever, until the client closes the connection or the server shuts down.
    case endless(status: Int, headers: [(String, String)])

    /// The connection is closed without any answer.
    case close

    /// A complete response whose body is `body` encoded as UTF-8, with a Content-Type header.
    public static func text(
        _ status: Int,
        _ body: String,
        contentType: String = "text/xml; charset=\"utf-8\""
    ) -> FakeHTTPReply {
        .response(status: status, headers: [("Content-Type", contentType)], body: Array(body.utf8))
    }

    /// A redirect to `location` with an empty body.
    public static func redirect(_ status: Int = 302, to location: String) -> FakeHTTPReply {
        .response(status: status, headers: [("Location", location)], body: [])
    }
}

/// Status lines and header blocks for the fake server's replies.
enum HTTPHead {
    /// The reason phrase for `status`, or "Unknown" for a code this table lacks.
    static func reason(for status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 200: "OK"
        case 201: "Created"
        case 204: "No Content"
        case 206: "Partial Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 303: "See Other"
        case 304: "Not Modified"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 411: "Length Required"
        case 412: "Precondition Failed"
        case 413: "Content Too Large"
        case 415: "Unsupported Media Type"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default: "Unknown"
        }
    }

    /// The bytes of a response head: status line, each header, and the blank line.
    static func bytes(status: Int, headers: [(String, String)]) -> [UInt8] {
        var text = "HTTP/1.1 \(status) \(reason(for: status))\r\n"
        for (name, value) in headers {
            text += "\(name): \(value)\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// Whether `headers` contain a field called `name` (case-insensitive).
    static func contains(_ name: String, in headers: [(String, String)]) -> Bool {
        value(of: name, in: headers) != nil
    }

    /// The value of the first field called `name` in `headers` (case-insensitive).
    static func value(of name: String, in headers: [(String, String)]) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.0.lowercased() == wanted }?.1
    }

    /// Whether `headers` ask for the connection to be closed after the response.
    static func saysClose(_ headers: [(String, String)]) -> Bool {
        (value(of: "Connection", in: headers) ?? "").lowercased().contains("close")
    }
}
