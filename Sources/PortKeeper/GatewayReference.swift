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
    /// `pcp://ADDRESS` or `natpmp://ADDRESS`: the PCP/NAT-PMP server at that LAN address (UDP
    /// 5351); asked directly, the way a description URL is read.
    case portControlServer(IPv4Address)

    /// Reads a reference: a PCP/NAT-PMP server for `pcp://` and `natpmp://`, a URL for any
    /// other scheme ("://"), else a name; nothing (or only spaces) is ``any``.
    /// - Throws: ``PortKeeperError`` for a URL portkeeper would not follow.
    public init(parsing text: String?) throws {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else {
            self = .any
            return
        }
        let lowered = text.lowercased()
        if let scheme = ["pcp://", "natpmp://"].first(where: lowered.hasPrefix) {
            let rest = text.dropFirst(scheme.count)
            let host = rest.hasSuffix("/") ? rest.dropLast() : rest
            guard let address = IPv4Address(host) else {
                throw PortKeeperError(.invalidInput, "cannot use \(text) as a gateway: \(scheme) takes the gateway's IPv4 address, like \(scheme)192.168.1.1",
                                      context: .gatewayReference)
            }
            self = .portControlServer(address)
        } else if text.contains("://") {
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
        case .portControlServer(let address):
            let all = try gateways()
            guard let known = all.first(where: { $0.portControlServer == address }) ?? all.first(where: { $0.lanAddress == address }) else {
                throw RegistryError.notFound("no known gateway answered PCP or NAT-PMP at \(address)", context: .unknownGateway)
            }
            return known
        }
    }
}
