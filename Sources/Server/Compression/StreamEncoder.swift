// StreamEncoder: what a compressed body needs of a compressor (zlib's gzip,
// libbrotli's br), so both share CompressedBody's streaming: encode input into
// output with a flush mode, and a supply that hands out an encoder for a body
// and takes it back when the body is done with it (pooled, or freed).

/// How much of what an encoder holds must come out now.
enum EncoderFlush {
    /// More input follows: the encoder may keep output back.
    case process
    /// Everything taken so far comes out (zlib's Z_SYNC_FLUSH, brotli's FLUSH), so a piece is never empty.
    case flush
    /// The input given is the last: the stream ends (repeated until `finished`).
    case finish
}

/// What one call of an encoder did: input bytes taken, output bytes written, and whether the stream is complete.
struct EncoderStep {
    var consumed: Int
    var produced: Int
    var finished: Bool
}

/// One compressed stream being encoded.
protocol StreamEncoder: AnyObject {
    /// Encodes what it can of `input` into `output`.
    func encode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, _ flush: EncoderFlush) -> EncoderStep
}

/// Where a body's encoder comes from and goes back to: one per connection driver, on its thread only.
protocol EncoderSupply: AnyObject {
    associatedtype Encoder: StreamEncoder
    /// An encoder for a body of `sourceLength` bytes (nil: unknown), nil when it cannot be made.
    func take(sourceLength: Int?) -> Encoder?
    /// Takes back an encoder its body is done with (finished or abandoned).
    func give(_ encoder: Encoder)
}
