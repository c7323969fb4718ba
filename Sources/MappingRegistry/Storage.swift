import Foundation
import GRDB
import IGDProtocol
import PortKeeperModel

/// How values are written to and read from columns. Reading is strict: a value that does not
/// fit its column's type is damage (``UndecodableRow``), never a default.
enum Storage {
    static func text(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: true).timeSeparator(.colon))
    }

    /// The time `text` says, or nil when it is not one of the registry's time formats.
    static func parsedDate(_ text: String) -> Date? {
        (try? Date(text, strategy: .iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: true).timeSeparator(.colon)))
            ?? (try? Date(text, strategy: .iso8601))
    }

    /// `value` as the JSON text a column holds.
    /// - Throws: ``RegistryError`` when it cannot be encoded (a value JSON cannot carry): nothing is written.
    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw RegistryError(.failed, "cannot store a \(type(of: value)) in the registry: \(error)")
        }
    }

    /// The value the JSON `text` holds; nil for a NULL column.
    /// - Throws: ``UndecodableRow`` naming `what` when the text is not such a value.
    static func decode<T: Decodable>(_ type: T.Type, _ text: String?, _ what: @autoclosure () -> String) throws -> T? {
        guard let text else { return nil }
        guard let value = try? JSONDecoder().decode(T.self, from: Data(text.utf8)) else { throw UndecodableRow(what()) }
        return value
    }
}

/// A row whose values do not fit their columns (a time that is not one, an unknown protocol, a
/// URL portkeeper would not follow…): the registry is damaged. ``Registry`` turns it into
/// ``RegistryError/corrupt(path:detail:)`` naming the file.
struct UndecodableRow: Error, CustomStringConvertible {
    /// What does not decode: "gateway 3's control_url".
    let what: String
    init(_ what: String) { self.what = what }
    var description: String { "\(what) does not decode" }
}

extension Row {
    /// The value of `column`, of the type asked for (an optional one takes NULL).
    /// - Throws: ``UndecodableRow`` naming `record` and the column when the value is missing or does not fit.
    func stored<T: DatabaseValueConvertible>(_ column: String, of record: @autoclosure () -> String) throws -> T {
        do {
            return try decode(T.self, forColumn: column)
        } catch {
            throw UndecodableRow("\(record())'s \(column)")
        }
    }

    /// The value of `column`, or nil when it holds the empty text (a gateway without UPnP IGD
    /// has no description or control URL).
    func storedUnlessEmpty<T: DatabaseValueConvertible>(_ column: String, of record: @autoclosure () -> String) throws -> T? {
        if let text = try stored(column, of: record()) as String?, text.isEmpty { return nil }
        return try stored(column, of: record()) as T
    }

    /// The time `column` holds, or nil for NULL.
    /// - Throws: ``UndecodableRow`` when it holds text that is not a time.
    func storedOptionalDate(_ column: String, of record: @autoclosure () -> String) throws -> Date? {
        guard let text = try stored(column, of: record()) as String? else { return nil }
        guard let date = Storage.parsedDate(text) else { throw UndecodableRow("\(record())'s \(column)") }
        return date
    }

    /// The time `column` holds, in one of the registry's time formats.
    func storedDate(_ column: String, of record: @autoclosure () -> String) throws -> Date {
        guard let date = Storage.parsedDate(try stored(column, of: record())) else { throw UndecodableRow("\(record())'s \(column)") }
        return date
    }
}

// Typed columns: each value is stored as the text it is written as, and read back through its
// own parser, so that a record holds the type, never the text to parse again.

extension GatewayURL: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { description.databaseValue }
    /// The URL a column holds, or nil when its text is not a URL portkeeper follows.
    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> GatewayURL? {
        String.fromDatabaseValue(dbValue).flatMap { try? GatewayURL(parsing: $0) }
    }
}

extension WANService: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { rawValue.databaseValue }
    /// The service type a column holds, or nil when it is not a WAN connection service's URN.
    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> WANService? {
        String.fromDatabaseValue(dbValue).flatMap(WANService.init(rawValue:))
    }
}

extension IPv4Address: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { description.databaseValue }
    /// The address a column holds, or nil when its text is not a dotted-quad IPv4 address.
    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> IPv4Address? {
        String.fromDatabaseValue(dbValue).flatMap { IPv4Address($0) }
    }
}

extension TransportProtocol: DatabaseValueConvertible {}
extension GatewayProtocol: DatabaseValueConvertible {}
extension RevisionActor: DatabaseValueConvertible {}
extension OperationAction: DatabaseValueConvertible {}
