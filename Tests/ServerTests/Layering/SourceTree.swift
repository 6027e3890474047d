// SourceTree: the package's Swift sources as text, for the tests that check
// rules the compiler does not: which target imports which, where errno is read.
import Glibc
import ServerSystem

enum SourceTree {
    /// The package root: this file is Tests/ServerTests/Layering/SourceTree.swift.
    static let root: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(4)
        return parts.joined(separator: "/")
    }()

    /// Every Swift file under Sources/`target`, by path relative to the root, with its text.
    static func files(of target: String) throws -> [(path: String, text: String)] {
        try swiftFiles(under: target == "ExampleServer" ? "Examples/\(target)" : "Sources/\(target)").map { path in (path, try Files.read("\(root)/\(path)") ?? "") }
    }

    /// The modules a file imports (`import X`, `@_exported import X`, `@testable import X`, `import struct X.Y`).
    static func imports(in text: String) -> [String] {
        text.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ").filter { !$0.hasPrefix("@") }
            guard words.first == "import", words.count >= 2 else { return nil }
            let path = words.count >= 3 ? words[2] : words[1]
            return String(path.split(separator: ".")[0])
        }
    }

    /// The code of a file without its comments (whole-line and trailing `//` comments).
    static func code(of text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
            guard let comment = line.range(of: "//") else { return line }
            return line[..<comment.lowerBound]
        }.joined(separator: "\n")
    }

    private static func swiftFiles(under directory: String) throws -> [String] {
        var found: [String] = []
        for entry in try entries(of: "\(root)/\(directory)") {
            let path = "\(directory)/\(entry)"
            if entry.hasSuffix(".swift") {
                found.append(path)
            } else if !entry.contains(".") {
                found += try swiftFiles(under: path)
            }
        }
        return found.sorted()
    }

    private static func entries(of directory: String) throws -> [String] {
        guard let stream = opendir(directory) else { throw SystemError(call: "opendir(\(directory))", errno: ENOENT) }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
