// HeaderStorage: where the parser writes a request's header fields, owned by
// the caller (picohttpparser's shape: `phr_parse_request(..., headers,
// &num_headers, ...)`), and ParkedHead: the parsed head of a request whose body
// is still arriving.
//
// Where the fields live. A worker holds one HeaderStorage for all its
// connections: a request that completes within one read is parsed into it and
// answered at once, before any other connection's request can overwrite it.
// A request whose head is complete but whose body is still arriving cannot
// leave its fields there (other connections' requests are parsed in between),
// and must not be parsed again when the body is whole; so the parser parks its
// head and a copy of its fields (a few dozen bytes per field, in one
// allocation) in ParseProgress, and copies the fields back into the caller's
// storage when the body completes. Only such a connection pays for the copy,
// and only until the request is answered (the caller then starts a fresh
// ParseProgress, releasing it). An idle connection holds none of this:
// ParseProgress keeps a single reference for it (keeping per-connection field
// storage instead would cost an idle connection maxHeaderCount × 16 bytes).

/// The caller's storage for the header fields of the request being parsed.
package final class HeaderStorage {
    /// Room for `limits.maxHeaderCount` fields; entries `0..<head.headerCount` belong to the last complete request.
    package let buffer: UnsafeMutableBufferPointer<HeaderField>

    package init(limits: RequestLimits) {
        buffer = .allocate(capacity: limits.maxHeaderCount)
    }

    deinit {
        buffer.deallocate()
    }
}

/// The head of a request awaiting its body, with a copy of its header fields (one allocation).
@usableFromInline
package final class ParkedHead: ManagedBuffer<RequestHead, HeaderField> {
    /// Parks `head` and the first `head.headerCount` entries of `fields`.
    static func park(_ head: RequestHead, fields: UnsafeMutableBufferPointer<HeaderField>) -> ParkedHead {
        let parked = unsafeDowncast(create(minimumCapacity: head.headerCount) { _ in head }, to: ParkedHead.self)
        if let source = fields.baseAddress, head.headerCount > 0 {
            parked.withUnsafeMutablePointerToElements { $0.initialize(from: source, count: head.headerCount) }
        }
        return parked
    }

    /// Copies the parked fields back into the caller's storage, where a complete request's fields are.
    func restoreFields(into fields: UnsafeMutableBufferPointer<HeaderField>) {
        guard let destination = fields.baseAddress, header.headerCount > 0 else { return }
        withUnsafeMutablePointerToElements { destination.update(from: $0, count: header.headerCount) }
    }
}
