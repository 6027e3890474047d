// AnswerFile: the one place an open file becomes a response, with the HTTP
// semantics of RFC 9110 (validators, conditional requests, ranges: HTTP1's
// FileResponse); the body is sent with sendfile(2) from the cache's descriptor,
// or over TLS copied from the cache's bytes of a small file.
// The handler calls it once it holds the open file and knows the method is GET or HEAD.
import HTTP1

/// Answers a GET or HEAD of `file`: 200, 206, 304, 412 or 416 (HEAD: the same head, no body).
/// - Parameter mediaType: the type to send instead of `file`'s own: a precompressed sibling
///   ("a.css.gz") is sent as the original's type, with its own validators and ranges.
func answerFile(_ file: OpenedFile, as mediaType: MediaType? = nil, to request: Request, with response: inout Response) {
    FileResponse.answer(request, file: file.file, contents: file.contents, validators: file.validators,
                        mediaType: mediaType ?? file.mediaType, with: &response)
}
