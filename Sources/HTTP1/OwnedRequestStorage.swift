// OwnedRequestStorage: the memory behind an OwnedRequest, one allocation per
// request handed off: the parsed head in the header, then in the tail the
// field table, the request's bytes and, when a proxy named the client, its
// address entry. One allocation rather than an array each, and a copy of the
// request (into a task's frame, a closure, a ticket) is one retain.

/// What the tail holds and where (the field table starts at the tail's start, aligned for it).
struct OwnedRequestLayout {
    let head: RequestHead
    let fieldCount: Int
    /// Where the request's bytes start in the tail, in bytes.
    let bytesOffset: Int
    let byteCount: Int
    /// Where the client's entry starts in the tail, in bytes; nil when there is none.
    let clientOffset: Int?
}

final class OwnedRequestStorage: ManagedBuffer<OwnedRequestLayout, HeaderField> {
    /// A copy of `request`'s head, fields, bytes and client entry.
    static func copy(of request: Request) -> OwnedRequestStorage {
        let fieldCount = request.fields.count
        let byteCount = request.head.totalLength
        let bytesOffset = fieldCount * MemoryLayout<HeaderField>.stride
        let clientOffset = request.clientEntry == nil ? nil : bytesOffset + byteCount
        let tailBytes = bytesOffset + byteCount + (clientOffset == nil ? 0 : ClientAddressEntry.size)
        let stride = MemoryLayout<HeaderField>.stride
        let layout = OwnedRequestLayout(head: request.head, fieldCount: fieldCount, bytesOffset: bytesOffset,
                                        byteCount: byteCount, clientOffset: clientOffset)
        let buffer = create(minimumCapacity: (tailBytes + stride - 1) / stride) { _ in layout }
        let storage = unsafeDowncast(buffer, to: OwnedRequestStorage.self)
        storage.withUnsafeMutablePointerToElements { tail in
            if let fields = request.fields.baseAddress { tail.initialize(from: fields, count: fieldCount) }
            let raw = UnsafeMutableRawPointer(tail)
            (raw + bytesOffset).copyMemory(from: request.base, byteCount: byteCount)
            if let clientOffset, let entry = request.clientEntry {
                (raw + clientOffset).copyMemory(from: entry, byteCount: ClientAddressEntry.size)
            }
        }
        return storage
    }

    /// The zero-copy view of the copy, valid inside `body` only.
    func withRequest<Result>(_ body: (Request) throws -> Result) rethrows -> Result {
        try withUnsafeMutablePointers { layout, tail in
            let layout = layout.pointee
            let raw = UnsafeRawPointer(tail)
            let fields = UnsafeBufferPointer(start: UnsafePointer(tail), count: layout.fieldCount)
            var request = Request(bytes: UnsafeRawBufferPointer(start: raw + layout.bytesOffset, count: layout.byteCount),
                                  head: layout.head, fields: fields)
            if let clientOffset = layout.clientOffset { request.clientEntry = raw + clientOffset }
            return try body(request)
        }
    }

    deinit {
        // The field table is the only typed part of the tail (HeaderField is trivial, but the books stay straight).
        _ = withUnsafeMutablePointers { layout, tail in tail.deinitialize(count: layout.pointee.fieldCount) }
    }
}
