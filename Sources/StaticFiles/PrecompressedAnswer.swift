// PrecompressedAnswer: nginx's gzip_static and brotli_static. Beside `name`,
// `name.br` and `name.gz` are tried in the order of the client's Accept-Encoding
// weights (PrecompressedSiblings); the first found is sent instead, with its
// own length and Content-Encoding, and `name`'s Content-Type. Siblings are
// looked up through the open-file cache, so a missing one costs nothing after
// its first lookup (a negative entry).
import HTTP1

/// Answers with `file`'s preferred precompressed sibling, if the client prefers one that exists;
/// false when `file` itself is to be sent. `Vary: Accept-Encoding` is added whenever a sibling
/// exists, chosen or not (as nginx with gzip_vary): the answer depends on the field.
func answerPrecompressed(_ file: OpenedFile, named relative: String, to request: Request, with response: inout Response,
                         lookingUp lookup: (String) -> OpenedFile?) -> Bool {
    let accepted = AcceptEncoding(of: request)
    let chosen = PrecompressedSiblings.choose(for: accepted) { coding in lookup(relative + sibling(coding)) }
    guard let chosen else {
        if lookup(relative + sibling(.br)) != nil || lookup(relative + sibling(.gzip)) != nil {
            response.addHeader("Vary", "Accept-Encoding")
        }
        return false
    }
    answerFile(chosen.file, as: file.mediaType, to: request, with: &response)
    response.addHeader("Vary", "Accept-Encoding")
    response.addHeader("Content-Encoding", chosen.coding == .br ? "br" : "gzip")
    return true
}

private func sibling(_ coding: ContentCoding) -> String {
    coding == .br ? ".br" : ".gz"
}
