// FileSendSettings: the operator's choices for sending file bodies
// (--sendfile-max-chunk, --aio-threads), validated with the rest of the
// configuration. The sending itself is ConnectionDriver+Body; reading cold
// pages off the loop is ConnectionDriver+Disk.

/// How file bodies leave a worker.
public struct FileSendSettings: Sendable, Equatable {
    /// Bytes one sendfile(2) call may send, and so one connection per loop turn (nginx's
    /// sendfile_max_chunk). 256 KiB leaves the socket's buffer well fed on a fast client
    /// (a loopback or LAN socket takes a few MiB) while one call takes tens of
    /// microseconds, so the other connections of the worker wait that long at most.
    public var maxChunk = 256 * 1024
    /// Helper threads per event-loop worker that read cold file pages into the page cache
    /// before sendfile needs them (nginx's `aio threads`); 0 sends without asking, and a
    /// page-cache miss then blocks the worker until the disk delivers. Started on first use.
    public var aioThreads = 4
    /// Bytes a helper reads ahead on a miss: enough for several chunks, so the loop asks
    /// again only after those are sent.
    public var readAheadBytes = 1024 * 1024
    /// Bodies shorter than this are sent without asking the page cache first: the probe
    /// costs a system call per response, and a miss on a small body costs one short read.
    public var probeMinimumBytes = 128 * 1024

    public init() {}

    /// The first setting that cannot work, as one line.
    func validate() throws(ConfigurationError) {
        guard (4096...(1 << 30)).contains(maxChunk) else {
            throw ConfigurationError("--sendfile-max-chunk must be between 4096 and 1073741824 bytes (got \(maxChunk))")
        }
        guard (0...64).contains(aioThreads) else {
            throw ConfigurationError("--aio-threads must be between 0 and 64 (got \(aioThreads))")
        }
    }
}
