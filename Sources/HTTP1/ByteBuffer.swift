// ByteBuffer: a growable run of bytes with a read and a write index, used for
// request input and response output. It owns its memory; unsafe pointer code
// for buffers stays in this file.
import Glibc

@usableFromInline
package final class ByteBuffer {
    // Every response touches these a dozen times; dynamic exclusivity checks on them
    // cost more than the copying itself. All access is from this file, never overlapping.
    // `@usableFromInline` (and the type's own), so the `@inlinable` accessors below are
    // inlined into the server's request cycle in the Server target, as they were when
    // it was one module; without it a package body is not visible to another module.
    @exclusivity(unchecked) @usableFromInline var storage: UnsafeMutableRawPointer
    @exclusivity(unchecked) @usableFromInline package internal(set) var capacity: Int
    @exclusivity(unchecked) @usableFromInline package internal(set) var readerIndex = 0
    @exclusivity(unchecked) @usableFromInline package internal(set) var writerIndex = 0

    package init(capacity: Int) {
        self.capacity = max(capacity, 16)
        storage = .allocate(byteCount: self.capacity, alignment: 16)
    }

    /// A buffer holding a copy of `bytes`, with room to grow.
    package convenience init(copying bytes: UnsafeRawBufferPointer, minimumCapacity: Int = 0) {
        self.init(capacity: max(bytes.count, minimumCapacity))
        append(bytes)
    }

    deinit {
        storage.deallocate()
    }

    @inlinable package var readableCount: Int { writerIndex - readerIndex }
    @inlinable package var isEmpty: Bool { readerIndex == writerIndex }

    /// Lends the unread bytes to `body`. The pointer is valid only inside `body`:
    /// any mutation of the buffer may move its storage (see `reserve`).
    @inlinable
    package func withReadableBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: storage + readerIndex, count: readableCount))
    }

    /// Lends the unread bytes to `body`, writable in place (to decode a chunked body).
    @inlinable
    package func withMutableReadableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeMutableRawBufferPointer(start: storage + readerIndex, count: readableCount))
    }

    /// Marks `count` bytes as consumed; an emptied buffer rewinds to its start.
    @inlinable
    package func consume(_ count: Int) {
        precondition(count <= readableCount, "consumed more bytes than are readable")
        readerIndex += count
        if readerIndex == writerIndex { clear() }
    }

    @inlinable
    package func clear() {
        readerIndex = 0
        writerIndex = 0
    }

    /// Empties the buffer, and gives back what a spike made it grow by past `normal` bytes.
    /// Inlinable, so a caller in another module reads `capacity` under this file's unchecked
    /// exclusivity: read directly from there, it would cost a dynamic check (swift_beginAccess).
    @inlinable
    package func clear(shrinkingTo normal: Int) {
        clear()
        if capacity > normal { shrink(toCapacity: normal) }
    }

    /// Lends `body` the free space after the written bytes, at least `minimum` bytes,
    /// made by moving unread bytes to the front or growing; `body` fills a prefix of it
    /// (a read(2) into it) and returns how many bytes it wrote, which are then committed.
    /// Scoped, like `read(2)`'s buffer in picohttpparser's callers: no pointer outlives the call.
    /// - Parameter limit: offer at most this many bytes, however much room a grown buffer has.
    /// - Returns: the bytes written.
    @inlinable @discardableResult
    package func withWritableSpace(minimum: Int, atMost limit: Int = .max,
                                   _ body: (UnsafeMutableRawBufferPointer) throws -> Int) rethrows -> Int {
        reserve(minimum)
        let written = try body(UnsafeMutableRawBufferPointer(start: storage + writerIndex, count: min(capacity - writerIndex, limit)))
        precondition(written >= 0 && writerIndex + written <= capacity, "wrote past the buffer's end")
        writerIndex += written
        return written
    }

    package func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count)
        (storage + writerIndex).copyMemory(from: source, byteCount: bytes.count)
        writerIndex += bytes.count
    }

    package func append(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    package func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Appends a non-negative integer in decimal, without building a String.
    package func appendDecimal(_ value: Int) {
        precondition(value >= 0, "only non-negative numbers are written")
        var digits = 1
        var rest = value / 10
        while rest > 0 { digits += 1; rest /= 10 }
        reserve(digits)
        var remaining = value
        let end = storage + writerIndex + digits
        for offset in 1...digits {
            (end - offset).storeBytes(of: UInt8(truncatingIfNeeded: 48 + remaining % 10), as: UInt8.self)
            remaining /= 10
        }
        writerIndex += digits
    }

    /// Gives memory back after a spike: moves the unread bytes into storage of
    /// `target` bytes (never fewer than are unread), if that is smaller than now.
    @usableFromInline
    package func shrink(toCapacity target: Int) {
        let newCapacity = max(target, readableCount, 16)
        guard newCapacity < capacity else { return }
        reallocate(to: newCapacity)
    }

    /// Makes room for `count` more bytes after `writerIndex`.
    @usableFromInline
    func reserve(_ count: Int) {
        if capacity - writerIndex >= count { return }
        if readerIndex > 0 && capacity - readableCount >= count {
            compact()
            return
        }
        grow(to: readableCount + count)
    }

    private func compact() {
        let unread = readableCount
        storage.copyMemory(from: storage + readerIndex, byteCount: unread)
        readerIndex = 0
        writerIndex = unread
    }

    private func grow(to needed: Int) {
        var newCapacity = capacity
        while newCapacity < needed { newCapacity *= 2 }
        reallocate(to: newCapacity)
    }

    /// Moves the unread bytes to the front of new storage of `newCapacity` bytes.
    private func reallocate(to newCapacity: Int) {
        let newStorage = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        newStorage.copyMemory(from: storage + readerIndex, byteCount: readableCount)
        storage.deallocate()
        storage = newStorage
        writerIndex = readableCount
        readerIndex = 0
        capacity = newCapacity
    }
}
