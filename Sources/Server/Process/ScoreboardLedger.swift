// ScoreboardLedger: the master's own account of the scoreboard, in its private
// memory. Every worker can write anywhere in the shared region, so the master
// never decides from it: which records it has handed out (and to which slot
// and pid), how many are in use, the server record's counters and the
// retirement sequence all live here, and the shared cells are only copies
// published for readers. A worker that writes garbage can garble what readers
// see until the master's next tick (`republish`), but never what the master
// does. What the master still reads from the region is each worker's own
// report: its counters, folded into the totals when it retires, and its heartbeat.
import Synchronization

struct ScoreboardLedger {
    /// Who holds a record: the slot it was claimed for, and the pid once forked.
    struct Owner: Equatable {
        let slot: Int
        var pid: Int32?
    }

    /// By record index; nil is a free record.
    private(set) var owners = [Owner?](repeating: nil, count: Scoreboard.workerCapacity)
    /// By `ServerField` raw value: the numbers the master writes in the server record.
    private var server = [UInt64](repeating: 0, count: ServerField.allCases.count)

    subscript(field: ServerField) -> UInt64 {
        get { server[field.rawValue] }
        set { server[field.rawValue] = newValue }
    }

    /// One past the highest record ever handed out.
    var recordsInUse: Int { Int(self[.recordsInUse]) }

    /// Hands out the first free record, or nil when all are held.
    mutating func claim(slot: Int) -> Int? {
        guard let index = owners.firstIndex(where: { $0 == nil }) else { return nil }
        owners[index] = Owner(slot: slot, pid: nil)
        if index >= recordsInUse { self[.recordsInUse] = UInt64(index + 1) }
        return index
    }

    mutating func forked(_ index: Int, pid: Int32) { owners[index]?.pid = pid }

    mutating func free(_ index: Int) { owners[index] = nil }
}

// The master's side of the scoreboard: every change is made to the ledger first,
// then published to the shared region.
extension Scoreboard {
    /// Claims a free record for a new worker (the master does this before forking it).
    package func claimRecord(slot: Int) -> Int? {
        guard let index = ledger.claim(slot: slot) else { return nil }
        let record = worker(index)
        record.reset()
        record[.slot] = UInt64(slot)
        record[.heartbeat] = UInt64(Clock.monotonicMilliseconds())
        record.markInUse()
        metrics.resetBlock(index)
        publish(.recordsInUse, ledger[.recordsInUse])
        return index
    }

    /// The record's worker has been forked as `pid`.
    package func setPID(_ pid: Int32, ofRecord index: Int) {
        ledger.forked(index, pid: pid)
        worker(index).setPID(pid)
    }

    package func setServer(_ field: ServerField, _ value: UInt64) {
        ledger[field] = value
        publish(field, value)
    }

    package func addServer(_ field: ServerField, _ amount: UInt64) {
        setServer(field, ledger[field] &+ amount)
    }

    /// Where each counter of an exited worker's record goes, so server-wide counters never go
    /// back. Every `WorkerField` that counts appears here (ScoreboardTests checks it).
    package static let retiredTotals: [(WorkerField, ServerField)] = [
        (.accepted, .retiredAccepted), (.requests, .retiredRequests),
        (.bytesIn, .retiredBytesIn), (.bytesOut, .retiredBytesOut),
        (.responses1xx, .retired1xx), (.responses2xx, .retired2xx), (.responses3xx, .retired3xx),
        (.responses4xx, .retired4xx), (.responses5xx, .retired5xx),
        (.fileCacheHits, .retiredFileCacheHits), (.fileCacheMisses, .retiredFileCacheMisses),
        (.fileBytesOut, .retiredFileBytesOut), (.fileReadsOffloaded, .retiredFileReadsOffloaded),
        (.gzipResponses, .retiredGzipResponses), (.brotliResponses, .retiredBrotliResponses),
        (.tlsHandshakeFailures, .retiredTLSHandshakeFailures),
        (.proxyHeadersAccepted, .retiredProxyHeadersAccepted), (.proxyHeadersRefused, .retiredProxyHeadersRefused),
    ]

    /// Moves an exited worker's counts into the retired totals and frees its record,
    /// under the sequence lock that `readConsistently` checks. The counts are what the
    /// worker reported, garbage or not; the totals they join and the sequence are the ledger's.
    package func retireRecord(_ index: Int) {
        let record = worker(index)
        let folds = Self.retiredTotals
        // A seqlock around the move: the sequence is odd while the counts are on
        // their way from the record to the totals, so a reader never sees them in
        // neither place (a counter going back) or in both (counted twice).
        let start = ledger[.retireSequence]
        publish(.retireSequence, start &+ 1)
        atomicMemoryFence(ordering: .releasing)
        let counts = folds.map { record[$0.0] }
        record.reset()
        retireMetrics(ofRecord: index)
        ledger.free(index)
        for ((_, total), count) in zip(folds, counts) { addServer(total, count) }
        ledger[.retireSequence] = start &+ 2
        publishReleasing(.retireSequence, start &+ 2)
    }

    /// Writes the ledger over its shared copies again: the server record, and the
    /// pid and slot of every record ever used (0 for a free one). The master does
    /// this at every tick, so garbage a worker left there is seen only until then:
    /// a phantom worker, a draining flag, a sequence left odd that stalls readers.
    package func republish() {
        for field in ServerField.allCases { publish(field, ledger[field]) }
        publishMetricsTotals()
        for index in 0..<ledger.recordsInUse {
            let record = worker(index)
            guard let owner = ledger.owners[index] else {
                record[.pid] = 0
                continue
            }
            record[.slot] = UInt64(owner.slot)
            if let pid = owner.pid { record.setPID(pid) } else { record.markInUse() }
        }
    }
}
