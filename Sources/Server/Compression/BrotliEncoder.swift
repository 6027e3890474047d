// BrotliEncoder: one brotli stream (RFC 7932) being encoded by libbrotli, and
// the worker's supply of them. libbrotli has no reset, so a state is made per
// body and destroyed when the body is done with it (finished or abandoned):
// its memory is sized to the body, the window shrinking for a short one.
import CBrotli
import Synchronization

final class BrotliEncoder: StreamEncoder {
    private let state: OpaquePointer

    /// Encoder states alive in this process: a test's way to see every abandoned body freed its own.
    static let live = Atomic<Int>(0)
    /// The largest window, 512 KiB as nginx's brotli module's default (brotli_window): what a
    /// body of unknown or large length gets, and the most each connection's state holds of it.
    static let largestWindowBits: UInt32 = 19

    /// Starts a stream at `quality` (0...11) for a source of `sourceLength` bytes (nil: unknown).
    /// Nil when libbrotli cannot allocate its state.
    init?(quality: Int, sourceLength: Int?) {
        guard let state = BrotliEncoderCreateInstance(nil, nil, nil) else { return nil }
        self.state = state
        var windowBits = Self.largestWindowBits
        if let sourceLength {
            // The smallest window that holds the whole body (a window of 2^bits holds 2^bits - 16 bytes).
            while windowBits > UInt32(BROTLI_MIN_WINDOW_BITS) && sourceLength <= (1 << (windowBits - 1)) - 16 { windowBits -= 1 }
            _ = BrotliEncoderSetParameter(state, BROTLI_PARAM_SIZE_HINT, UInt32(clamping: sourceLength))
        }
        _ = BrotliEncoderSetParameter(state, BROTLI_PARAM_QUALITY, UInt32(quality))
        _ = BrotliEncoderSetParameter(state, BROTLI_PARAM_LGWIN, windowBits)
        Self.live.add(1, ordering: .relaxed)
    }

    func encode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, _ flush: EncoderFlush) -> EncoderStep {
        // Output still held from a flush (the last piece had no room for all of it) must come
        // out before more input goes in: libbrotli refuses input until then (encode.h, FLUSH).
        var availableIn = BrotliEncoderHasMoreOutput(state) != 0 ? 0 : input.count
        let offered = availableIn
        var nextIn = input.baseAddress?.assumingMemoryBound(to: UInt8.self)
        var availableOut = output.count
        var nextOut = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let operation: BrotliEncoderOperation
        switch flush {
        case .process: operation = BROTLI_OPERATION_PROCESS
        case .flush: operation = BROTLI_OPERATION_FLUSH
        case .finish: operation = BROTLI_OPERATION_FINISH
        }
        // False only for a misuse (input changed under FINISH, an operation out of order): a bug here.
        let succeeded = BrotliEncoderCompressStream(state, operation, &availableIn, &nextIn, &availableOut, &nextOut, nil)
        precondition(succeeded != 0, "BrotliEncoderCompressStream failed")
        return EncoderStep(consumed: offered - availableIn, produced: output.count - availableOut,
                           finished: BrotliEncoderIsFinished(state) != 0)
    }

    deinit {
        BrotliEncoderDestroyInstance(state)
        Self.live.subtract(1, ordering: .relaxed)
    }
}

/// A worker's brotli states: one made per body at the configured quality, freed when the body is done.
final class BrotliEncoders: EncoderSupply {
    let quality: Int

    init(quality: Int) { self.quality = quality }

    func take(sourceLength: Int?) -> BrotliEncoder? { BrotliEncoder(quality: quality, sourceLength: sourceLength) }

    /// Nothing to keep: the state is freed when its last reference, the body's, goes.
    func give(_ encoder: BrotliEncoder) {}
}
