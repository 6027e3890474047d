// The metric families /metrics exposes, by name, type and help text: what an
// operator reads in the output. MetricsExposition turns them into text.
import HTTP1

extension MetricsExposition.Family {
    typealias Family = MetricsExposition.Family
    typealias Snapshot = MetricsExposition.Snapshot
    typealias Sample = MetricsExposition.Sample

    /// The response classes and the fields that count them, in both kinds of record.
    private static let statusClasses: [(label: String, worker: WorkerField, retired: ServerField)] = [
        ("1xx", .responses1xx, .retired1xx), ("2xx", .responses2xx, .retired2xx), ("3xx", .responses3xx, .retired3xx),
        ("4xx", .responses4xx, .retired4xx), ("5xx", .responses5xx, .retired5xx),
    ]

    /// Ways a worker's exit is classified (set by the master when it reaps one).
    private static let exitReasons: [(label: String, field: ServerField)] = [
        ("clean", .exitsClean), ("error", .exitsWithError), ("signal", .exitsBySignal),
        ("oom", .exitsOutOfMemory), ("watchdog", .exitsByWatchdog),
    ]

    /// Whole-server totals (live workers plus retired ones) and the master's counters.
    static func serverFamilies(_ snapshot: Snapshot) -> [Family] {
        func value(_ field: ServerField) -> UInt64 { snapshot.server(field) }
        return [
            Family("connections_accepted_total", "counter", "Connections accepted by all workers, including exited ones.",
                   value: snapshot.total(.accepted, retired: .retiredAccepted)),
            Family("connections_active", "gauge", "Connections open now across the live workers.",
                   value: snapshot.total(.active, retired: nil)),
            Family("requests_total", "counter", "Requests answered by all workers, including exited ones.",
                   value: snapshot.total(.requests, retired: .retiredRequests)),
            Family("received_bytes_total", "counter", "Bytes read from clients by all workers, including exited ones.",
                   value: snapshot.total(.bytesIn, retired: .retiredBytesIn)),
            Family("sent_bytes_total", "counter", "Bytes written to clients by all workers, including exited ones.",
                   value: snapshot.total(.bytesOut, retired: .retiredBytesOut)),
            Family("responses_total", "counter", "Responses by status class, all workers, including exited ones.",
                   statusClasses.map { ("class=\"\($0.label)\"", .count(snapshot.total($0.worker, retired: $0.retired))) }),
            Family("file_cache_hits_total", "counter", "Static file lookups the open-file cache answered, all workers.",
                   value: snapshot.total(.fileCacheHits, retired: .retiredFileCacheHits)),
            Family("file_cache_misses_total", "counter", "Static file lookups that opened the file (or looked again), all workers.",
                   value: snapshot.total(.fileCacheMisses, retired: .retiredFileCacheMisses)),
            Family("file_cache_content_bytes", "gauge",
                   "Bytes of small files the open-file caches keep in memory now (TLS without kernel TLS), live workers.",
                   value: snapshot.total(.fileCacheContentBytes, retired: nil)),
            Family("file_sent_bytes_total", "counter", "File body bytes sent with sendfile, all workers.",
                   value: snapshot.total(.fileBytesOut, retired: .retiredFileBytesOut)),
            Family("file_reads_offloaded_total", "counter",
                   "File body reads handed to helper threads on a page-cache miss (--aio-threads), all workers.",
                   value: snapshot.total(.fileReadsOffloaded, retired: .retiredFileReadsOffloaded)),
            Family("compressed_responses_total", "counter", "Responses compressed on the fly, by coding, all workers.",
                   [("coding=\"gzip\"", .count(snapshot.total(.gzipResponses, retired: .retiredGzipResponses))),
                    ("coding=\"br\"", .count(snapshot.total(.brotliResponses, retired: .retiredBrotliResponses)))]),
            Family("tls_handshake_failures_total", "counter",
                   "TLS connections that ended before their handshake completed, all workers.",
                   value: snapshot.total(.tlsHandshakeFailures, retired: .retiredTLSHandshakeFailures)),
            Family("proxy_headers_total", "counter", "PROXY protocol headers, by outcome, all workers, including exited ones.",
                   [("outcome=\"accepted\"", .count(snapshot.total(.proxyHeadersAccepted, retired: .retiredProxyHeadersAccepted))),
                    ("outcome=\"refused\"", .count(snapshot.total(.proxyHeadersRefused, retired: .retiredProxyHeadersRefused)))]),
            Family("tls_ticket_key_rotations_total", "counter",
                   "Session ticket key rotations (--tls-ticket-key-rotation) since the master started.",
                   value: value(.tlsTicketKeyRotations)),
            Family("workers", "gauge", "Worker processes running now.", value: UInt64(snapshot.workers.count)),
            Family("workers_wanted", "gauge", "Worker processes the master keeps running (--workers, TTIN, TTOU).",
                   value: value(.workersWanted)),
            Family("workers_spawned_total", "counter", "Worker processes the master has forked.",
                   value: value(.workersSpawned)),
            Family("workers_died_total", "counter", "Worker processes the master has reaped.",
                   value: value(.workersDied)),
            Family("worker_exits_total", "counter", "Worker exits by cause.",
                   exitReasons.map { ("reason=\"\($0.label)\"", .count(value($0.field))) }),
            Family("restarts_total", "counter", "Rolling restarts (SIGHUP) begun.", value: value(.restarts)),
            Family("draining", "gauge", "1 while the server drains for a graceful shutdown (/health answers 503).",
                   value: value(.draining)),
            Family("ready", "gauge", "1 once every worker serves (/readyz answers 200 unless draining).",
                   value: value(.ready)),
        ]
    }

    /// The way file bodies go over TLS, as one series per path with 1 for the one in use;
    /// nothing without a TLS listener (a plain server's scrape is unchanged).
    static func tlsFamilies(_ snapshot: Snapshot) -> [Family] {
        let inUse = snapshot.server(.tlsFileBodyPath)
        guard inUse != 0 else { return [] }
        let paths: [(label: String, code: UInt64)] = [("ktls_sendfile", 2), ("pread_ssl_write", 1)]
        return [Family("tls_file_body_path", "gauge",
                       "How file bodies are sent over TLS: kernel TLS and SSL_sendfile, or pread and SSL_write (1: in use).",
                       paths.map { ("path=\"\($0.label)\"", .count($0.code == inUse ? 1 : 0)) })]
    }

    /// One series per live worker, labelled by its slot and pid.
    static func workerFamilies(_ snapshot: Snapshot, now: Int) -> [Family] {
        func each(_ field: WorkerField) -> [(labels: String, value: Sample)] {
            snapshot.workers.map { ($0.labels, .count($0.values[field]!)) }
        }
        // Milliseconds shown as seconds with three decimals: Prometheus wants base units.
        // A heartbeat of 0 means the worker keeps none (prefork's blocking workers): no series.
        // Clamped, since the cell is the worker's to write: garbage shows as an age of 0.
        let heartbeatAges = snapshot.workers.filter { $0.values[.heartbeat]! != 0 }.map { worker -> (labels: String, value: Sample) in
            let milliseconds = max(0, now - Int(clamping: worker.values[.heartbeat]!))
            let fraction = String(milliseconds % 1000)
            return (worker.labels, .text("\(milliseconds / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"))
        }
        let responses = snapshot.workers.flatMap { worker in
            statusClasses.map { ("\(worker.labels),class=\"\($0.label)\"", Sample.count(worker.values[$0.worker]!)) }
        }
        return [
            Family("worker_connections_accepted_total", "counter", "Connections this worker accepted.", each(.accepted)),
            Family("worker_connections_active", "gauge", "Connections this worker holds open now.", each(.active)),
            Family("worker_proxy_headers_total", "counter", "PROXY protocol headers on this worker's connections, by outcome.",
                   snapshot.workers.flatMap { worker in
                       [("\(worker.labels),outcome=\"accepted\"", Sample.count(worker.values[.proxyHeadersAccepted]!)),
                        ("\(worker.labels),outcome=\"refused\"", Sample.count(worker.values[.proxyHeadersRefused]!))]
                   }),
            Family("worker_requests_total", "counter", "Requests this worker answered.", each(.requests)),
            Family("worker_received_bytes_total", "counter", "Bytes this worker read from clients.", each(.bytesIn)),
            Family("worker_sent_bytes_total", "counter", "Bytes this worker wrote to clients.", each(.bytesOut)),
            Family("worker_responses_total", "counter", "Responses this worker sent, by status class.", responses),
            Family("worker_file_cache_hits_total", "counter", "Static file lookups this worker's open-file cache answered.",
                   each(.fileCacheHits)),
            Family("worker_file_cache_misses_total", "counter", "Static file lookups this worker opened the file for.",
                   each(.fileCacheMisses)),
            Family("worker_file_cache_content_bytes", "gauge", "Bytes of small files this worker's open-file cache keeps in memory.",
                   each(.fileCacheContentBytes)),
            Family("worker_file_sent_bytes_total", "counter", "File body bytes this worker sent with sendfile.",
                   each(.fileBytesOut)),
            Family("worker_file_reads_offloaded_total", "counter",
                   "File body reads this worker handed to its helper threads on a page-cache miss.", each(.fileReadsOffloaded)),
            Family("worker_retiring", "gauge", "1 while this worker finishes its connections before exiting.",
                   each(.retiring)),
            Family("worker_heartbeat_age_seconds", "gauge",
                   "Seconds since this worker's event loop last completed a turn.", heartbeatAges),
        ]
    }
}
