// GzipBody: a response body compressed with gzip as the socket drains. It is
// a BodyProducer, so the connection pulls one piece (at most 16 KiB of gzip
// output, sent as one chunk) only once the socket has taken the previous one:
// a slow reader holds one zlib state, one staging buffer and one piece, never
// the body. The zlib state is made on the first pull (a HEAD response never
// makes one) and freed when the stream ends or the body is released.
import CZlib
import HTTP1

/// Unchecked Sendable: the worker's event loop alone pulls it, one call at a time (see BodyProducer).
final class GzipBody: BodyProducer, @unchecked Sendable {
    private let source: CompressionSource
    private let level: Int32
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

    init(source: CompressionSource, level: Int32) {
        self.source = source
        self.level = level
    }

    func produce(into output: UnsafeMutableRawBufferPointer) -> Int {
        if finished { return 0 }
        if deflater == nil {
            guard let made = GzipDeflater(level: level, sourceLength: source.length) else { return -1 }
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

    deinit {
        staging?.deallocate()
    }
}
