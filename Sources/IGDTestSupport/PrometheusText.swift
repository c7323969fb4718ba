/// Samples read from Prometheus's text format (what `watch --metrics-file` writes and
/// `--metrics-listen` serves), for tests to check; strict enough that a malformed line fails.
public struct PrometheusText: Sendable, CustomStringConvertible {
    /// A line that is neither a comment nor `name{labels} value`.
    public struct Malformed: Error, CustomStringConvertible {
        public let line: String
        public var description: String { "not a Prometheus sample: \(line)" }
    }

    /// Each sample by its name and labels in canonical order: `name{a="1",b="2"}`.
    public private(set) var samples: [String: Double] = [:]
    /// The `# TYPE` of each metric name.
    public private(set) var types: [String: String] = [:]

    public init(_ text: String) throws {
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4 else { throw Malformed(line: String(line)) }
                types[String(parts[2])] = String(parts[3])
                continue
            }
            if line.hasPrefix("#") { continue }
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                throw Malformed(line: String(line))
            }
            let series = line[..<space]
            var labels: [String: String] = [:]
            var name = Substring(series)
            if let open = series.firstIndex(of: "{") {
                guard series.last == "}" else { throw Malformed(line: String(line)) }
                name = series[..<open]
                let body = series[series.index(after: open)..<series.index(before: series.endIndex)]
                for pair in body.split(separator: ",") {
                    guard let equals = pair.firstIndex(of: "="), pair[pair.index(after: equals)...].hasPrefix("\""), pair.hasSuffix("\"") else {
                        throw Malformed(line: String(line))
                    }
                    labels[String(pair[..<equals])] = String(pair[pair.index(equals, offsetBy: 2)..<pair.index(before: pair.endIndex)])
                }
            }
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ":") }) else {
                throw Malformed(line: String(line))
            }
            samples[Self.key(String(name), labels)] = value
        }
    }

    /// The value of the sample `name` with exactly these labels; nil when there is none.
    public func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples[Self.key(name, labels)]
    }

    public var description: String {
        samples.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: "\n")
    }

    static func key(_ name: String, _ labels: [String: String]) -> String {
        labels.isEmpty ? name : name + "{" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ",") + "}"
    }
}
