// GzipBody: a response body compressed with gzip as the socket drains. It is
// a BodyProducer, so the connection pulls one piece (at most 16 KiB of gzip
// output, sent as one chunk) only once the socket has taken the previous one:
// a slow reader holds one zlib state, one staging buffer and one piece, never
// the body. The zlib state is taken on the first pull (a HEAD response never
// takes one) from the worker's pool, and given back when the stream ends or
// the body is released mid-way (the client went away).
import CZlib
import HTTP1

/// Unchecked Sendable: the worker's event loop alone pulls it, one call at a time (see BodyProducer).
final class GzipBody: BodyProducer, @unchecked Sendable {
    private let source: CompressionSource
    private let level: Int32
    /// Where the zlib state comes from and goes back to; nil: made here, freed at the end.
    private let pool: DeflaterPool?
    private var deflater: GzipDeflater?
    /// Source bytes read so far (taken from memory, or read into the staging buffer).
    private var position = 0
    /// Staged bytes not yet taken by zlib: `staging[stagedStart..<stagedEnd]`.
    private var staging: UnsafeMutableRawBufferPointer?
    private var stagedStart = 0
    private var stagedEnd = 0
    private var sourceEnded = false
    private var finished = false

    /// Input deflated per pull before the piece is handed over even if not full, so a very
    /// compressible body (a run of zeros deflates 1000:1) cannot hold the loop for megabytes.
    static let inputPerPull = 256 * 1024

    init(source: CompressionSource, level: Int32, pool: DeflaterPool? = nil) {
        self.source = source
        self.level = level
        self.pool = pool
    }

    func produce(into output: UnsafeMutableRawBufferPointer) -> Int {
        if finished { return 0 }
        if deflater == nil {
            let made = pool.map { $0.take(sourceLength: source.length) } ?? GzipDeflater(level: level, sourceLength: source.length)
            guard let made else { return -1 }
            deflater = made
        }
        guard let deflater else { return -1 }
        var produced = 0
        var consumed = 0
        while produced < output.count && !(consumed >= Self.inputPerPull && produced > 0) {
            guard stageInput() else { return -1 }
            let flush = sourceEnded ? Z_FINISH : (consumed >= Self.inputPerPull ? Z_SYNC_FLUSH : Z_NO_FLUSH)
            let step = withInput { deflater.deflate($0, into: UnsafeMutableRawBufferPointer(rebasing: output[produced...]),
                                                    flush: flush) }
            take(step.consumed)
            consumed += step.consumed
            produced += step.produced
            if step.finished {
                finished = true
                source.close()
                releaseDeflater()
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

    /// Calls `body` with the input zlib has not taken yet: in memory, at most a staging's worth
    /// per call, so the input bound per pull holds however well the bytes compress.
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

    /// Done with the zlib state (the stream ended, or the body was released mid-way): back to the pool, or freed.
    private func releaseDeflater() {
        guard let deflater else { return }
        self.deflater = nil
        if let pool { pool.give(deflater) } else { deflater.end() }
    }

    deinit {
        releaseDeflater()
        staging?.deallocate()
    }
}
