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
//
// Yet every worker can write every byte of the region (it runs as the --user
// the master is not, and may be compromised or buggy), so nothing read from it
// is trusted: readers convert with clamping and bound every index and count by
// the region's own size, and the master decides only from its own copy
// (ScoreboardLedger.swift), which it publishes here for the readers.
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
    /// PROXY protocol headers read whole from a trusted peer, and connections refused for
    /// theirs (an untrusted peer, a malformed header or none, one not whole within the header
    /// timeout): once per connection, not per request.
    case proxyHeadersAccepted = 6
    case proxyHeadersRefused = 7
    case requests = 8
    case bytesIn = 9
    case bytesOut = 10
    case responses1xx = 11, responses2xx = 12, responses3xx = 13, responses4xx = 14, responses5xx = 15
    /// Static files: open-file cache hits and misses, and file body bytes sent (sendfile), on a third line of their own.
    case fileCacheHits = 16, fileCacheMisses = 17, fileBytesOut = 18
    /// File body read-aheads handed to the helper threads on a page-cache miss (--aio-threads).
    case fileReadsOffloaded = 19
    /// Responses compressed on the fly, by coding (ResponseCompression).
    case gzipResponses = 20, brotliResponses = 21
    /// TLS connections that ended before their handshake completed (garbage, a scanner, a refused protocol).
    case tlsHandshakeFailures = 22
    /// Bytes of small files the worker's open-file caches keep in memory now (a gauge; OpenFileCache).
    case fileCacheContentBytes = 23
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
    /// 1 once every worker of the server's start has reported serving (Readiness.swift):
    /// with `draining` 0, /readyz answers 200.
    case ready
    case retiredFileCacheHits, retiredFileCacheMisses, retiredFileBytesOut
    case retiredFileReadsOffloaded
    case retiredGzipResponses, retiredBrotliResponses
    case retiredTLSHandshakeFailures
    case retiredProxyHeadersAccepted, retiredProxyHeadersRefused
    /// Session ticket keys the master has rotated (--tls-ticket-key-rotation).
    case tlsTicketKeyRotations
    /// How file bodies go over TLS (TLSFileBodyPath): 0 without a TLS listener,
    /// 1 pread and SSL_write, 2 kernel TLS and SSL_sendfile. Set by the master.
    case tlsFileBodyPath
}

package final class Scoreboard: @unchecked Sendable {
    /// Worker records: enough for the largest --workers twice over, as during a rolling restart.
    package static let workerCapacity = 2 * ServerConfiguration.maximumWorkers
    /// Cells per worker record: 24 × 8 bytes, three cache lines, so workers never share a line.
    static let cellsPerRecord = 24
    /// Cells of the server's record, which comes first (five cache lines).
    static let serverCells = 40

    private let cells: UnsafeMutablePointer<Atomic<UInt64>>
    private let byteCount: Int
    /// What the master decides by, in its own memory (ScoreboardLedger.swift): a worker's
    /// copy of it after fork is its own too, so no other process can change it.
    /// Only the master's thread touches it.
    var ledger = ScoreboardLedger()
    /// The application's swift-metrics series (Metrics/), after the worker records.
    package let metrics: MetricsRegion
    /// The master's totals of those series for exited workers (Metrics/MetricsLedger.swift).
    var metricsLedger = MetricsLedger()

    /// Maps the region; call it in the master before forking.
    package init() throws(SystemError) {
        assert(ServerField.allCases.count <= Self.serverCells && WorkerField.allCases.allSatisfy { $0.rawValue < Self.cellsPerRecord })
        let recordCells = Self.serverCells + Self.workerCapacity * Self.cellsPerRecord
        byteCount = (recordCells + MetricsRegion.cellCount(workers: Self.workerCapacity)) * MemoryLayout<UInt64>.stride
        let region = try SharedMemory.mapAnonymous(byteCount: byteCount)
        // Fresh anonymous pages are zero, which is every counter's starting value.
        cells = region.bindMemory(to: Atomic<UInt64>.self, capacity: byteCount / MemoryLayout<UInt64>.stride)
        metrics = MetricsRegion(cells: cells + recordCells, workers: Self.workerCapacity)
    }

    deinit { munmap(cells, byteCount) }

    // MARK: The server's record

    /// The shared copy of a server field, as published by the master.
    package func server(_ field: ServerField) -> UInt64 {
        cells[field.rawValue].load(ordering: .relaxed)
    }

    /// Writes the shared copy of a server field; the master alone calls this (ScoreboardLedger.swift).
    func publish(_ field: ServerField, _ value: UInt64) {
        cells[field.rawValue].store(value, ordering: .relaxed)
    }

    /// `publish` ordered after every store before it (the end of a seqlock's write).
    func publishReleasing(_ field: ServerField, _ value: UInt64) {
        cells[field.rawValue].store(value, ordering: .releasing)
    }

    // MARK: Worker records (0..<workerCapacity)

    /// The record at `index`, for its worker to write or anyone to read.
    package func worker(_ index: Int) -> WorkerRecord {
        precondition(index >= 0 && index < Self.workerCapacity, "worker record \(index) out of range")
        return WorkerRecord(cells: cells + Self.serverCells + index * Self.cellsPerRecord)
    }

    /// Indexes of records that have ever been used; free ones read pid 0. The shared
    /// count is bounded by the region's size, whatever a worker wrote there.
    package var usedRecords: Range<Int> {
        0..<Int(min(server(.recordsInUse), UInt64(Self.workerCapacity)))
    }

    /// Runs `read` (relaxed loads of any records) until no worker was retired while
    /// it ran, so its totals are consistent. Retirements are rare and take the master
    /// microseconds, so a retry is rare too. After `consistentReadMilliseconds` without
    /// a quiet moment it gives up, with a reading that may be off by a worker: the
    /// sequence is then stuck odd (a master that died halfway through a retirement) or
    /// kept moving by a worker writing it, and a reader must not hang on either.
    package func readConsistently<Result>(_ read: () -> Result) -> Result {
        let sequence = cells + ServerField.retireSequence.rawValue
        let giveUpAt = Clock.monotonicMilliseconds() + Self.consistentReadMilliseconds
        while true {
            let before = sequence.pointee.load(ordering: .acquiring)
            if before & 1 == 0 {
                let result = read()
                atomicMemoryFence(ordering: .acquiring)
                if sequence.pointee.load(ordering: .relaxed) == before { return result }
            }
            if Clock.monotonicMilliseconds() > giveUpAt { return read() }
            sched_yield()  // the master is between the two stores: let it finish
        }
    }

    static let consistentReadMilliseconds = 100

    /// Connections open across the workers that still accept, and how many such workers there are.
    /// Each record's count is clamped to what a process can hold (a descriptor is an Int32),
    /// so the sum of every record cannot overflow, whatever the records say.
    package func acceptingLoad() -> (connections: Int, workers: Int) {
        var connections = 0
        var workers = 0
        for index in usedRecords {
            let record = worker(index)
            guard record.inUse, record[.retiring] == 0 else { continue }
            connections += Int(min(record[.active], UInt64(Int32.max)))
            workers += 1
        }
        return (connections, workers)
    }

    /// The whole region, as any worker can write it (tests write garbage here).
    package func withUnsafeRegion<Result>(_ body: (UnsafeMutableRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(cells), count: byteCount))
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
    func markInUse() { self[.pid] = .max }
    package func setPID(_ pid: Int32) { self[.pid] = UInt64(pid) }

    package func reset() {
        for field in WorkerField.allCases { self[field] = 0 }
    }
}
