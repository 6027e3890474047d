// AnswerWhole: the one place an open file becomes a response: 200 with the
// whole file as the body, sent with sendfile(2) from the cache's descriptor.
// Conditional requests and ranges (RFC 9110 §13, §14) replace this function;
// the handler calls it once it holds the open file and knows the method is GET or HEAD.
import HTTP1

/// Answers a GET or HEAD of `file` with the whole file (HEAD: the same head, no body).
func answerWhole(_ file: OpenedFile, to request: Request, with response: inout Response) {
    response.status = .ok
    response.mediaType = file.mediaType
    response.body = .file(file.wholeRegion())
}
