import IGDProtocol

/// What a fuzz target checks, and how it fails: a broken contract traps, which libFuzzer
/// reports as a crash with the input that caused it.
public enum Contract {
    /// The input as a byte array (libFuzzer may pass a null pointer for the empty input).
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        guard let data, size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// Traps with `message` unless `condition` holds.
    public static func require(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { fatalError("contract violated: \(message())") }
    }

    /// Traps: `error` is not one of the error types the parser documents.
    public static func undocumented(_ error: any Error, from parser: String) -> Never {
        fatalError("contract violated: \(parser) threw \(type(of: error)) (\(error)), which it does not document")
    }

    /// Re-parses `encoded` with `parse` and traps unless it succeeds with a value equal to `value`.
    public static func roundTrip<T: Equatable>(_ value: T, encoded: [UInt8], _ what: String, parse: ([UInt8]) throws -> T) {
        let again: T
        do {
            again = try parse(encoded)
        } catch {
            fatalError("contract violated: \(what) re-encoded to bytes its parser refuses (\(error)):\n\(String(decoding: encoded, as: UTF8.self))")
        }
        require(again == value, "\(what) re-encoded and re-parsed to another value:\n first: \(value)\n again: \(again)\n bytes: \(String(decoding: encoded, as: UTF8.self))")
    }
}
