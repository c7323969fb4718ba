import Logging
import NIOCore
import NIOPosix
import IGDProtocol
import PCPProtocol
import Synchronization

/// How an SSDP search runs.
public struct DiscoveryOptions: Sendable {
    /// MX sent to devices (1...5 seconds).
    public var mx: Int = 1
    /// The longest the search runs when nothing answers, or in full with ``waitFullWindow``.
    public var window: Duration = .seconds(2)
    /// Wait out the whole window instead of returning shortly after the first gateway answers.
    public var waitFullWindow = false
    /// How long to keep listening after the first gateway reply.
    public var settle: Duration = .milliseconds(200)
    /// Gateway device types are searched for first; the WAN service types follow after this
    /// long if no gateway has answered (some routers answer only those). A busy gateway
    /// handles one datagram at a time, so fewer searches mean faster answers.
    public var secondStageAfter: Duration = .milliseconds(300)
    /// When nothing has answered by then, every search is sent once more (UDP may drop them).
    public var resendAfter: Duration = .milliseconds(1000)
    /// One interface by name; nil for every multicast-capable IPv4 interface.
    public var interfaceName: String?
    /// Where searches go; tests point this at a loopback responder.
    public var targetHost = UPnP.ssdpMulticastAddress
    /// The port searches go to (1900).
    public var targetPort = UPnP.ssdpPort
    /// Explicit local addresses to search from; nil to use the interfaces.
    public var localInterfaces: [SearchInterface]?
    /// The search targets (ST) sent: gateway device types first, then WAN service types.
    public var searchTargets = UPnP.searchTargets
    /// The most reply datagrams read per search; more are dropped.
    public var maxDatagrams = 512
    /// The most devices kept per search.
    public var maxDevices = 16

    /// Where discovery's NAT-PMP/PCP probe goes (see ``PortControlTarget``).
    public var portControl = PortControlTarget.automatic
    /// The least time the probe is given when the UPnP side finishes sooner (two sends of
    /// ``RetransmissionSchedule/discovery``): a server on the LAN answers within milliseconds.
    public var portControlMinimumWait: Duration = .milliseconds(300)
    /// When the probe answers before any UPnP gateway, the SSDP search goes on for ``mx``
    /// seconds and this long after that answer, then ends (a PCP-only gateway is found this
    /// soon, about 1.2 s, not after the whole window). MX first: UDA lets a device delay its
    /// answer by up to MX seconds, and a router that speaks UPnP IGD beside PCP must not be
    /// taken for a PCP-only one because its PCP server answered sooner.
    public var portControlSettle: Duration = .milliseconds(200)

    /// The defaults: every interface, a 2 s window, returning 200 ms after the first gateway;
    /// the NAT-PMP/PCP probe to the default gateway.
    public init() {}

    /// The NAT-PMP/PCP server the probe asks, nil when none is: ``PortControlTarget/off``;
    /// ``PortControlTarget/automatic`` only while searches go to the SSDP multicast group (a
    /// search pointed elsewhere, as in tests, sends no probe unless a server is named), then the
    /// host of the description URL given, else the default gateway (`defaultRoute`, on
    /// ``DiscoveryOptions/interfaceName`` when one is named).
    public func portControlServer(describing url: GatewayURL?, defaultRoute: (String?) -> DefaultRoute? = { SystemTables.defaultRoute(interface: $0) }) -> (address: IPv4Address, port: UInt16)? {
        switch portControl {
        case .off:
            return nil
        case .server(let address, let port):
            return (address, port)
        case .automatic:
            guard targetHost == UPnP.ssdpMulticastAddress else { return nil }
            if let url { return (url.host, PCP.serverPort) }
            return defaultRoute(interfaceName).map { ($0.gateway, PCP.serverPort) }
        }
    }
}

/// Where discovery sends its NAT-PMP/PCP probe.
public enum PortControlTarget: Sendable, Equatable {
    /// The default gateway's port 5351 (the description URL's host with `--location`), but only
    /// while SSDP searches go to the multicast group.
    case automatic
    /// This address and port (tests: a fake on loopback).
    case server(IPv4Address, port: UInt16)
    /// No probe.
    case off
}

/// Ends a running SSDP search sooner than its window from outside it: discovery ends the
/// search soon after a NAT-PMP/PCP server answered, when no UPnP gateway has.
public final class SearchCutoff: Sendable {
    private enum State {
        case waiting(end: ContinuousClock.Instant?)
        case armed(@Sendable (Duration) -> Void)
        case done
    }

    private let state = Mutex(State.waiting(end: nil))

    /// A cutoff that has not been asked to end anything yet.
    public init() {}

    /// Ends the search `delay` from now unless it ends sooner (by its window or its settle time);
    /// before the search starts, it ends that long after this call once it does.
    public func end(after delay: Duration) {
        let end = ContinuousClock.now + delay
        let action: (@Sendable (Duration) -> Void)? = state.withLock { state in
            switch state {
            case .waiting(let earlier):
                state = .waiting(end: min(earlier ?? end, end))
                return nil
            case .armed(let action):
                return action
            case .done:
                return nil
            }
        }
        action?(delay)
    }

    /// The search calls this once it can end: `action` ends it after the given delay.
    func arm(_ action: @escaping @Sendable (Duration) -> Void) {
        let pending: ContinuousClock.Instant? = state.withLock { state in
            guard case .waiting(let end) = state else { return nil }
            state = .armed(action)
            return end
        }
        if let pending { action(max(ContinuousClock.now.duration(to: pending), .zero)) }
    }

    /// The search is over; later calls do nothing.
    func disarm() {
        state.withLock { $0 = .done }
    }
}

/// A device that answered a search, once per UDN however many times it answered.
public struct DiscoveredDevice: Sendable, Equatable {
    /// Its UDN, from the USN header.
    public var udn: String
    /// Its description URL (LOCATION), checked to be on the reply's source address.
    public var location: GatewayURL
    /// The search targets it answered to.
    public var searchTargets: [String]
    /// Its SERVER header, if any.
    public var server: String?
    /// Its BOOTID.UPNP.ORG, if any.
    public var bootID: UInt32?
    /// The interface its answer came in on.
    public var interface: SearchInterface
}

/// SSDP search (UDA 1.1 §1.3): M-SEARCH out of each interface, replies collected until the
/// window ends, deduplicated by UDN, LOCATIONs checked against the reply's source.
public struct SSDPDiscovery: Sendable {
    let group: any EventLoopGroup
    let logger: Logger

    /// A search whose sockets run on `group`, logging what it drops to `logger`.
    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger = Logger(label: "portkeeper.ssdp")) {
        self.group = group
        self.logger = logger
    }

    /// Searches and returns the devices found when the window ends; never runs past
    /// `options.window`, whatever devices send.
    /// - Throws: ``DiscoveryError`` when no socket could be opened on any interface.
    public func search(_ options: DiscoveryOptions) async throws -> [DiscoveredDevice] {
        try await search(options, onDevice: { _ in })
    }

    /// Searches as ``search(_:)`` does, calling `onDevice` as soon as each new device answers;
    /// `cutoff` may end it sooner (not with ``DiscoveryOptions/waitFullWindow``).
    public func search(_ options: DiscoveryOptions, cutoff: SearchCutoff? = nil, onDevice: (DiscoveredDevice) -> Void) async throws -> [DiscoveredDevice] {
        let interfaces = try options.localInterfaces ?? SearchInterface.available(named: options.interfaceName)
        guard !interfaces.isEmpty else {
            throw DiscoveryError("no IPv4 interface with multicast to search on; connect to the router's network or name one with --interface")
        }
        let (stream, continuation) = AsyncStream<Datagram>.makeStream(bufferingPolicy: .bufferingNewest(options.maxDatagrams))
        var channels: [(any Channel, SearchInterface)] = []
        var openErrors: [String] = []
        for interface in interfaces {
            do {
                channels.append((try await openSocket(on: interface, continuation: continuation), interface))
            } catch {
                openErrors.append("\(interface.name): \(error)")
                logger.debug("cannot search on \(interface.name) (\(interface.address)): \(error)")
            }
        }
        guard !channels.isEmpty else {
            continuation.finish()
            throw DiscoveryError("cannot open a UDP socket for SSDP (\(openErrors.joined(separator: "; ")))")
        }
        // The stages are scheduled on the loop of the first socket, the one its writes go
        // through, so that a later stage can never overtake an earlier one on a busy machine.
        let eventLoop = channels[0].0.eventLoop
        let window = eventLoop.scheduleTask(in: .nanoseconds(options.window.nanoseconds)) { continuation.finish() }
        if let cutoff, !options.waitFullWindow {
            cutoff.arm { delay in eventLoop.scheduleTask(in: .nanoseconds(delay.nanoseconds)) { continuation.finish() } }
        }
        defer {
            cutoff?.disarm()
            window.cancel()
            continuation.finish()
            for (channel, _) in channels { channel.close(promise: nil) }
        }

        let target: SocketAddress
        do {
            target = try SocketAddress(ipAddress: options.targetHost, port: options.targetPort)
        } catch {
            throw DiscoveryError("invalid search address \(options.targetHost):\(options.targetPort)")
        }
        let firstStage = options.searchTargets.filter { UPnP.gatewayDeviceTypes.contains($0) }
        let secondStage = options.searchTargets.filter { !UPnP.gatewayDeviceTypes.contains($0) }
        let sockets = channels.map(\.0)
        let send: @Sendable ([String]) -> Void = { targets in
            for channel in sockets {
                for searchTarget in targets {
                    let request = ByteBuffer(bytes: SSDP.searchRequest(searchTarget: searchTarget, mx: options.mx))
                    channel.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: request), promise: nil)
                }
            }
        }
        // The first searches are written from the loop itself, before the later stages are
        // scheduled there: a loop that wakes late runs due scheduled tasks before queued ones,
        // so writing from here and scheduling the next stage would let it overtake the first.
        let pending = try await eventLoop.submit { () -> [Scheduled<Void>] in
            var tasks: [Scheduled<Void>] = []
            if firstStage.isEmpty {
                send(secondStage)
            } else {
                send(firstStage)
                tasks.append(eventLoop.scheduleTask(in: .nanoseconds(options.secondStageAfter.nanoseconds)) { send(secondStage) })
            }
            tasks.append(eventLoop.scheduleTask(in: .nanoseconds(options.resendAfter.nanoseconds)) { send(options.searchTargets) })
            return tasks
        }.get()
        defer { for task in pending { task.cancel() } }

        var devices: [DiscoveredDevice] = []
        var settling = false
        var count = 0
        // The stream still hands over what it buffered after the window closes it: check the
        // clock too.
        let deadline = ContinuousClock.now + options.window
        for await datagram in stream {
            count += 1
            if count > options.maxDatagrams || ContinuousClock.now >= deadline { break }
            guard let source = datagram.source.ipAddress.flatMap({ IPv4Address($0) }) else { continue }
            let response: SSDP.SearchResponse
            do {
                guard let parsed = try SSDP.parseSearchResponse(datagram.bytes) else { continue }
                response = parsed
            } catch {
                logger.debug("ignored SSDP datagram from \(source): \(error)")
                continue
            }
            let location: GatewayURL
            do {
                location = try SSDP.validateLocation(response.location, source: source)
            } catch {
                logger.debug("ignored SSDP reply from \(source): \(error)")
                continue
            }
            if let index = devices.firstIndex(where: { $0.udn == response.udn }) {
                if !devices[index].searchTargets.contains(response.searchTarget) {
                    devices[index].searchTargets.append(response.searchTarget)
                }
            } else if devices.count < options.maxDevices {
                let interface = channels.first { $0.0 === datagram.channel }?.1 ?? interfaces[0]
                let device = DiscoveredDevice(
                    udn: response.udn, location: location, searchTargets: [response.searchTarget],
                    server: response.server, bootID: response.bootID, interface: interface
                )
                devices.append(device)
                onDevice(device)
            }
            if !options.waitFullWindow, !settling, UPnP.searchTargets.contains(response.searchTarget) {
                settling = true
                for task in pending { task.cancel() }
                eventLoop.scheduleTask(in: .nanoseconds(options.settle.nanoseconds)) { continuation.finish() }
            }
        }
        return devices
    }

    struct Datagram: Sendable {
        var source: SocketAddress
        var bytes: [UInt8]
        var channel: any Channel
    }

    private func openSocket(on interface: SearchInterface, continuation: AsyncStream<Datagram>.Continuation) async throws -> any Channel {
        let channel = try await DatagramBootstrap(group: group)
            // One byte over the cap, so that an oversized datagram is seen as such, not cut to fit.
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: SSDP.maxDatagramBytes + 1))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DatagramReceiver(continuation: continuation))
                }
            }
            .bind(host: interface.address.description, port: 0)
            .get()
        // Multicast leaves through this interface and no other, whatever the routing table says.
        if let provider = channel as? any SocketOptionProvider {
            var address = in_addr()
            address.s_addr = interface.address.value.bigEndian
            try await provider.setIPMulticastIF(address).get()
            try await provider.setIPMulticastTTL(2).get()
        }
        return channel
    }
}

private final class DatagramReceiver: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let continuation: AsyncStream<SSDPDiscovery.Datagram>.Continuation

    init(continuation: AsyncStream<SSDPDiscovery.Datagram>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var envelope = unwrapInboundIn(data)
        guard envelope.data.readableBytes <= SSDP.maxDatagramBytes else { return }
        let bytes = envelope.data.readBytes(length: envelope.data.readableBytes) ?? []
        continuation.yield(.init(source: envelope.remoteAddress, bytes: bytes, channel: context.channel))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP errors and the like on UDP: keep listening.
    }
}
