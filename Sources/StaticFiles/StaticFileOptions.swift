// StaticFileOptions: how a static file handler answers, as an operator sets it
// (--serve-dot-files, --autoindex, --open-file-cache, --open-file-cache-valid).

/// The settings of a `StaticFileHandler`.
public struct StaticFileOptions: Sendable {
    /// Serve names with a segment starting with "." (`.git/config`, `.env`); off, they are 404.
    public var serveDotFiles = false
    /// Answer a directory without an index file with an HTML listing; off, it is 403 (as nginx).
    public var autoindex = false
    /// The file a directory answers with.
    public var indexName = "index.html"
    /// Open files (and missing names) each worker keeps; 0 opens every file for every request.
    public var openFileCacheCapacity = 1000
    /// How long a cached lookup is trusted before the name is looked up again, in ms
    /// (nginx's open_file_cache_valid, 60 s by default).
    public var openFileCacheValidMilliseconds = 60_000
    /// Bytes of small files (up to `OpenFileCache.largestFileInMemory` each) the open-file cache keeps in
    /// memory, per worker: worth it where file bodies are copied through memory anyway (TLS without kernel
    /// TLS), where they save a pread(2) per answer; 0 keeps none (a plain socket sends with sendfile(2)).
    public var openFileCacheContentBytes = 0
    /// What the command line sets `openFileCacheContentBytes` to for a server whose TLS copies file bodies.
    public static let contentBytesForCopyingTransports = 4 * 1024 * 1024
    /// Serve `name.br` or `name.gz` beside a requested file when the client prefers it
    /// (nginx's gzip_static and brotli_static); off by default, as there.
    public var precompressed = false
    /// Entries an autoindex listing shows at most.
    public var maximumListingEntries = 10_000

    public init() {}
}
