// SeriesClaim: finding a series' slot in the shared table, or claiming a free
// one, from any worker at once. Open addressing: a key's probe sequence starts
// at its hash (FNV-1a, the same in every process, unlike Swift's seeded Hasher)
// and every worker walks the same sequence, so two workers registering the same
// new key race for the same first free slot; the compare-and-swap lets one win
// and the other, finding the slot being claimed, waits for its key and matches
// it. One series, one slot, whichever worker came first.
import Glibc
import ServerSystem

extension MetricsRegion {
    /// How long a worker waits for another to finish writing a key it claimed. A worker
    /// killed in between leaves the slot claimed forever; after this the slot is passed over.
    static let claimWaitMilliseconds = 20

    /// The slot holding `key` as `kind`, claimed now if no slot holds it; nil when every slot
    /// holds something else (the table is full).
    func findOrClaim(_ key: [UInt8], kind: SeriesKind) -> Int? {
        let wanted = SeriesHeader(kind: kind, keyLength: key.count)
        let start = Int(Self.hash(key, kind: kind) % UInt64(Self.seriesLimit))
        for probe in 0..<Self.seriesLimit {
            let slot = (start + probe) % Self.seriesLimit
            let cell = header(slot)
            var current = cell.pointee.load(ordering: .acquiring)
            if current == SeriesHeader.free {
                let (won, found) = cell.pointee.compareExchange(expected: SeriesHeader.free, desired: SeriesHeader.claiming,
                                                                ordering: .acquiringAndReleasing)
                if won {
                    writeKey(key, into: slot)
                    cell.pointee.store(wanted.encoded, ordering: .releasing)
                    return slot
                }
                current = found
            }
            if current == SeriesHeader.claiming { current = awaitClaim(slot) }
            if SeriesHeader(decoding: current) == wanted, keyEquals(key, slot: slot) { return slot }
        }
        return nil
    }

    /// The slot's header once another worker has finished claiming it, or as it is after the wait.
    private func awaitClaim(_ slot: Int) -> UInt64 {
        let giveUpAt = Clock.monotonicMilliseconds() + Self.claimWaitMilliseconds
        while true {
            let current = header(slot).pointee.load(ordering: .acquiring)
            if current != SeriesHeader.claiming || Clock.monotonicMilliseconds() > giveUpAt { return current }
            sched_yield()
        }
    }

    /// FNV-1a over the kind and the key: stable across processes and runs.
    static func hash(_ key: [UInt8], kind: SeriesKind) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in [UInt8(kind.rawValue)] + key {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}
