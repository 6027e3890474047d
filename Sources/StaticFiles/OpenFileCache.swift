// OpenFileCache: a worker's open files, as nginx's open_file_cache: the
// descriptor, size, modification time, identity and type of recently served
// names, and negative entries for names that were missing. Bounded (least
// recently used goes first) and trusted for `validMilliseconds`, after which a
// name is looked up again (open beneath the root, fstat) and the entry kept
// when the file is unchanged. A hit costs no open, fstat or close. Evicting an
// entry only lets go of its SharedFile: a response still sending from it keeps
// the descriptor open until it is done. One per worker, made after fork; only
// the worker's event loop touches it.
//
// With a content budget (a server whose TLS copies file bodies through memory),
// a small file's bytes are read when it is opened and kept with its entry, so
// answering it over TLS costs no pread(2). They are the bytes of the file the
// entry describes (its ETag, length, Last-Modified), replaced when revalidation
// finds the file changed: an edit shows after `validMilliseconds`, as a file
// replaced by rename(2) does in any case.
import Glibc
import HTTP1
import Server
import ServerSystem

public final class OpenFileCache: @unchecked Sendable {
    /// Entries kept at most (0: nothing is kept, every request opens its file).
    public let capacity: Int
    /// How long an entry is trusted before the name is looked up again (ms).
    public let validMilliseconds: Int
    /// Bytes of small files' contents kept in memory at most (0: none).
    public let contentBudget: Int
    /// Bytes of file contents the entries hold now, reported to the worker's record as they
    /// change (the `file_cache_content_bytes` gauge of /metrics, summed over a worker's caches).
    public private(set) var bytesInMemory = 0 {
        didSet {
            // Most updates change nothing (no content budget, or a file that keeps no bytes): no write then.
            if bytesInMemory != oldValue { record.add(.fileCacheContentBytes, UInt64(bitPattern: Int64(bytesInMemory - oldValue))) }
        }
    }
    /// The largest file whose bytes are kept: the largest body a connection copies in behind its head.
    public static let largestFileInMemory = ConnectionDriver.inlineFileBytes
    private let root: RootDirectory
    private let contentTypes: ContentTypes
    private let clock: () -> Int
    private let record = WorkerRecord.ofThisProcess

    private struct Slot {
        var key: String
        var lookup: FileLookup
        var validatedAt: Int
        var newer = -1
        var older = -1
    }

    private var slots: [Slot] = []
    /// Slots emptied by `evictOldest`, for the next inserts.
    private var freeSlots: [Int] = []
    private var indexes: [String: Int] = [:]
    /// The most and least recently used slots (-1 when empty).
    private var newest = -1
    private var oldest = -1

    public init(root: RootDirectory, contentTypes: ContentTypes, capacity: Int, validMilliseconds: Int,
                contentBudget: Int = 0, clock: @escaping () -> Int = Clock.monotonicMilliseconds) {
        self.root = root
        self.contentTypes = contentTypes
        self.capacity = max(0, capacity)
        self.validMilliseconds = validMilliseconds
        self.contentBudget = self.capacity > 0 ? max(0, contentBudget) : 0
        self.clock = clock
        slots.reserveCapacity(self.capacity)
    }

    /// Entries held now.
    public var count: Int { indexes.count }

    /// What `relative` names under the root, and whether the cache answered without a lookup.
    public func lookup(_ relative: String) throws -> (found: FileLookup, hit: Bool) {
        guard capacity > 0 else { return (try find(relative, previous: nil), false) }
        let now = clock()
        if let index = indexes[relative] {
            touch(index)
            if now - slots[index].validatedAt < validMilliseconds { return (slots[index].lookup, true) }
            let found = try find(relative, previous: slots[index].lookup)
            // Out of descriptors, `find` may have evicted this very entry to make room: it comes back as new.
            guard indexes[relative] == index else {
                insert(relative, found, now: now)
                return (found, false)
            }
            bytesInMemory += found.bytesInMemory - slots[index].lookup.bytesInMemory
            slots[index].lookup = found
            slots[index].validatedAt = now
            return (slots[index].lookup, false)
        }
        let found = try find(relative, previous: nil)
        insert(relative, found, now: now)
        return (found, false)
    }

    /// Opens and stats `relative`; an unchanged `previous` file is kept (and the new descriptor let go).
    private func find(_ relative: String, previous: FileLookup?) throws -> FileLookup {
        let file: SharedFile
        do {
            file = try openMakingRoom(relative)
        } catch let failure as RootDirectory.Failure {
            return .missing(failure)
        }
        let status = try BeneathCalls.status(file.fd)
        switch status.st_mode & S_IFMT {
        case S_IFREG:
            if case .file(let opened)? = previous, opened.isUnchanged(by: status) { return previous! }
            let name = relative.split(separator: "/").last ?? ""
            return .file(OpenedFile(file: file, status: status, mediaType: contentTypes.type(ofFileNamed: name),
                                    contents: contentsToKeep(of: file, as: status)))
        case S_IFDIR:
            return .directory
        default:
            // A FIFO, socket or device under the root is not content.
            return .missing(.forbidden)
        }
    }

    /// The bytes of a small file, when the budget has room for them; nil when it has not, or the
    /// read fails or comes back short, or the file changed between `status` and the read (fstat(2)
    /// again): the bytes kept are those of the file `status` describes, which the ETag names.
    private func contentsToKeep(of file: SharedFile, as status: stat) -> [UInt8]? {
        let size = Int(status.st_size)
        guard size > 0, size <= Self.largestFileInMemory, bytesInMemory + size <= contentBudget else { return nil }
        let contents = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            count = (try? Files.read(file.fd, into: UnsafeMutableRawBufferPointer(buffer), at: 0)) ?? 0
        }
        guard contents.count == size, let after = try? BeneathCalls.status(file.fd),
              FileVersion(after) == FileVersion(status) else { return nil }
        return contents
    }

    /// Out of descriptors (EMFILE, ENFILE): the cache lets go of half its files and tries once more.
    private func openMakingRoom(_ relative: String) throws -> SharedFile {
        do {
            return try root.open(relative)
        } catch let error as SystemError where (error.errno == EMFILE || error.errno == ENFILE) && count > 0 {
            for _ in 0..<max(1, count / 2) { evictOldest() }
            return try root.open(relative)
        }
    }

    // MARK: Least recently used order

    private func insert(_ key: String, _ lookup: FileLookup, now: Int) {
        let index: Int
        bytesInMemory += lookup.bytesInMemory
        if indexes.count >= capacity {
            index = oldest
            unlink(index)
            indexes[slots[index].key] = nil
            bytesInMemory -= slots[index].lookup.bytesInMemory
            slots[index] = Slot(key: key, lookup: lookup, validatedAt: now)
        } else if let free = freeSlots.popLast() {
            index = free
            slots[index] = Slot(key: key, lookup: lookup, validatedAt: now)
        } else {
            index = slots.count
            slots.append(Slot(key: key, lookup: lookup, validatedAt: now))
        }
        indexes[key] = index
        pushNewest(index)
    }

    private func evictOldest() {
        guard oldest >= 0 else { return }
        let index = oldest
        unlink(index)
        indexes[slots[index].key] = nil
        bytesInMemory -= slots[index].lookup.bytesInMemory
        // The slot is reused by the next insert; until then it holds nothing open.
        slots[index].lookup = .missing(.missing)
        freeSlots.append(index)
    }

    private func touch(_ index: Int) {
        guard newest != index else { return }
        unlink(index)
        pushNewest(index)
    }

    private func unlink(_ index: Int) {
        let (newer, older) = (slots[index].newer, slots[index].older)
        if newer >= 0 { slots[newer].older = older } else { newest = older }
        if older >= 0 { slots[older].newer = newer } else { oldest = newer }
        slots[index].newer = -1
        slots[index].older = -1
    }

    private func pushNewest(_ index: Int) {
        slots[index].older = newest
        slots[index].newer = -1
        if newest >= 0 { slots[newest].newer = index }
        newest = index
        if oldest < 0 { oldest = index }
    }
}
