import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

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
    public static func parse(_ body: [UInt8]) -> FakeSOAPRequest? {
        let parser = XMLParser(data: Data(body))
        let collector = SOAPCollector()
        parser.delegate = collector
        parser.shouldProcessNamespaces = false
        parser.shouldResolveExternalEntities = false
        guard parser.parse(), !collector.failed, let action = collector.action else { return nil }
        return FakeSOAPRequest(action: action, actionNamespace: collector.actionNamespace, arguments: collector.arguments)
    }
}

/// The element name without its namespace prefix.
func localName(_ qualifiedName: String) -> String {
    guard let colon = qualifiedName.lastIndex(of: ":") else { return qualifiedName }
    return String(qualifiedName[qualifiedName.index(after: colon)...])
}

/// XMLParser delegate collecting the Body's first element and its children.
private final class SOAPCollector: NSObject, XMLParserDelegate {
    var action: String?
    var actionNamespace: String?
    var arguments: [FakeSOAPRequest.Argument] = []
    var failed = false

    /// Local names of the open elements, outermost first.
    private var stack: [String] = []
    /// The depth of the Body element, once seen.
    private var bodyDepth: Int?
    private var actionDone = false
    private var currentText: String?

    func parser(
        _ parser: XMLParser,
        didStartElement elementName: String,
        namespaceURI: String?,
        qualifiedName qName: String?,
        attributes attributeDict: [String: String] = [:]
    ) {
        let name = localName(elementName)
        stack.append(name)
        let depth = stack.count
        if bodyDepth == nil, name == "Body", depth == 2, stack.first == "Envelope" {
            bodyDepth = depth
            return
        }
        guard let bodyDepth, !actionDone else { return }
        if depth == bodyDepth + 1, action == nil {
            action = name
            let prefix = elementName.contains(":") ? String(elementName.prefix { $0 != ":" }) : nil
            actionNamespace = attributeDict[prefix.map { "xmlns:\($0)" } ?? "xmlns"]
        } else if depth == bodyDepth + 2, action != nil {
            currentText = ""
        }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        let depth = stack.count
        if let bodyDepth, !actionDone, action != nil {
            if depth == bodyDepth + 2, let text = currentText {
                arguments.append(.init(name: localName(elementName), value: text))
                currentText = nil
            } else if depth == bodyDepth + 1 {
                actionDone = true
            }
        }
        stack.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        currentText?.append(string)
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        currentText?.append(String(decoding: CDATABlock, as: UTF8.self))
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
        failed = true
    }
}
