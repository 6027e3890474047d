// FileResponse: the answer to a GET or HEAD for a file, with the HTTP semantics
// of RFC 9110: validators on every answer (§8.8), preconditions (§13) giving 304
// or 412, and Range (§14) giving 206, multipart/byteranges or 416. A request
// with none of those fields costs one pass over its fields and no allocation.

public enum FileResponse {
    /// The response to `request` (GET or HEAD) for `file`, the whole regular file `validators` describe.
    /// - Parameter contentType: the file's type, also given to each part of a multipart answer.
    public static func answer(_ request: Request, file: FileRegion, validators: Validators,
                              contentType: StaticString) -> Response {
        let fields = ConditionalFields(request)
        if fields.isEmpty { return whole(file, validators, contentType) }
        let isHead = request.head.isHead
        let isGetOrHead = isHead || request.method == "GET"
        return validators.entityTag.utf8.withContiguousStorageIfAvailable { tag in
            answer(fields, entityTag: UnsafeRawBufferPointer(tag), isGet: isGetOrHead && !isHead, isGetOrHead: isGetOrHead,
                   file: file, validators: validators, contentType: contentType)
        } ?? whole(file, validators, contentType)
    }

    private static func answer(_ fields: ConditionalFields, entityTag: UnsafeRawBufferPointer, isGet: Bool,
                               isGetOrHead: Bool, file: FileRegion, validators: Validators,
                               contentType: StaticString) -> Response {
        let facts = validators.facts
        switch Preconditions.evaluate(fields, entityTag: entityTag, modified: facts.modified, isGetOrHead: isGetOrHead) {
        case .notModified: return notModified(validators)
        case .preconditionFailed: return failure(.preconditionFailed, "precondition failed\n")
        case .proceed: break
        }
        // RFC 9110 §14.2: range handling is defined for GET only (nginx answers HEAD with a 206's head).
        guard isGet, let range = fields.range,
              Preconditions.rangeApplies(fields, entityTag: entityTag, modified: facts.modified) else {
            return whole(file, validators, contentType)
        }
        switch ByteRanges.plan(range, length: facts.size) {
        case .whole:
            return whole(file, validators, contentType)
        case .single(let part):
            return single(part, of: file, validators, contentType)
        case .multiple(let parts):
            var response = Response(status: .partialContent, contentType: "")
            let (body, type) = MultipartRanges.body(parts, of: file, size: facts.size, partContentType: contentType)
            response.body = .stream(body)
            response.addCheckedHeaders(validators.validatorFields)
            response.addHeader("Content-Type", type)
            return response
        case .unsatisfiable:
            var response = failure(.rangeNotSatisfiable, "range not satisfiable\n")
            response.addHeader("Content-Range", "bytes */\(facts.size)")  // §14.4
            return response
        }
    }

    /// 200 with the whole file, its validators and Accept-Ranges (§14.3).
    private static func whole(_ file: FileRegion, _ validators: Validators, _ contentType: StaticString) -> Response {
        var response = Response(status: .ok, contentType: contentType, body: .file(file))
        response.addCheckedHeaders(validators.wholeFields)
        return response
    }

    /// 206 with one part: a region of just those bytes, and Content-Range (§14.4, §15.3.7.1).
    private static func single(_ part: ByteRange, of file: FileRegion, _ validators: Validators,
                               _ contentType: StaticString) -> Response {
        let region: FileRegion
        do {
            region = try file.part(offset: part.start, length: part.length)
        } catch {
            return failure(.internalServerError, "internal server error\n")
        }
        var response = Response(status: .partialContent, contentType: contentType, body: .file(region))
        response.addCheckedHeaders(validators.validatorFields)
        response.addHeader("Content-Range", "bytes \(part.start)-\(part.end - 1)/\(validators.facts.size)")
        return response
    }

    /// 304: the validators a 200 would carry, and no Content-Type, Content-Length or body (§15.4.5; nginx sends the same).
    private static func notModified(_ validators: Validators) -> Response {
        var response = Response(status: .notModified, contentType: "")
        response.addCheckedHeaders(validators.validatorFields)
        return response
    }

    /// An error with a short text body and no validators (nginx's error pages carry none either).
    private static func failure(_ status: HTTPStatus, _ text: StaticString) -> Response {
        Response(status: status, body: .text(text))
    }
}
