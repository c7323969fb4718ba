import Foundation

/// A JSON value as parsed, keeping booleans, integers and other numbers apart (which
/// `JSONSerialization`'s NSNumber does not do reliably on Linux).
public indirect enum JSONValue: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int64.self) { self = .integer(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    /// Parses one JSON text.
    public static func parse(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The members' names of an object (empty for anything else).
    public var keys: Set<String> {
        if case .object(let members) = self { return Set(members.keys) }
        return []
    }

    /// The elements of an array (empty for anything else).
    public var elements: [JSONValue] {
        if case .array(let elements) = self { return elements }
        return []
    }

    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }
}

/// Checks JSON documents against the JSON Schema files of the repository's schemas/ folder
/// (draft 2020-12), for the subset of the vocabulary those schemas use: `type` (one or a
/// list), `required`, `properties`, `additionalProperties: false`, `items`, `enum`, `const`,
/// `anyOf`, `minimum`, `maximum`, and `$ref` to `#/$defs/NAME` in the same file or in another
/// file of the folder. A keyword outside the subset is an error of the schema, never ignored,
/// so that a schema cannot say more than is checked.
///
/// Hand-written: no JSON Schema validator is on the machine's Swift package mirror.
public struct JSONSchemaCheck: Sendable {
    /// The repository's schemas/ folder.
    public static var directory: URL { RepositoryPaths.root.appendingPathComponent("schemas", isDirectory: true) }

    /// The keywords understood; annotations (`title`, `description`, `$schema`, `$defs`) are read past.
    static let assertions: Set<String> = ["type", "required", "properties", "additionalProperties", "items", "enum", "const", "anyOf", "minimum", "maximum", "$ref"]
    static let annotations: Set<String> = ["title", "description", "$schema", "$defs", "$id"]

    let schemas: [String: JSONValue]

    /// Loads every `*.schema.json` of `directory`.
    public init(directory: URL = JSONSchemaCheck.directory) throws {
        var schemas: [String: JSONValue] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(".schema.json") {
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            schemas[name] = try JSONValue.parse(text)
        }
        self.schemas = schemas
    }

    /// The names of the schema files loaded.
    public var names: [String] { schemas.keys.sorted() }

    /// What is wrong with `document` according to the schema file `name`, one line per
    /// problem with its JSON path; empty when it conforms.
    public func problems(_ document: JSONValue, against name: String) -> [String] {
        guard let schema = schemas[name] else { return ["no schema named \(name)"] }
        var problems: [String] = []
        check(document, schema, file: name, path: "$", into: &problems)
        return problems
    }

    /// `text` parsed, then checked as ``problems(_:against:)``.
    public func problems(_ text: String, against name: String) -> [String] {
        do {
            return problems(try JSONValue.parse(text), against: name)
        } catch {
            return ["not JSON: \(error)"]
        }
    }

    private func check(_ value: JSONValue, _ schema: JSONValue, file: String, path: String, into problems: inout [String]) {
        guard case .object(let keywords) = schema else {
            problems.append("\(path): the schema in \(file) is not an object")
            return
        }
        for keyword in keywords.keys where !Self.assertions.contains(keyword) && !Self.annotations.contains(keyword) {
            problems.append("\(path): the schema in \(file) uses '\(keyword)', which this checker does not know")
        }
        if let target = keywords["$ref"]?.string {
            guard let (targetFile, resolved) = resolve(target, from: file) else {
                problems.append("\(path): $ref \(target) in \(file) leads nowhere")
                return
            }
            check(value, resolved, file: targetFile, path: path, into: &problems)
        }
        if let type = keywords["type"] {
            let allowed = type.string.map { [$0] } ?? type.elements.compactMap(\.string)
            if !allowed.contains(where: { Self.value(value, is: $0) }) {
                problems.append("\(path): \(Self.describe(value)) is not of type \(allowed.joined(separator: " or "))")
                return
            }
        }
        if let constant = keywords["const"], constant != value {
            problems.append("\(path): \(Self.describe(value)) is not the constant \(Self.describe(constant))")
        }
        if let options = keywords["enum"], !options.elements.contains(value) {
            problems.append("\(path): \(Self.describe(value)) is not one of \(options.elements.map(Self.describe).joined(separator: ", "))")
        }
        if let minimum = keywords["minimum"].flatMap(Self.number), let number = Self.number(value), number < minimum {
            problems.append("\(path): \(number) is below the minimum \(minimum)")
        }
        if let maximum = keywords["maximum"].flatMap(Self.number), let number = Self.number(value), number > maximum {
            problems.append("\(path): \(number) is above the maximum \(maximum)")
        }
        if let choices = keywords["anyOf"] {
            let outcomes = choices.elements.map { choice -> [String] in
                var found: [String] = []
                check(value, choice, file: file, path: path, into: &found)
                return found
            }
            if !outcomes.contains(where: \.isEmpty) {
                problems.append("\(path): matches none of anyOf (\(outcomes.map { $0.first ?? "" }.joined(separator: "; ")))")
            }
        }
        if case .object(let members) = value {
            for name in keywords["required"]?.elements.compactMap(\.string) ?? [] where members[name] == nil {
                problems.append("\(path): '\(name)' is required and missing")
            }
            let properties: [String: JSONValue]
            if case .object(let declared)? = keywords["properties"] { properties = declared } else { properties = [:] }
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                if let property = properties[name] {
                    check(member, property, file: file, path: "\(path).\(name)", into: &problems)
                } else if keywords["additionalProperties"] == .bool(false) {
                    problems.append("\(path): '\(name)' is not a property the schema allows")
                }
            }
        }
        if case .array(let elements) = value, let items = keywords["items"] {
            for (index, element) in elements.enumerated() {
                check(element, items, file: file, path: "\(path)[\(index)]", into: &problems)
            }
        }
    }

    /// `#/$defs/NAME` in `file`, or `OTHER.schema.json#/$defs/NAME`.
    private func resolve(_ reference: String, from file: String) -> (String, JSONValue)? {
        let parts = reference.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].hasPrefix("/$defs/") else { return nil }
        let target = parts[0].isEmpty ? file : String(parts[0])
        let name = String(parts[1].dropFirst("/$defs/".count))
        guard let definition = schemas[target]?["$defs"]?[name] else { return nil }
        return (target, definition)
    }

    private static func value(_ value: JSONValue, is type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("integer", .integer), ("number", .integer), ("number", .number),
             ("string", .string), ("array", .array), ("object", .object): true
        default: false
        }
    }

    private static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .integer(let n): Double(n)
        case .number(let n): n
        default: nil
        }
    }

    private static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let b): String(b)
        case .integer(let n): String(n)
        case .number(let n): String(n)
        case .string(let s): "\"\(s.prefix(60))\""
        case .array(let a): "an array of \(a.count)"
        case .object: "an object"
        }
    }
}
