import Foundation

/// How values are written to and read from columns.
enum Storage {
    static func text(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: true).timeSeparator(.colon))
    }

    static func date(_ text: String) -> Date {
        parsedDate(text) ?? Date(timeIntervalSince1970: 0)
    }

    /// The time `text` says, or nil when it is not one of the registry's time formats.
    static func parsedDate(_ text: String) -> Date? {
        (try? Date(text, strategy: .iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: true).timeSeparator(.colon)))
            ?? (try? Date(text, strategy: .iso8601))
    }

    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "null"
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String?) -> T? {
        guard let text else { return nil }
        return try? JSONDecoder().decode(T.self, from: Data(text.utf8))
    }
}
