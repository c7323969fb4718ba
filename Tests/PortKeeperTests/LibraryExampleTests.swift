import Foundation
import Testing

/// The README's library example is the program the package builds and the lab runs.
@Suite("Library example")
struct LibraryExampleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("the README shows Examples/keep-port/main.swift word for word")
    func readmeShowsTheExample() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let example = try String(contentsOf: Self.root.appendingPathComponent("Examples/keep-port/main.swift"), encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "## Using portkeeper as a library").dropFirst().first)
        // The section's second Swift block (the first is the Package.swift lines).
        let blocks = section.components(separatedBy: "```swift\n").dropFirst().map { $0.components(separatedBy: "```").first ?? "" }
        #expect(blocks.count >= 2)
        #expect(blocks.dropFirst().first == example)
        #expect(example.split(separator: "\n").count <= 12)
    }
}
