import Foundation

/// Locates the executables this package builds (e.g. "portkeeper", "lab-probe").
///
/// SwiftPM puts the test runner (e.g. .build/x86_64-unknown-linux-gnu/debug/portkeeperPackageTests.xctest)
/// next to the package's executables, so they are looked for beside the running binary, then a
/// level or two above it.
public enum Products {
    /// The path of the built executable `name`, or an error naming every place searched and how
    /// to build it.
    public static func path(_ name: String) throws -> String {
        let candidates = searchDirectories().map { $0.appendingPathComponent(name).path }
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            return found
        }
        throw ProductNotFound(name: name, searched: candidates)
    }

    /// The folders searched, nearest first: the running binary's folder (and, for a bundle, the
    /// folder holding it), then up to two parents of each.
    static func searchDirectories() -> [URL] {
        var starts: [URL] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            starts.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
        }
        if let exe = Bundle.main.executableURL?.resolvingSymlinksInPath() {
            starts.append(exe.deletingLastPathComponent())
        }
        // On macOS the runner is xctest and the tests are a bundle: use the loaded .xctest bundles.
        for bundle in Bundle.allBundles where bundle.bundleURL.pathExtension == "xctest" {
            starts.append(bundle.bundleURL.deletingLastPathComponent())
        }
        // A bundle's executable lives inside it (X.xctest/Contents/MacOS): start at the bundle's folder.
        starts = starts.map { url in
            var url = url
            while url.pathComponents.contains(where: { $0.hasSuffix(".xctest") }) {
                url.deleteLastPathComponent()
            }
            return url
        }
        var result: [URL] = []
        for start in starts {
            var directory = start.standardizedFileURL
            for _ in 0...2 {
                if !result.contains(directory) { result.append(directory) }
                directory.deleteLastPathComponent()
            }
        }
        return result
    }
}

/// A package executable was not found where the tests expect it.
public struct ProductNotFound: Error, CustomStringConvertible {
    /// The product looked for.
    public var name: String
    /// Every path tried.
    public var searched: [String]

    public var description: String {
        "the executable '\(name)' was not found; build it first (`swift build --product \(name)`, "
            + "or `swift build --build-tests` builds everything). Looked at:\n  "
            + searched.joined(separator: "\n  ")
    }
}
