// MetricsRegion: the part of the scoreboard's shared mapping that holds the
// application's swift-metrics series (SharedMetricsFactory.swift). Three areas,
// all 8-byte cells:
//   - the series table: `seriesLimit` slots of 32 cells, each a header cell
//     (free, being claimed, or ready with its kind and key length) and the key
//     bytes (`name{label="value",...}`, at most `keyCapacity` bytes); a slot is
//     claimed once by compare-and-swap and never freed, so a series keeps its
//     place for the server's life;
//   - the retired totals: what exited workers had counted, per series, written
//     by the master alone from its own ledger (MetricsLedger.swift);
//   - one value block per worker record: two cells per series and the count of
//     registrations refused, written only by that record's worker (its threads
//     add atomically), so workers never contend for a line.
// Every worker can write every byte here, so readers bound every index by the
// region's size and decode headers defensively (`SeriesHeader`).
import Synchronization

/// What a series is, as stored in its slot's header.
package enum SeriesKind: UInt64, Sendable {
    /// A swift-metrics Counter: cell 0 counts.
    case counter = 1
    /// A Gauge or Meter (a recorder that keeps the last value): cell 0 holds a Double's bits.
    case gauge = 2
    /// An aggregating Recorder, shown as a summary: cell 0 counts, cell 1 holds the sum's Double bits.
    case summary = 3
    /// A Timer, shown as a summary in seconds: cell 0 counts, cell 1 sums nanoseconds.
    case timer = 4
}

/// A slot's header cell: 0 free, 1 being claimed, otherwise ready with the kind and key length.
package struct SeriesHeader: Equatable, Sendable {
    static let free: UInt64 = 0
    static let claiming: UInt64 = 1
    private static let readyTag: UInt64 = 2

    let kind: SeriesKind
    let keyLength: Int

    var encoded: UInt64 { UInt64(keyLength) << 16 | kind.rawValue << 8 | Self.readyTag }

    init(kind: SeriesKind, keyLength: Int) {
        self.kind = kind
        self.keyLength = keyLength
    }

    /// Decodes a header as any worker may have written it: nil unless it is a ready one
    /// with a known kind and a key length that fits the slot.
    init?(decoding cell: UInt64) {
        guard cell & 0xFF == Self.readyTag, let kind = SeriesKind(rawValue: (cell >> 8) & 0xFF) else { return nil }
        let length = cell >> 16
        guard length > 0, length <= UInt64(MetricsRegion.keyCapacity) else { return nil }
        self.init(kind: kind, keyLength: Int(length))
    }
}

package struct MetricsRegion: @unchecked Sendable {
    /// Distinct series (name and labels) the whole server can hold: the documented limit.
    package static let seriesLimit = 256
    /// Bytes of a series key: 30 cells of a 32-cell slot.
    package static let keyCapacity = 240
    static let cellsPerSlot = 32
    static let keyCells = keyCapacity / 8
    /// Cells of one value block: two per series, then the registrations refused.
    static let blockCells = 2 * seriesLimit + 8
    static let refusedCell = 2 * seriesLimit

    private let table: UnsafeMutablePointer<Atomic<UInt64>>
    private let retired: UnsafeMutablePointer<Atomic<UInt64>>
    private let blocks: UnsafeMutablePointer<Atomic<UInt64>>
    /// Value blocks: one per scoreboard worker record.
    let blockCount: Int

    /// Cells the region needs for `workers` value blocks.
    static func cellCount(workers: Int) -> Int {
        seriesLimit * cellsPerSlot + blockCells + workers * blockCells
    }

    /// A view of `cellCount(workers:)` cells at `cells`, inside the scoreboard's mapping.
    init(cells: UnsafeMutablePointer<Atomic<UInt64>>, workers: Int) {
        table = cells
        retired = cells + Self.seriesLimit * Self.cellsPerSlot
        blocks = retired + Self.blockCells
        blockCount = workers
    }

    // MARK: The series table

    /// The slot's header cell.
    func header(_ slot: Int) -> UnsafeMutablePointer<Atomic<UInt64>> {
        precondition(slot >= 0 && slot < Self.seriesLimit, "series slot \(slot) out of range")
        return table + slot * Self.cellsPerSlot
    }

    /// The slot's header if it is ready, read with acquire so its key is visible.
    func readyHeader(_ slot: Int) -> SeriesHeader? {
        SeriesHeader(decoding: header(slot).pointee.load(ordering: .acquiring))
    }

    /// Writes a key into a slot this process has claimed (before publishing its header).
    func writeKey(_ key: [UInt8], into slot: Int) {
        let cells = header(slot) + 1
        for word in 0..<Self.keyCells {
            var value: UInt64 = 0
            for byte in 0..<8 where word * 8 + byte < key.count {
                value |= UInt64(key[word * 8 + byte]) << (8 * byte)
            }
            cells[word].store(value, ordering: .relaxed)
        }
    }

    /// The first `length` key bytes of a slot (length bounded by `keyCapacity`).
    func key(of slot: Int, length: Int) -> [UInt8] {
        let cells = header(slot) + 1
        let length = min(max(length, 0), Self.keyCapacity)
        return (0..<length).map { UInt8(truncatingIfNeeded: cells[$0 / 8].load(ordering: .relaxed) >> (8 * ($0 % 8))) }
    }

    /// Whether the slot holds exactly this key (compared word by word, no allocation).
    func keyEquals(_ key: [UInt8], slot: Int) -> Bool {
        let cells = header(slot) + 1
        for word in 0..<(key.count + 7) / 8 {
            var value: UInt64 = 0
            for byte in 0..<8 where word * 8 + byte < key.count {
                value |= UInt64(key[word * 8 + byte]) << (8 * byte)
            }
            if cells[word].load(ordering: .relaxed) != value { return false }
        }
        return true
    }

    /// Slots whose header is ready, whatever their key says.
    func readySlotCount() -> Int {
        (0..<Self.seriesLimit).reduce(0) { $0 + (readyHeader($1) == nil ? 0 : 1) }
    }

    // MARK: Value blocks and retired totals

    /// A worker record's value block.
    func block(_ index: Int) -> UnsafeMutablePointer<Atomic<UInt64>> {
        precondition(index >= 0 && index < blockCount, "metrics block \(index) out of range")
        return blocks + index * Self.blockCells
    }

    /// The retired totals, in the same layout as a value block.
    var retiredTotals: UnsafeMutablePointer<Atomic<UInt64>> { retired }

    /// Zeroes a worker record's block (the master, when it hands the record out).
    func resetBlock(_ index: Int) {
        let cells = block(index)
        for cell in 0..<Self.blockCells { cells[cell].store(0, ordering: .relaxed) }
    }
}
