import IGDProtocol

/// A SOAP action call read from a request body: the action and its arguments.
///
/// Elements are matched by local name (prefixes stripped); the action is the first element
/// child of Body and the arguments are that element's children, in order.
public struct FakeSOAPRequest: Sendable, Equatable {
    /// The action's local name, e.g. "AddPortMapping".
    public var action: String
    /// The namespace the action element declares for its own prefix (the service type), if any.
    public var actionNamespace: String?
    /// The arguments in order: local element name and text content.
    public var arguments: [Argument]

    /// One argument element and its text.
    public struct Argument: Sendable, Equatable {
        /// The argument's local name, e.g. "NewExternalPort".
        public var name: String
        /// The argument's text content, entities resolved.
        public var value: String
    }

    /// The value of the first argument called `name` (exact match), or nil when absent.
    public func argument(_ name: String) -> String? {
        arguments.first { $0.name == name }?.value
    }

    /// Parses a SOAP envelope; nil when it is not well-formed XML or has no action in its Body.
    /// Argument values are trimmed, as ``XMLTree`` trims every element's text.
    public static func parse(_ body: [UInt8]) -> FakeSOAPRequest? {
        guard let envelope = try? XMLTree.parse(body, limits: XMLLimits(maxTextBytes: XMLLimits.gateway.maxBytes)),
              envelope.name == "Envelope",
              let call = envelope.child("Body")?.children.first
        else { return nil }
        return FakeSOAPRequest(
            action: call.name,
            actionNamespace: call.attributes[call.prefix.map { "xmlns:\($0)" } ?? "xmlns"],
            arguments: call.children.map { Argument(name: $0.name, value: $0.text) }
        )
    }
}
