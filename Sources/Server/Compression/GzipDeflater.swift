// GzipDeflater: one gzip stream (RFC 1952) being deflated by zlib. zlib keeps
// a pointer back to its z_stream and checks it on every call, so the struct
// lives at a fixed heap address; deflateEnd runs exactly once, when the state
// is freed or, pooled (DeflaterPool), when the pool lets it go; a body
// abandoned mid-way (the client went away) gives its state back all the same.
import CZlib
import Synchronization

final class GzipDeflater: StreamEncoder {
    private let stream: UnsafeMutablePointer<z_stream>
    private var ended = false
    /// Whether it has zlib's full window and hash (made for a body of unknown or large length): only those are pooled.
    let isFullSize: Bool

    /// zlib states alive in this process: a test's way to see every abandoned body freed its own.
    static let live = Atomic<Int>(0)

    typealias Step = EncoderStep

    /// Starts a gzip stream at `level` (1...9). For a source of known, small length the
    /// window and hash shrink to fit it, as nginx's gzip filter does, so a 2 KiB body does
    /// not pay for zlib's full 256 KiB state. Nil when zlib cannot allocate its state.
    init?(level: Int32, sourceLength: Int?) {
        let (windowBits, memoryLevel) = Self.sizes(forSourceLength: sourceLength)
        isFullSize = windowBits == 15
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // deflateInit2 is a macro Swift cannot import: the function behind it takes the header's
        // version and struct size, so a header and library that disagree fail here, not later.
        // windowBits + 16 asks for the gzip wrapper (zlib.h, deflateInit2).
        let status = deflateInit2_(stream, level, Z_DEFLATED, windowBits + 16, memoryLevel, Z_DEFAULT_STRATEGY,
                                   ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            precondition(status == Z_MEM_ERROR, "deflateInit2: bad arguments or zlib version (\(status))")
            ended = true  // nothing to end; deinit (which a failed init still runs) frees the struct
            return nil
        }
        Self.live.add(1, ordering: .relaxed)
    }

    /// zlib's window bits and memory level for a source of `sourceLength` bytes (nil: unknown).
    private static func sizes(forSourceLength sourceLength: Int?) -> (windowBits: Int32, memoryLevel: Int32) {
        var windowBits: Int32 = 15
        var memoryLevel: Int32 = 8
        if let sourceLength, sourceLength > 0 {
            // zlib needs the window to exceed the input by its 262-byte lookahead (MIN_LOOKAHEAD).
            while windowBits > 9 && sourceLength < (1 << (windowBits - 1)) - 262 {
                windowBits -= 1
                memoryLevel -= 1
            }
            memoryLevel = max(memoryLevel, 1)
        }
        return (windowBits, memoryLevel)
    }

    /// Whether a source of `sourceLength` gets the full-size state (the one a pool keeps).
    static func isFullSize(forSourceLength sourceLength: Int?) -> Bool {
        sizes(forSourceLength: sourceLength).windowBits == 15
    }

    /// Deflates what it can of `input` into `output`. `flush` is Z_NO_FLUSH while input is to
    /// follow, Z_SYNC_FLUSH to force out what is buffered, Z_FINISH once `input` is the last of it
    /// (then repeated until `finished`, as zlib requires).
    func deflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, flush: Int32) -> Step {
        precondition(!ended, "deflate after the stream ended")
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(output.count)
        let status = CZlib.deflate(stream, flush)
        // Z_BUF_ERROR only says no progress was possible this call; anything else but these is a misuse.
        precondition(status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR, "deflate: \(status)")
        let step = Step(consumed: input.count - Int(stream.pointee.avail_in),
                        produced: output.count - Int(stream.pointee.avail_out),
                        finished: status == Z_STREAM_END)
        // The buffers are the caller's, valid for this call only.
        stream.pointee.next_in = nil
        stream.pointee.next_out = nil
        return step
    }

    func encode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, _ flush: EncoderFlush) -> EncoderStep {
        switch flush {
        case .process: return deflate(input, into: output, flush: Z_NO_FLUSH)
        case .flush: return deflate(input, into: output, flush: Z_SYNC_FLUSH)
        case .finish: return deflate(input, into: output, flush: Z_FINISH)
        }
    }

    /// Makes it ready for a new stream, keeping zlib's memory (deflateReset): valid mid-stream too.
    func reset() -> Bool {
        !ended && deflateReset(stream) == Z_OK
    }

    /// Frees zlib's state (deflateEnd); later calls do nothing.
    func end() {
        guard !ended else { return }
        ended = true
        _ = deflateEnd(stream)
        Self.live.subtract(1, ordering: .relaxed)
    }

    deinit {
        end()
        stream.deallocate()
    }
}
