// CompressedBody: a response body compressed (gzip or br) as the socket drains.
// It is a BodyProducer, so the connection pulls one piece (at most 32 KiB of
// compressed output, sent as one chunk) only once the socket has taken what was
// queued: a slow reader holds one encoder state, one staging buffer and one
// piece, never the body. The encoder is taken on the first pull (a HEAD
// response never takes one) from the worker's supply, and given back when the
// stream ends or the body is released mid-way (the client went away).
import HTTP1

/// A gzip body, its zlib state from the worker's pool.
typealias GzipBody = CompressedBody<DeflaterPool>
/// A brotli body.
typealias BrotliBody = CompressedBody<BrotliEncoders>

/// Unchecked Sendable: the worker's event loop alone pulls it, one call at a time (see BodyProducer).
final class CompressedBody<Supply: EncoderSupply>: BodyProducer, @unchecked Sendable {
    private let source: CompressionSource
    private let supply: Supply
    private var encoder: Supply.Encoder?
    /// Source bytes read so far (taken from memory, or read into the staging buffer).
    private var position = 0
    /// Staged bytes not yet taken by the encoder: `staging[stagedStart..<stagedEnd]`.
    private var staging: UnsafeMutableRawBufferPointer?
    private var stagedStart = 0
    private var stagedEnd = 0
    private var sourceEnded = false
    private var finished = false

    /// Input encoded per pull before the piece is handed over even if not full, so a very
    /// compressible body (a run of zeros deflates 1000:1) cannot hold the loop for megabytes.
    static var inputPerPull: Int { 256 * 1024 }

    init(source: CompressionSource, supply: Supply) {
        self.source = source
        self.supply = supply
    }

    func produce(into output: UnsafeMutableRawBufferPointer) -> Int {
        if finished { return 0 }
        if encoder == nil {
            guard let made = supply.take(sourceLength: source.length) else { return -1 }
            encoder = made
        }
        guard let encoder else { return -1 }
        var produced = 0
        var consumed = 0
        while produced < output.count && !(consumed >= Self.inputPerPull && produced > 0) {
            guard stageInput() else { return -1 }
            let flush: EncoderFlush = sourceEnded ? .finish : (consumed >= Self.inputPerPull ? .flush : .process)
            let step = withInput { encoder.encode($0, into: UnsafeMutableRawBufferPointer(rebasing: output[produced...]), flush) }
            take(step.consumed)
            consumed += step.consumed
            produced += step.produced
            if step.finished {
                finished = true
                source.close()
                releaseEncoder()
                break
            }
        }
        return produced
    }

    /// Makes input available: the next run of a file or stream once the staged bytes are taken.
    /// False when the source failed (the body cannot be completed).
    private func stageInput() -> Bool {
        if sourceEnded { return true }
        if source.isInMemory {
            sourceEnded = position == source.length
            return true
        }
        guard stagedStart == stagedEnd else { return true }
        let buffer = staging ?? UnsafeMutableRawBufferPointer.allocate(byteCount: CompressionSource.stagingSize, alignment: 16)
        staging = buffer
        switch source.read(after: position, into: buffer) {
        case .bytes(let count):
            stagedStart = 0
            stagedEnd = count
            position += count
        case .end:
            sourceEnded = true
        case .failed:
            return false
        }
        return true
    }

    /// Calls `body` with the input the encoder has not taken yet: in memory, at most a staging's
    /// worth per call, so the input bound per pull holds however well the bytes compress.
    private func withInput<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        switch source {
        case .bytes(let bytes):
            let end = min(bytes.count, position + CompressionSource.stagingSize)
            return bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[position..<end])) }
        case .text(let text):
            let count = min(text.utf8CodeUnitCount - position, CompressionSource.stagingSize)
            return body(UnsafeRawBufferPointer(start: text.utf8Start + position, count: count))
        case .file, .stream:
            guard let staging else { return body(UnsafeRawBufferPointer(start: nil, count: 0)) }
            return body(UnsafeRawBufferPointer(rebasing: staging[stagedStart..<stagedEnd]))
        }
    }

    private func take(_ count: Int) {
        if source.isInMemory { position += count } else { stagedStart += count }
    }

    /// Done with the encoder (the stream ended, or the body was released mid-way): back to its supply.
    private func releaseEncoder() {
        guard let encoder else { return }
        self.encoder = nil
        supply.give(encoder)
    }

    deinit {
        releaseEncoder()
        staging?.deallocate()
    }
}

extension CompressedBody where Supply == DeflaterPool {
    /// A gzip body at `level`; without a pool its zlib state is made for it and freed at its end.
    convenience init(source: CompressionSource, level: Int32, pool: DeflaterPool? = nil) {
        self.init(source: source, supply: pool ?? DeflaterPool(level: level, keeping: 0))
    }
}
