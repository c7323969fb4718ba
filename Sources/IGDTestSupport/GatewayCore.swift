import Foundation

/// The mutable heart of a ``SimulatedGateway``: routes HTTP requests to the description, the
/// SOAP actions, injected replies and overrides, under one lock.
final class GatewayCore: Sendable {
    let state: LockedBox<GatewayState>

    init(profile: SimulatedGateway.Profile) {
        state = LockedBox(GatewayState(profile: profile))
    }

    /// Answers one HTTP request.
    func handle(_ request: FakeHTTPRequest) -> FakeHTTPReply {
        state.withLock { state in
            if let reply = state.overrides[request.target] ?? state.overrides[request.path] {
                return reply
            }
            if request.target == state.profile.descriptionPath {
                return Self.description(state, request: request)
            }
            if state.connections[request.target] != nil {
                guard request.method == "POST" else {
                    return .text(405, "SOAP control URLs take POST only\n", contentType: "text/plain")
                }
                return Self.control(&state, request: request)
            }
            return .text(404, "Not Found\n", contentType: "text/plain")
        }
    }

    /// The description with `{{BASE}}` filled in (GET and HEAD only).
    private static func description(_ state: GatewayState, request: FakeHTTPRequest) -> FakeHTTPReply {
        guard request.method == "GET" || request.method == "HEAD" else {
            return .text(405, "Method Not Allowed\n", contentType: "text/plain")
        }
        // Split and join rather than Foundation's replacingOccurrences, whose first use loads
        // ICU for about a second in a debug build.
        let xml = state.profile.descriptionXML.split(separator: "{{BASE}}", omittingEmptySubsequences: false).joined(separator: state.baseURL)
        return .text(200, xml, contentType: FakeSOAP.contentType)
    }

    /// Checks SOAPAction and body, counts the call, applies injected replies, then performs it.
    private static func control(_ state: inout GatewayState, request: FakeHTTPRequest) -> FakeHTTPReply {
        let call = FakeSOAPRequest.parse(request.body)
        let header = SOAPActionHeader(request.header("SOAPAction"))
        guard let actionName = call?.action ?? header?.action else {
            return FakeSOAP.fault(code: 401)
        }
        state.actionCounts[actionName, default: 0] += 1

        // As strict routers do (Orange LiveBox, Huawei HG531): the exact advertised service
        // type, in SOAPAction and as the action element's namespace, or 401 Invalid Action.
        guard let call, let header,
              header.serviceType == state.profile.serviceType,
              call.actionNamespace == state.profile.serviceType,
              header.action == call.action
        else {
            return FakeSOAP.fault(code: 401)
        }
        if var queue = state.injectedReplies[call.action], !queue.isEmpty {
            let reply = queue.removeFirst()
            state.injectedReplies[call.action] = queue.isEmpty ? nil : queue
            return reply
        }
        switch state.perform(call, path: request.target) {
        case .success(let arguments):
            return FakeSOAP.response(action: call.action, serviceType: state.profile.serviceType, arguments: arguments)
        case .fault(let code):
            return FakeSOAP.fault(code: code)
        case .reply(let reply):
            return reply
        }
    }
}

/// A SOAPAction header split into service type and action; it must be quoted.
struct SOAPActionHeader {
    var serviceType: String
    var action: String

    /// nil unless `value` is `"SERVICETYPE#ACTION"`, quotes included.
    init?(_ value: String?) {
        guard let value = value?.trimmingCharacters(in: .whitespaces),
              value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"")
        else { return nil }
        let inner = value.dropFirst().dropLast()
        guard let hash = inner.lastIndex(of: "#") else { return nil }
        serviceType = String(inner[..<hash])
        action = String(inner[inner.index(after: hash)...])
        guard !serviceType.isEmpty, !action.isEmpty else { return nil }
    }
}
