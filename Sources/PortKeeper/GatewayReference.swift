import IGDProtocol

/// How the user named a gateway on the command line (`--gateway`, `--location`).
public enum GatewayReference: Sendable, Equatable {
    /// Whatever single gateway discovery finds.
    case any
    /// A description URL: discovery is skipped.
    case descriptionURL(GatewayURL)
    /// A UDN ("uuid:…", or without the prefix), or a unique prefix of one.
    case udn(String)

    /// Reads `--gateway`: a URL when it starts with http://, else a UDN.
    /// - Throws: ``PortKeeperError`` for a URL portkeeper would not follow.
    public init(parsing text: String?) throws {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else {
            self = .any
            return
        }
        if text.contains("://") {
            do {
                self = .descriptionURL(try GatewayURL(parsing: text))
            } catch {
                throw PortKeeperError(.invalidInput, "cannot use \(text) as a gateway: \(error)", context: .gatewayReference)
            }
        } else {
            self = .udn(text.lowercased().hasPrefix("uuid:") ? text : "uuid:" + text)
        }
    }

    func matches(_ udn: String) -> Bool {
        guard case .udn(let wanted) = self else { return true }
        return udn.lowercased().hasPrefix(wanted.lowercased())
    }
}
