// Scoreboard: the numbers every process of the server shares. The master maps
// one anonymous shared region before it forks, so each worker (and every
// replacement) writes its own record in place, and any process reads the whole
// server: /metrics, the watchdog's heartbeats, the accept balance between
// workers on a shared listener, the draining flag.
//
// Each record has exactly one writer (its worker, or the master for the server
// record), so a counter is bumped with a relaxed load and store, a plain `add`
// on x86-64, not a locked read-modify-write. Readers may see a count a moment
// old, never a torn one.
import Glibc
import ServerSystem
import Synchronization

/// The fields of a worker's record. Raw values are cell offsets within the record:
/// what other processes read often (the accept balance reads `active` and
/// `retiring`) shares the first cache line only with fields written rarely, and
/// the counters bumped on every request have the second line to themselves, so
/// serving requests does not keep pulling the first line away from the readers.
package enum WorkerField: Int, CaseIterable, Sendable {
    /// The worker's pid; 0 marks a free record.
    case pid = 0
    /// The slot the worker fills (the `slot` label of its metrics).
    case slot = 1
    /// The monotonic time (ms) of a recent turn of the worker's loop (written a few times per watchdog interval).
    case heartbeat = 2
    /// 1 while the worker has stopped accepting to finish its connections and exit.
    case retiring = 3
    /// Connections open now (written when the count changes).
    case active = 4
    case accepted = 5
    case requests = 8
    case bytesIn = 9
    case bytesOut = 10
    case responses1xx = 11, responses2xx = 12, responses3xx = 13, responses4xx = 14, responses5xx = 15
}

/// The fields of the server's record, written by the master.
package enum ServerField: Int, CaseIterable, Sendable {
    case workersSpawned
    case workersDied
    /// Workers the master keeps running now (--workers, changed by TTIN and TTOU).
    case workersWanted
    /// Rolling restarts (HUP) begun.
    case restarts
    /// How workers ended: exit 0, another exit code, a signal, the OOM killer, the watchdog.
    case exitsClean, exitsWithError, exitsBySignal, exitsOutOfMemory, exitsByWatchdog
    /// 1 from a graceful shutdown's start: /health answers 503 so balancers stop sending.
    case draining
    /// One past the highest worker record ever used, so readers scan no further.
    case recordsInUse
    /// Odd while a retired worker's counts move into the totals (a seqlock, see `retireRecord`).
    case retireSequence
    /// Totals of workers that have exited, so server-wide counters never go back.
    case retiredAccepted, retiredRequests, retiredBytesIn, retiredBytesOut
    case retired1xx, retired2xx, retired3xx, retired4xx, retired5xx
}

package final class Scoreboard: @unchecked Sendable {
    /// Worker records: enough for the largest --workers twice over, as during a rolling restart.
    package static let workerCapacity = 2 * ServerConfiguration.maximumWorkers
    /// Cells per worker record: 16 × 8 bytes, two cache lines, so workers never share a line.
    static let cellsPerRecord = 16
    /// Cells of the server's record, which comes first.
    static let serverCells = 32

    private let cells: UnsafeMutablePointer<Atomic<UInt64>>
    private let byteCount: Int

    /// Maps the region; call it in the master before forking.
    package init() throws(SystemError) {
        assert(ServerField.allCases.count <= Self.serverCells && WorkerField.allCases.allSatisfy { $0.rawValue < Self.cellsPerRecord })
        byteCount = (Self.serverCells + Self.workerCapacity * Self.cellsPerRecord) * MemoryLayout<UInt64>.stride
        let region = try SharedMemory.mapAnonymous(byteCount: byteCount)
        // Fresh anonymous pages are zero, which is every counter's starting value.
        cells = region.bindMemory(to: Atomic<UInt64>.self, capacity: byteCount / MemoryLayout<UInt64>.stride)
    }

    deinit { munmap(cells, byteCount) }

    // MARK: The server's record

    package func server(_ field: ServerField) -> UInt64 {
        cells[field.rawValue].load(ordering: .relaxed)
    }

    package func setServer(_ field: ServerField, _ value: UInt64) {
        cells[field.rawValue].store(value, ordering: .relaxed)
    }

    package func addServer(_ field: ServerField, _ amount: UInt64) {
        setServer(field, server(field) &+ amount)
    }

    // MARK: Worker records (0..<workerCapacity)

    /// The record at `index`, for its worker to write or anyone to read.
    package func worker(_ index: Int) -> WorkerRecord {
        precondition(index >= 0 && index < Self.workerCapacity, "worker record \(index) out of range")
        return WorkerRecord(cells: cells + Self.serverCells + index * Self.cellsPerRecord)
    }

    /// Indexes of records that have ever been used; free ones read pid 0.
    package var usedRecords: Range<Int> { 0..<Int(server(.recordsInUse)) }

    /// Claims a free record for a new worker (the master does this before forking it).
    package func claimRecord(slot: Int) -> Int? {
        guard let index = (0..<Self.workerCapacity).first(where: { !worker($0).inUse }) else { return nil }
        let record = worker(index)
        record.reset()
        record[.slot] = UInt64(slot)
        record[.heartbeat] = UInt64(Clock.monotonicMilliseconds())
        record.markInUse()
        if index >= usedRecords.upperBound { setServer(.recordsInUse, UInt64(index + 1)) }
        return index
    }

    /// Moves an exited worker's counts into the retired totals and frees its record,
    /// under the sequence lock that `readConsistently` checks.
    package func retireRecord(_ index: Int) {
        let record = worker(index)
        let folds: [(WorkerField, ServerField)] = [
            (.accepted, .retiredAccepted), (.requests, .retiredRequests),
            (.bytesIn, .retiredBytesIn), (.bytesOut, .retiredBytesOut),
            (.responses1xx, .retired1xx), (.responses2xx, .retired2xx), (.responses3xx, .retired3xx),
            (.responses4xx, .retired4xx), (.responses5xx, .retired5xx),
        ]
        // A seqlock around the move: the sequence is odd while the counts are on
        // their way from the record to the totals, so a reader never sees them in
        // neither place (a counter going back) or in both (counted twice).
        let sequence = cells + ServerField.retireSequence.rawValue
        let start = sequence.pointee.load(ordering: .relaxed)
        sequence.pointee.store(start &+ 1, ordering: .relaxed)
        atomicMemoryFence(ordering: .releasing)
        let counts = folds.map { record[$0.0] }
        record.reset()
        for ((_, total), count) in zip(folds, counts) { addServer(total, count) }
        sequence.pointee.store(start &+ 2, ordering: .releasing)
    }

    /// Runs `read` (relaxed loads of any records) until no worker was retired while
    /// it ran, so its totals are consistent. Retirements are rare, so a retry is too.
    /// Only a sequence stuck odd for 100 ms (a master that died halfway through a
    /// retirement) makes it give up, with a reading that may be off by that one worker.
    package func readConsistently<Result>(_ read: () -> Result) -> Result {
        let sequence = cells + ServerField.retireSequence.rawValue
        var stuck = (value: sequence.pointee.load(ordering: .relaxed), since: Clock.monotonicMilliseconds())
        while true {
            let before = sequence.pointee.load(ordering: .acquiring)
            if before & 1 == 0 {
                let result = read()
                atomicMemoryFence(ordering: .acquiring)
                if sequence.pointee.load(ordering: .relaxed) == before { return result }
            }
            let now = Clock.monotonicMilliseconds()
            if before != stuck.value {
                stuck = (before, now)
            } else if before & 1 == 1 && now - stuck.since > 100 {
                return read()
            }
            sched_yield()  // the master is between the two stores: let it finish
        }
    }

    /// Connections open across the workers that still accept, and how many such workers there are.
    package func acceptingLoad() -> (connections: Int, workers: Int) {
        var connections = 0
        var workers = 0
        for index in usedRecords {
            let record = worker(index)
            guard record.inUse, record[.retiring] == 0 else { continue }
            connections += Int(record[.active])
            workers += 1
        }
        return (connections, workers)
    }
}

/// One worker's record: a view of its cells in the shared region.
package struct WorkerRecord: @unchecked Sendable {
    fileprivate let cells: UnsafeMutablePointer<Atomic<UInt64>>

    /// A record that counts into nothing, for a driver run without a scoreboard (tests, benchmarks).
    package static let detached: WorkerRecord = {
        let count = Scoreboard.cellsPerRecord
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * 8, alignment: 64)
        raw.initializeMemory(as: UInt64.self, repeating: 0, count: count)
        return WorkerRecord(cells: raw.bindMemory(to: Atomic<UInt64>.self, capacity: count))
    }()

    package subscript(field: WorkerField) -> UInt64 {
        @inline(__always) get { cells[field.rawValue].load(ordering: .relaxed) }
        @inline(__always) nonmutating set { cells[field.rawValue].store(newValue, ordering: .relaxed) }
    }

    /// Only the record's own worker calls this, so load-then-store loses nothing.
    @inline(__always)
    package func add(_ field: WorkerField, _ amount: UInt64 = 1) {
        self[field] = self[field] &+ amount
    }

    /// Counts one response under its status class (1xx ... 5xx).
    @inline(__always)
    package func countResponse(status: Int) {
        let classIndex = min(max(status / 100, 1), 5) - 1
        add(WorkerField(rawValue: WorkerField.responses1xx.rawValue + classIndex)!)
    }

    /// The pid cell holds the pid, or `UInt64.max` for a record claimed before its worker forked.
    package var inUse: Bool { self[.pid] != 0 }
    package var pid: Int32? {
        let value = self[.pid]
        return value == 0 || value == .max ? nil : Int32(truncatingIfNeeded: value)
    }
    fileprivate func markInUse() { self[.pid] = .max }
    package func setPID(_ pid: Int32) { self[.pid] = UInt64(pid) }

    package func reset() {
        for field in WorkerField.allCases { self[field] = 0 }
    }
}
