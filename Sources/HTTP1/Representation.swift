// Representation: the facts about a served file that its validators and byte
// ranges are computed from (fstat(2)), and the validators themselves (RFC 9110
// §8.8): Last-Modified and a strong ETag, formatted once per file, not per request.
import Glibc

/// A file as its responses describe it: size, modification time and identity.
public struct RepresentationFacts: Equatable, Sendable {
    /// Length in bytes (st_size).
    public var size: Int
    /// Last modification, in whole seconds since the epoch (st_mtime): HTTP-dates have no finer unit.
    public var modified: Int
    /// The file's identity (st_ino, st_dev): a replaced file gets a new ETag even with the same size and time.
    public var inode: UInt64
    public var device: UInt64

    public init(size: Int, modified: Int, inode: UInt64, device: UInt64) {
        self.size = size
        self.modified = modified
        self.inode = inode
        self.device = device
    }
}

/// The validators of one representation, formatted once (a file cache keeps them with its entry).
public struct Validators: Sendable {
    public let facts: RepresentationFacts
    /// The strong entity tag with its quotes: `"mtime-size-inode"` in hex. nginx's form is
    /// `"mtime-size"`; the inode is added so that two files of one size and second differ (§8.8.3).
    public let entityTag: String
    /// Last-Modified as an IMF-fixdate (§8.8.2).
    public let lastModified: String
    /// The fields of a 200: ETag, Last-Modified and Accept-Ranges, one array shared by every
    /// response of this file, so answering with it copies a reference instead of allocating.
    package let wholeFields: [(name: StaticString, value: String)]
    /// The fields of a 206 or 304 (nginx sends Accept-Ranges only with a 200).
    package let validatorFields: [(name: StaticString, value: String)]

    public init(_ facts: RepresentationFacts) {
        self.facts = facts
        entityTag = "\"" + String(facts.modified, radix: 16) + "-" + String(facts.size, radix: 16)
            + "-" + String(facts.inode, radix: 16) + "\""
        lastModified = HTTPDate.format(facts.modified)
        validatorFields = [("ETag", entityTag), ("Last-Modified", lastModified)]
        wholeFields = validatorFields + [("Accept-Ranges", "bytes")]
    }
}

extension RepresentationFacts {
    /// The facts fstat(2) gave of an open file.
    public init(_ status: stat) {
        self.init(size: Int(status.st_size), modified: Int(status.st_mtim.tv_sec),
                  inode: UInt64(status.st_ino), device: UInt64(status.st_dev))
    }
}
