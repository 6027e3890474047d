// MetricsExposition: the scoreboard as Prometheus text (exposition format
// 0.0.4): per-worker series labelled by slot and pid, server totals that
// include the workers that have exited, and the master's own counters.
// It runs only for a scrape, so it may build Strings freely. Every number comes
// from memory any worker can write: the scoreboard bounds what it hands out
// (records, sequence), and numbers are summed with wrapping and converted with
// clamping, so garbage a worker writes garbles numbers, never the scrape itself.

enum MetricsExposition {
    static let contentType: StaticString = "text/plain; version=0.0.4; charset=utf-8"
    /// Every metric name starts with this, so the server's series are easy to find.
    static let prefix = "prefork_"

    /// The whole exposition; `now` is the monotonic clock in ms, for heartbeat ages.
    static func render(_ scoreboard: Scoreboard, now: Int) -> String {
        let snapshot = Snapshot(scoreboard)
        var text = ""
        text.reserveCapacity(4096 + 1024 * snapshot.workers.count)
        for family in Family.serverFamilies(snapshot) + Family.tlsFamilies(snapshot) + Family.workerFamilies(snapshot, now: now) {
            family.write(into: &text)
        }
        ApplicationMetricsExposition.render(scoreboard, into: &text)
        return text
    }

    /// A sample's value: a count, or a number already formatted (a fraction).
    enum Sample {
        case count(UInt64)
        case text(String)

        var text: String {
            switch self {
            case .count(let value): return String(value)
            case .text(let text): return text
            }
        }
    }

    /// One metric family: its help, its type, and its samples (labels and value).
    struct Family {
        let name: String
        let type: String
        let help: String
        let samples: [(labels: String, value: Sample)]

        init(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: Sample)]) {
            self.name = MetricsExposition.prefix + name
            self.type = type
            self.help = help
            self.samples = samples
        }

        init(_ name: String, _ type: String, _ help: String, value: UInt64) {
            self.init(name, type, help, [("", .count(value))])
        }

        func write(into text: inout String) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples {
                let value = sample.value.text
                text += sample.labels.isEmpty ? "\(name) \(value)\n" : "\(name){\(sample.labels)} \(value)\n"
            }
        }
    }
}

extension MetricsExposition {
    /// One reading of every record, so all families of a scrape agree with each other.
    struct Snapshot {
        struct Worker {
            let slot: UInt64
            let pid: Int32
            let values: [WorkerField: UInt64]
            var labels: String { "slot=\"\(slot)\",pid=\"\(pid)\"" }
        }

        private(set) var workers: [Worker] = []
        private(set) var server: [ServerField: UInt64] = [:]

        /// Read under the scoreboard's retirement seqlock: a worker retired meanwhile
        /// (its counts moved from its record to the totals) makes the scrape read
        /// again, so it neither counts that worker twice nor misses it.
        init(_ scoreboard: Scoreboard) {
            (workers, server) = scoreboard.readConsistently { (Self.readWorkers(scoreboard), Self.readServer(scoreboard)) }
        }

        private static func readServer(_ scoreboard: Scoreboard) -> [ServerField: UInt64] {
            Dictionary(uniqueKeysWithValues: ServerField.allCases.map { ($0, scoreboard.server($0)) })
        }

        private static func readWorkers(_ scoreboard: Scoreboard) -> [Worker] {
            scoreboard.usedRecords.compactMap { index in
                let record = scoreboard.worker(index)
                // A record claimed but not yet forked has no pid and has counted nothing.
                guard let pid = record.pid else { return nil }
                let values = Dictionary(uniqueKeysWithValues: WorkerField.allCases.map { ($0, record[$0]) })
                return Worker(slot: values[.slot]!, pid: pid, values: values)
            }.sorted { ($0.slot, $0.pid) < ($1.slot, $1.pid) }
        }

        func server(_ field: ServerField) -> UInt64 { server[field]! }

        /// A counter over the whole server: the live workers' sum plus what exited workers had counted.
        func total(_ field: WorkerField, retired: ServerField?) -> UInt64 {
            workers.reduce(retired.map { server[$0]! } ?? 0) { $0 &+ $1.values[field]! }
        }
    }
}
