import IGDProtocol
import MappingRegistry

/// How the user names a gateway (`--gateway`, a declaration file's `gateway:`, discover's
/// `--location`): read by one parser, meaning the same in every command.
public enum GatewayReference: Sendable, Equatable {
    /// None named: the one gateway the registry knows (when it knows none yet, a command that
    /// talks to the gateway runs discovery to find it).
    case any
    /// A description URL: the gateway there (the registry's one recorded at it, for a command
    /// that only reads the registry).
    case descriptionURL(GatewayURL)
    /// A UDN (with or without "uuid:"), a unique prefix of one, or a friendly name, as given: a
    /// gateway the registry knows. Never a reason to search the network.
    case name(String)

    /// Reads a reference: a URL when it has a scheme ("://"), else a name; nothing (or only
    /// spaces) is ``any``.
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
            self = .name(text)
        }
    }
}

extension Registry {
    /// The known gateway `reference` names, from the registry alone: by name (see
    /// `Registry.resolveGateway(_:)`), the only one known, or the one recorded at a
    /// description URL (there now, else last seen there).
    /// - Throws: `RegistryError` `notFound` or `invalid` saying why none or several match.
    public func gateway(_ reference: GatewayReference) throws -> GatewayRecord {
        switch reference {
        case .any:
            return try resolveGateway(nil)
        case .name(let name):
            return try resolveGateway(name)
        case .descriptionURL(let url):
            guard let known = try gateway(atDescriptionURL: url) else {
                throw RegistryError.notFound("no known gateway was found at \(url)", context: .unknownGateway)
            }
            return known
        }
    }
}
