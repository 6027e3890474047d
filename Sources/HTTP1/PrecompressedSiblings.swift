// PrecompressedSiblings: choosing a file's precompressed sibling (`name.br`,
// `name.gz` beside `name`), as nginx's gzip_static and brotli_static do, by the
// client's Accept-Encoding weights (RFC 9110 §12.5.3). The caller opens the
// files (under its root, by its own rules): the choice only says which to try.

public enum PrecompressedSiblings {
    /// The sibling to serve: the codings `offered` that the client accepts at least as much as
    /// identity, best first (ties go to br, then gzip: the smaller file), each tried with
    /// `open(coding)` until one exists. Nil when none is preferred or none exists: serve `name` itself.
    ///
    /// `open` gets the coding; the caller appends its `fileSuffix` to the name and opens that
    /// file, returning nil when it does not exist (or is not a regular file).
    public static func choose<File>(for accepted: AcceptEncoding, offered: ContentCodings = [.br, .gzip],
                                    open: (ContentCoding) throws -> File?) rethrows -> (coding: ContentCoding, file: File)? {
        let identity = accepted.quality(of: .identity)
        for coding in ranked(accepted, offered) where accepted.quality(of: coding) >= identity {
            if let file = try open(coding) { return (coding, file) }
        }
        return nil
    }

    /// The acceptable codings among `offered` (identity aside), by weight then br before gzip.
    static func ranked(_ accepted: AcceptEncoding, _ offered: ContentCodings) -> [ContentCoding] {
        var codings: [ContentCoding] = []
        for coding in [ContentCoding.br, .gzip] where offered.contains(coding) && accepted.quality(of: coding) > 0 {
            codings.append(coding)
        }
        if codings.count == 2 && accepted.quality(of: codings[1]) > accepted.quality(of: codings[0]) { codings.swapAt(0, 1) }
        return codings
    }
}
