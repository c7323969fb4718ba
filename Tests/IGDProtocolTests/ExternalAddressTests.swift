import Foundation
import Testing
@testable import IGDProtocol

@Suite("ExternalAddress")
struct ExternalAddressTests {
    @Test("Classification", arguments: [
        ("8.8.8.8", AddressClass.public),
        ("11.77.0.1", .public),
        ("1.1.1.1", .public),
        ("192.168.1.2", .private),         // the blog author's double NAT
        ("192.168.0.0", .private),
        ("192.168.255.255", .private),
        ("10.0.0.1", .private),
        ("10.255.255.255", .private),
        ("172.16.0.1", .private),
        ("172.20.1.1", .private),
        ("172.31.255.255", .private),
        ("172.15.255.255", .public),
        ("172.32.0.1", .public),
        ("192.169.0.1", .public),
        ("100.64.0.1", .sharedCGNAT),
        ("100.127.255.255", .sharedCGNAT),
        ("100.63.255.255", .public),
        ("100.128.0.1", .public),
        ("127.0.0.1", .reserved),
        ("169.254.1.1", .reserved),
        ("192.0.0.8", .reserved),
        ("192.0.2.1", .reserved),
        ("198.18.0.1", .reserved),
        ("198.19.255.255", .reserved),
        ("198.20.0.1", .public),
        ("198.51.100.7", .reserved),
        ("203.0.113.5", .reserved),
        ("224.0.0.1", .reserved),
        ("239.255.255.250", .reserved),
        ("240.0.0.1", .reserved),
        ("255.255.255.255", .reserved),
        ("0.1.2.3", .reserved),
        ("", .unspecified),
        ("0.0.0.0", .unspecified),
        ("garbage", .unspecified),
        ("192.168.001.2", .unspecified),
        ("::ffff:8.8.8.8", .unspecified),
    ])
    func classify(text: String, expected: AddressClass) {
        let address = ExternalAddress(reported: text)
        #expect(address.reported == text)
        #expect(address.addressClass == expected)
        #expect(address.isDoubleNAT == (expected != .public))
        if expected == .public {
            #expect(address.doubleNATExplanation == nil)
        } else {
            let explanation = address.doubleNATExplanation
            #expect(explanation != nil)
            #expect(explanation?.isEmpty == false)
        }
    }

    @Test func parsedAddress() {
        #expect(ExternalAddress(reported: "11.77.0.1").address == IPv4Address(11, 77, 0, 1))
        #expect(ExternalAddress(reported: "garbage").address == nil)
        #expect(ExternalAddress(reported: "0.0.0.0").address == IPv4Address(0, 0, 0, 0))
    }

    @Test func explanationsNameTheAddressAndTheCause() throws {
        let privateText = try #require(ExternalAddress(reported: "192.168.1.2").doubleNATExplanation)
        #expect(privateText.contains("192.168.1.2"))
        #expect(privateText.contains("double NAT"))
        let shared = try #require(ExternalAddress(reported: "100.64.0.1").doubleNATExplanation)
        #expect(shared.contains("100.64.0.1"))
        #expect(shared.contains("carrier-grade NAT"))
        let reserved = try #require(ExternalAddress(reported: "203.0.113.5").doubleNATExplanation)
        #expect(reserved.contains("203.0.113.5"))
        #expect(reserved.contains("reserved"))
        let empty = try #require(ExternalAddress(reported: "").doubleNATExplanation)
        #expect(empty.contains("(empty)"))
        let zero = try #require(ExternalAddress(reported: "0.0.0.0").doubleNATExplanation)
        #expect(zero.contains("0.0.0.0"))
        // Each class has its own explanation.
        #expect(Set([privateText, shared, reserved, empty].map { $0.replacingOccurrences(of: "192.168.1.2", with: "X") }).count == 4)
    }

    @Test func codableRoundTrip() throws {
        let address = ExternalAddress(reported: "100.64.0.1")
        let data = try JSONEncoder().encode(address)
        #expect(try JSONDecoder().decode(ExternalAddress.self, from: data) == address)
        #expect(AddressClass.sharedCGNAT.rawValue == "shared")
    }
}
