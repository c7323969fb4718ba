import FuzzSupport
import IGDProtocol

/// Any XML document from a gateway (descriptions, SOAP answers, port listings).
/// Contract: `XMLTree.parse` returns a tree that re-encodes to a document parsed back to the
/// same tree, or throws ProtocolViolation.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzXMLTree(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Contract.bytes(data, size)
    let tree: XMLElement
    do {
        tree = try XMLTree.parse(bytes)
    } catch is ProtocolViolation {
        return 0
    } catch {
        Contract.undocumented(error, from: "XMLTree.parse")
    }
    Contract.roundTrip(tree, encoded: Array(tree.serialized().utf8), "XML tree") { try XMLTree.parse($0) }
    return 0
}
