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
    /// Entries an autoindex listing shows at most.
    public var maximumListingEntries = 10_000

    public init() {}
}
