// ParserCalls: the parser as the tests that look only at its verdict call it,
// with header storage of their own for the one call (the server passes the
// worker's; see HeaderStorage). Tests that read the fields pass storage themselves.
@testable import HTTP1

extension RequestParser {
    /// Parses with header storage that is discarded after the call: for verdicts, not fields.
    func parse(_ bytes: UnsafeRawBufferPointer, progress: inout ParseProgress) -> ParseResult {
        let storage = HeaderStorage(limits: limits)
        return withExtendedLifetime(storage) { parse(bytes, progress: &progress, fields: storage.buffer) }
    }
}
