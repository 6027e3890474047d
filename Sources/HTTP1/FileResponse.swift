// FileResponse: the answer to a GET or HEAD for a file, with the HTTP semantics
// of RFC 9110: validators on every answer (§8.8), preconditions (§13) giving 304
// or 412, and Range (§14) giving 206, multipart/byteranges or 416. A request
// with none of those fields costs one pass over its fields and no allocation.

public enum FileResponse {
    /// Answers `request` (GET or HEAD) with `file`, the whole regular file `validators` describe, of type `mediaType`.
    /// - Parameter contents: the file's bytes, when its holder keeps them in memory; a body region carries them.
    public static func answer(_ request: Request, file: SharedFile, contents: [UInt8]? = nil, validators: Validators,
                              mediaType: MediaType, with response: inout Response) {
        let fields = ConditionalFields(request)
        guard !fields.isEmpty else { return whole(file, contents, validators, mediaType, &response) }
        let isHead = request.head.isHead
        let isGetOrHead = isHead || request.method == "GET"
        let answered: Void? = validators.entityTag.utf8.withContiguousStorageIfAvailable { tag in
            let served = Served(file: file, contents: contents, validators: validators, mediaType: mediaType,
                                entityTag: UnsafeRawBufferPointer(tag))
            answer(fields, served, isGet: isGetOrHead && !isHead, isGetOrHead: isGetOrHead, &response)
        }
        if answered == nil { whole(file, contents, validators, mediaType, &response) }
    }

    /// What is being served, for the steps below.
    private struct Served {
        let file: SharedFile
        let contents: [UInt8]?
        let validators: Validators
        let mediaType: MediaType
        let entityTag: UnsafeRawBufferPointer
        var size: Int { validators.facts.size }
        var modified: Int { validators.facts.modified }
    }

    private static func answer(_ fields: ConditionalFields, _ served: Served, isGet: Bool, isGetOrHead: Bool,
                               _ response: inout Response) {
        switch Preconditions.evaluate(fields, entityTag: served.entityTag, modified: served.modified, isGetOrHead: isGetOrHead) {
        case .notModified: return notModified(served.validators, &response)
        case .preconditionFailed: return failure(.preconditionFailed, "precondition failed\n", &response)
        case .proceed: break
        }
        // RFC 9110 §14.2: range handling is defined for GET only (nginx answers HEAD with a 206's head).
        guard isGet, let range = fields.range,
              Preconditions.rangeApplies(fields, entityTag: served.entityTag, modified: served.modified) else {
            return whole(served.file, served.contents, served.validators, served.mediaType, &response)
        }
        switch ByteRanges.plan(range, length: served.size) {
        case .whole:
            whole(served.file, served.contents, served.validators, served.mediaType, &response)
        case .single(let part):
            response.status = .partialContent
            response.mediaType = served.mediaType
            response.body = .file(FileRegion(sharing: served.file, offset: part.start, length: part.length,
                                             contents: served.contents))
            response.addCheckedHeaders(served.validators.validatorFields)
            response.addHeader("Content-Range", "bytes \(part.start)-\(part.end - 1)/\(served.size)")  // §14.4
        case .multiple(let parts):
            let (body, type) = MultipartRanges.body(parts, of: served.file, size: served.size,
                                                    partContentType: served.mediaType.value)
            response.status = .partialContent
            response.mediaType = MediaType(type)
            response.body = .stream(body)
            response.addCheckedHeaders(served.validators.validatorFields)
        case .unsatisfiable:
            failure(.rangeNotSatisfiable, "range not satisfiable\n", &response)
            response.addHeader("Content-Range", "bytes */\(served.size)")  // §14.4
        }
    }

    /// 200 with the whole file, its validators and Accept-Ranges (§14.3).
    private static func whole(_ file: SharedFile, _ contents: [UInt8]?, _ validators: Validators, _ mediaType: MediaType,
                              _ response: inout Response) {
        response.status = .ok
        response.mediaType = mediaType
        response.body = .file(FileRegion(sharing: file, offset: 0, length: validators.facts.size, contents: contents))
        response.addCheckedHeaders(validators.wholeFields)
    }

    /// 304: the validators a 200 would carry, and no Content-Type, Content-Length or body (§15.4.5; nginx sends the same).
    private static func notModified(_ validators: Validators, _ response: inout Response) {
        response.status = .notModified
        response.contentType = ""
        response.mediaType = nil
        response.body = .empty
        response.addCheckedHeaders(validators.validatorFields)
    }

    /// An error with a short text body and no validators (nginx's error pages carry none either).
    private static func failure(_ status: HTTPStatus, _ text: StaticString, _ response: inout Response) {
        response.status = status
        response.contentType = "text/plain; charset=utf-8"
        response.mediaType = nil
        response.body = .text(text)
    }
}
