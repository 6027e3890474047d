// DeflaterPool: a worker's idle zlib states, reused for the next gzipped
// response (deflateReset) instead of freed and made again. Making one costs
// ~256 KiB of fresh memory: malloc hands it back to the kernel when it is freed
// and every response page-faults it in again (a quarter of a worker's CPU on
// 100 KiB pages before the pool); nginx keeps its zlib memory in its request
// pool for the same reason. Bounded, so a burst leaves at most `capacity` idle
// states behind. One per connection driver: only its thread touches it.
final class DeflaterPool: EncoderSupply {
    let level: Int32
    private var idle: [GzipDeflater] = []
    /// Idle states kept at most (~256 KiB each).
    static let capacity = 4
    private let keeps: Int

    /// - Parameter keeping: idle states kept at most (0: each state is freed when its body is done).
    init(level: Int32, keeping: Int = DeflaterPool.capacity) {
        self.level = level
        keeps = keeping
        idle.reserveCapacity(keeping)
    }

    /// A state for a body of `sourceLength` (nil: unknown): an idle one when it is full-size.
    func take(sourceLength: Int?) -> GzipDeflater? {
        if GzipDeflater.isFullSize(forSourceLength: sourceLength), let reused = idle.popLast() { return reused }
        return GzipDeflater(level: level, sourceLength: sourceLength)
    }

    /// Takes back a state its body is done with (finished or abandoned): kept when there is room, else freed.
    func give(_ deflater: GzipDeflater) {
        guard deflater.isFullSize, idle.count < keeps, deflater.reset() else { return deflater.end() }
        idle.append(deflater)
    }

    /// Idle states now (tests).
    var idleCount: Int { idle.count }
}
