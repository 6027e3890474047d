// StaticFileHandler: serves the files under a root directory, mounted under a
// path prefix, for GET and HEAD. A name it does not find goes to the handler
// behind it (an embedder's routes), or gets 404; other methods on a file or
// directory get 405 with Allow. The steps: the path is normalised (RequestPath),
// looked up through the worker's open-file cache (never outside the root,
// RootDirectory), and a file is answered by `answerFile`; a directory by its
// index file, a 301 adding the slash, or a listing (DirectoryAnswers).
import Glibc
import HTTP1
import Server
import ServerSystem

/// A handler serving the files of a directory.
///
/// Make it in each worker, after fork (the `handler` closure of `HTTPServer`): its
/// open-file cache is the worker's own.
public struct StaticFileHandler: HTTPHandler {
    private let cache: OpenFileCache
    private let root: RootDirectory
    private let options: StaticFileOptions
    /// The mount point without its trailing slash ("" when mounted at "/").
    private let prefix: [UInt8]
    private let next: (any HTTPHandler)?
    private let record: WorkerRecord

    /// - Parameters:
    ///   - prefix: the path the root is served under ("/" or "/static").
    ///   - next: answers what is not under `prefix` or not found; nil answers those with 404.
    public init(root: RootDirectory, options: StaticFileOptions = StaticFileOptions(),
                contentTypes: ContentTypes = ContentTypes(), mountedAt prefix: String = "/",
                next: (any HTTPHandler)? = nil) {
        self.root = root
        self.options = options
        var mount = Array(prefix.utf8)
        while mount.last == UInt8(ascii: "/") { mount.removeLast() }
        self.prefix = mount
        self.next = next
        cache = OpenFileCache(root: root, contentTypes: contentTypes, capacity: options.openFileCacheCapacity,
                              validMilliseconds: options.openFileCacheValidMilliseconds,
                              contentBudget: options.openFileCacheContentBytes)
        record = WorkerRecord.ofThisProcess
    }

    public func respond(to request: Request, with response: inout Response) {
        let path = request.path.bytes
        guard let rest = remainder(of: path) else { return passOn(request, &response) }
        // "/static" itself: the mount point is a directory, named with its slash.
        if rest.isEmpty { return DirectoryAnswers.redirect(toDirectory: prefix, [], query: request.query, &response) }
        let name: RequestPath
        do {
            name = try RequestPath(decoding: rest)
        } catch {
            response.status = .badRequest
            response.body = .text("bad request\n")
            return
        }
        if name.hasDotSegment && !options.serveDotFiles { return passOn(request, &response) }
        answer(name, request, &response)
    }

    /// The path after the mount point (starting with "/"), or nil when the path is not under it.
    private func remainder(of path: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard path.count >= prefix.count, prefix.withUnsafeBytes({ path.starts(with: $0) }) else { return nil }
        let rest = UnsafeRawBufferPointer(rebasing: path[prefix.count...])
        guard rest.isEmpty || rest.first == UInt8(ascii: "/") else { return nil }
        return rest
    }

    private func answer(_ name: RequestPath, _ request: Request, _ response: inout Response) {
        switch look(up: name.relative, &response) {
        case nil: return
        case .missing(.missing)?: passOn(request, &response)
        case .missing(.forbidden)?: DirectoryAnswers.forbid(&response)
        case .file(let file)?:
            // "/a.txt/" asks for a directory that a file is not (open(2) would say ENOTDIR).
            if name.trailingSlash { return passOn(request, &response) }
            guard allowsReading(request, &response) else { return }
            answer(file, named: name.relative, request, &response)
        case .directory?:
            guard allowsReading(request, &response) else { return }
            answerDirectory(name, request, &response)
        }
    }

    /// A directory asked for with its slash answers with its index file, else a listing or 403;
    /// without the slash, a 301 adds it, so relative links in the page resolve inside it.
    private func answerDirectory(_ name: RequestPath, _ request: Request, _ response: inout Response) {
        guard name.trailingSlash || name.relative.isEmpty else {
            return DirectoryAnswers.redirect(toDirectory: prefix, name.segments, query: request.query, &response)
        }
        let index = name.relative.isEmpty ? options.indexName : name.relative + "/" + options.indexName
        switch look(up: index, &response) {
        case nil: return
        case .file(let file)?: answer(file, named: index, request, &response)
        case .directory?, .missing?:
            guard options.autoindex else { return DirectoryAnswers.forbid(&response) }
            DirectoryAnswers.listing(of: name, under: root, prefix: prefix, options: options, &response)
        }
    }

    /// A file, or with --gzip-static its precompressed sibling when the client prefers one.
    private func answer(_ file: OpenedFile, named relative: String, _ request: Request, _ response: inout Response) {
        if options.precompressed {
            // A sibling whose lookup fails is passed over (the failure's 500 goes to a scratch response).
            var scratch = Response()
            let answered = answerPrecompressed(file, named: relative, to: request, with: &response) {
                guard case .file(let sibling)? = look(up: $0, &scratch) else { return nil }
                return sibling
            }
            if answered { return }
        }
        answerFile(file, to: request, with: &response)
    }

    /// The cache's answer for `relative`, counted as a hit or a miss; nil (and a 500) when the lookup failed.
    private func look(up relative: String, _ response: inout Response) -> FileLookup? {
        do {
            let (found, hit) = try cache.lookup(relative)
            record.add(hit ? .fileCacheHits : .fileCacheMisses)
            return found
        } catch {
            response.status = .internalServerError
            response.body = .text("internal server error\n")
            return nil
        }
    }

    /// Only GET and HEAD read a file: the operations routes' rule (405 with Allow otherwise).
    private func allowsReading(_ request: Request, _ response: inout Response) -> Bool {
        OperationsRoutes.allowsReading(request, &response)
    }

    /// Files are read, never written: a streamed body can only be for `next`'s routes.
    public var streamsRequestBodies: Bool { next?.streamsRequestBodies ?? false }
    public func streamedBodyLimit(for request: Request) -> Int? { next?.streamedBodyLimit(for: request) }

    private func passOn(_ request: Request, _ response: inout Response) {
        if let next { return next.respond(to: request, with: &response) }
        response.status = .notFound
        response.body = .text("not found\n")
    }
}
