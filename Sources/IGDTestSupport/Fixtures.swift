import Foundation

/// The repository's test fixtures (Tests/Fixtures), found from this source file's location.
public enum Fixtures {
    /// The Tests/Fixtures folder of the repository this library was built from.
    public static var directory: URL {
        RepositoryPaths.root.appendingPathComponent("Tests/Fixtures", isDirectory: true)
    }

    /// The URL of the fixture at `relativePath`, e.g. "ntt-adsl-modem-sv3/DeviceDescription.xml".
    public static func url(_ relativePath: String) -> URL {
        directory.appendingPathComponent(relativePath)
    }

    /// The bytes of the fixture at `relativePath`.
    public static func data(_ relativePath: String) throws -> Data {
        try Data(contentsOf: url(relativePath))
    }

    /// The text of the fixture at `relativePath`, decoded as UTF-8.
    public static func string(_ relativePath: String) throws -> String {
        let data = try data(relativePath)
        guard let text = String(data: data, encoding: .utf8) else {
            throw CocoaError(.fileReadInapplicableStringEncoding, userInfo: [NSFilePathErrorKey: url(relativePath).path])
        }
        return text
    }
}

/// Where the repository is, derived from `#filePath` (Sources/IGDTestSupport/<file>).
enum RepositoryPaths {
    /// The repository root: two folders above this target's source folder.
    static var root: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()   // Sources/IGDTestSupport
            .deletingLastPathComponent()   // Sources
            .deletingLastPathComponent()   // repository root
    }

    /// scripts/lab.sh of the repository.
    static var labScript: URL {
        root.appendingPathComponent("scripts/lab.sh")
    }
}
