import Foundation

/// One HTTP request as the fake server received it.
public struct FakeHTTPRequest: Sendable {
    /// The request method, e.g. "GET" or "POST", exactly as sent.
    public var method: String
    /// The request target: path plus query, e.g. "/UD/?6".
    public var target: String
    /// The protocol version from the request line, e.g. "HTTP/1.1".
    public var version: String
    /// The header fields in the order they were sent, names in their original case.
    public var headers: [(name: String, value: String)]
    /// The body bytes (Content-Length of them; empty when there was none).
    public var body: [UInt8]

    /// Creates a request; the server builds these, tests may too.
    public init(
        method: String,
        target: String,
        version: String = "HTTP/1.1",
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = []
    ) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
    }

    /// The value of the first header called `name`, compared case-insensitively.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }

    /// The body decoded as UTF-8 (invalid sequences replaced).
    public var bodyText: String {
        String(decoding: body, as: UTF8.self)
    }

    /// The target without its query, e.g. "/UD/" for "/UD/?6".
    public var path: String {
        String(target.prefix { $0 != "?" })
    }

    /// Whether the client wants the connection kept open after the reply.
    ///
    /// HTTP/1.1 keeps it unless the client sent `Connection: close`; HTTP/1.0 closes it
    /// unless the client sent `Connection: keep-alive`.
    public var wantsKeepAlive: Bool {
        let tokens = (header("Connection") ?? "")
            .lowercased()
            .split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }
        if tokens.contains("close") { return false }
        if version == "HTTP/1.0" { return tokens.contains("keep-alive") }
        return true
    }
}
