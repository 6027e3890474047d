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
    /// How long one registration waits, in all, for other workers to finish writing keys
    /// they claimed. A worker killed in between leaves its slot claimed forever (and garbage
    /// can make every slot look so): once the time is up such slots are passed over at once,
    /// so a registration never holds a worker's loop longer than this.
    static let claimWaitMilliseconds = 20

    /// The slot holding `key` as `kind`, claimed now if no slot holds it; nil when every slot
    /// holds something else (the table is full).
    func findOrClaim(_ key: [UInt8], kind: SeriesKind) -> Int? {
        let wanted = SeriesHeader(kind: kind, keyLength: key.count)
        let start = Int(Self.hash(key, kind: kind) % UInt64(Self.seriesLimit))
        let giveUpAt = Clock.monotonicMilliseconds() + Self.claimWaitMilliseconds
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
            if current == SeriesHeader.claiming { current = awaitClaim(slot, until: giveUpAt) }
            if SeriesHeader(decoding: current) == wanted, keyEquals(key, slot: slot) { return slot }
        }
        return nil
    }

    /// The slot's header once another worker has finished claiming it, or as it is at `giveUpAt`.
    private func awaitClaim(_ slot: Int, until giveUpAt: Int) -> UInt64 {
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
