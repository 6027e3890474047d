// ChunkQueue: the byte chunks a streamed body holds between its producer and
// its consumer, first in first out. Taken from the front by an index, the
// array compacted once half of it is spent, so a take is not an O(n) shift.
package struct ChunkQueue: Sendable {
    private var chunks: [[UInt8]] = []
    private var head = 0

    package init() {}

    package var first: [UInt8]? { head < chunks.count ? chunks[head] : nil }

    package mutating func append(_ chunk: [UInt8]) {
        chunks.append(chunk)
    }

    /// Drops the first chunk (there must be one).
    package mutating func dropFirst() {
        head += 1
        if head == chunks.count {
            chunks.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 64 && head * 2 > chunks.count {
            chunks.removeFirst(head)
            head = 0
        }
    }

    /// The first chunk, taken off the queue; nil when it is empty.
    package mutating func popFirst() -> [UInt8]? {
        guard let chunk = first else { return nil }
        dropFirst()
        return chunk
    }

    package mutating func removeAll() {
        chunks = []
        head = 0
    }
}
