// StaticFileFlags: the flags that make the server serve a directory
// (--root and its settings), and the handler they build: the files in front of
// the executable's own handler, which answers every name not found.
import ArgumentParser
import Glibc
import Logging
import Server
import StaticFiles

public struct StaticFileFlags: ParsableArguments {
    public init() {}

    @Option(help: ArgumentHelp("Serve the files under this directory for GET and HEAD (/health and /metrics still answer).",
                               valueName: "directory"))
    public var root: String?

    @Flag(help: "Serve names with a segment starting with '.' (.git, .env); without it they are 404.")
    var serveDotFiles = false

    @Flag(help: "Answer a directory without index.html with an HTML listing (without it: 403).")
    var autoindex = false

    @Option(help: ArgumentHelp("Open files (and missing names) each worker keeps open and remembers; 0 turns the cache off.",
                               valueName: "entries"))
    var openFileCache = StaticFileOptions().openFileCacheCapacity

    @Option(help: "Seconds a cached file is trusted before its name is looked up again (nginx's open_file_cache_valid).")
    var openFileCacheValid = Seconds(milliseconds: StaticFileOptions().openFileCacheValidMilliseconds)

    @Flag(help: "Serve a file's precompressed sibling (name.br, name.gz) when the client's Accept-Encoding prefers it (nginx's gzip_static).")
    var gzipStatic = false

    @Option(help: ArgumentHelp("Bytes one sendfile call sends at most, and one connection per loop turn (nginx's sendfile_max_chunk).",
                               valueName: "bytes"))
    var sendfileMaxChunk = FileSendSettings().maxChunk

    @Option(help: ArgumentHelp("Threads per event-loop worker that read cold file pages before sendfile needs them, so a page-cache miss does not block the worker (nginx's aio threads); 0 turns it off.",
                               valueName: "threads"))
    var aioThreads = FileSendSettings().aioThreads

    /// How file bodies are sent (the server's, not the file handler's: a handler's file body is sent the same way).
    var fileSending: FileSendSettings {
        var settings = FileSendSettings()
        settings.maxChunk = sendfileMaxChunk
        settings.aioThreads = aioThreads
        return settings
    }

    var options: StaticFileOptions {
        var options = StaticFileOptions()
        options.serveDotFiles = serveDotFiles
        options.autoindex = autoindex
        options.precompressed = gzipStatic
        options.openFileCacheCapacity = openFileCache
        options.openFileCacheValidMilliseconds = openFileCacheValid.milliseconds
        return options
    }

    public func validate() throws {
        guard (0...1_000_000).contains(openFileCache) else {
            throw ValidationError("--open-file-cache must be between 0 and 1000000 (got \(openFileCache))")
        }
        if let root, root.isEmpty { throw ValidationError("--root must not be empty") }
    }

    /// With --root, a maker of the files handler in front of `fallback`, for each worker; else `fallback`.
    /// The directory is opened and /etc/mime.types read here, in the master before fork, so a
    /// bad --root fails at once and the workers share the table. Where `configuration`'s TLS copies
    /// file bodies through memory, the open-file cache keeps small files' bytes too.
    func handler(before fallback: @escaping () -> any HTTPHandler, for configuration: ServerConfiguration,
                 logger: Logger) throws -> () -> any HTTPHandler {
        guard let root else { return fallback }
        let directory: RootDirectory
        do {
            directory = try RootDirectory(path: root)
        } catch {
            throw ValidationError("--root \(root): \(error.reason)")
        }
        var options = options
        options.openFileCacheCapacity = DescriptorBudget.reserve(cache: options.openFileCacheCapacity,
                                                                 connections: configuration.maxConnections, logger: logger)
        if configuration.copiesFileBodies {
            options.openFileCacheContentBytes = StaticFileOptions.contentBytesForCopyingTransports
        }
        let types = ContentTypes.system()
        return { StaticFileHandler(root: directory, options: options, contentTypes: types, next: fallback()) }
    }
}
