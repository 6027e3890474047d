// BodyStream: a response body produced piece by piece while the socket drains.
// The server pulls the next piece only once the socket has taken the previous
// one, so a producer never runs ahead of the client by more than one piece.

/// Produces a streamed body, one piece per call, on the worker's event loop.
///
/// Sendable because a `Response` is; the server calls it from the one thread
/// that runs the connection, never concurrently.
public protocol BodyProducer: AnyObject, Sendable {
    /// Writes the next bytes of the body at the front of `buffer` (at most its count)
    /// and returns how many; 0 means the body is complete. A negative count means it
    /// cannot be completed (its source failed): the server closes the connection without
    /// ending the body, so the client sees it cut short (RFC 9112 §8) rather than whole.
    func produce(into buffer: UnsafeMutableRawBufferPointer) -> Int
}

/// A streamed body: its producer, and its length when known in advance.
///
/// With a length the response carries Content-Length and the producer must supply
/// exactly that many bytes (a shortfall closes the connection); without one it
/// is sent with `Transfer-Encoding: chunked` (RFC 9112 §7.1), or, to an HTTP/1.0
/// client that does not know chunked, delimited by closing the connection (§6.3).
public final class BodyStream: Sendable {
    public let length: Int?
    let producer: any BodyProducer
    /// Set for a body made from an async sequence (ChunkPump): its pieces come from a task,
    /// so the server pulls them through the pump, waiting when none is there yet.
    package let pump: ChunkPump?

    public init(length: Int? = nil, producer: any BodyProducer) {
        precondition((length ?? 0) >= 0, "a stream's length is non-negative")
        self.length = length
        self.producer = producer
        pump = nil
    }

    /// A body made of the chunks an async sequence yields (read by a task the server starts
    /// once the head is sent, at most about 64 KiB ahead of what the socket has taken, and
    /// cancelled if the client goes away). Without `length` it is sent chunked; with one the
    /// sequence must yield exactly that many bytes. An error the sequence throws cuts the
    /// body short (the connection closes), as a producer's failure does.
    /// Event-loop models only stream it; the blocking models wait for each chunk on their thread.
    public init<Chunks: AsyncSequence & Sendable>(length: Int? = nil, chunks: Chunks) where Chunks.Element == [UInt8] {
        precondition((length ?? 0) >= 0, "a stream's length is non-negative")
        self.length = length
        let pump = ChunkPump(chunks)
        self.pump = pump
        producer = pump
    }

    /// The next bytes into `buffer`; 0 at the end, negative when the body cannot be completed.
    package func produce(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        producer.produce(into: buffer)
    }
}
