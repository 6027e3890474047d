// StaticTree: a directory tree the static file tests serve, made fresh in a
// temporary directory: a root with files, directories and links (inside and out),
// and beside it a secret file that must never be served.
import Foundation
import Glibc

final class StaticTree {
    let base: String
    var root: String { base + "/root" }
    /// Outside the root: no request may ever return it.
    var secretPath: String { base + "/secret.txt" }
    static let secret = "TOP-SECRET-\(UInt32.random(in: 0...UInt32.max))\n"

    init() throws {
        base = NSTemporaryDirectory() + "static-tree-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: base + "/root", withIntermediateDirectories: true)
        try write(Self.secret, at: secretPath)
        try FileManager.default.createDirectory(atPath: base + "/outside", withIntermediateDirectories: true)
        try write(Self.secret, at: base + "/outside/secret.txt")
    }

    deinit { try? FileManager.default.removeItem(atPath: base) }

    /// Writes `text` at `relative` under the root (parents made as needed).
    func file(_ relative: String, _ text: String) throws {
        let path = root + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try write(text, at: path)
    }

    func directory(_ relative: String) throws {
        try FileManager.default.createDirectory(atPath: root + "/" + relative, withIntermediateDirectories: true)
    }

    /// A symbolic link at `relative` under the root pointing to `target` (as given: relative or absolute).
    func link(_ relative: String, to target: String) throws {
        guard symlink(target, root + "/" + relative) == 0 else { throw POSIXError(.init(rawValue: errno)!) }
    }

    func remove(_ relative: String) { unlink(root + "/" + relative) }

    private func write(_ text: String, at path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }
}
