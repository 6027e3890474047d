// MetricsRoutes: an application recording with swift-metrics (CoreMetrics), which
// the server backs with its shared scoreboard, so /metrics shows each series
// with the whole server's value. The counter is made once per worker (routes
// are made after fork, where the worker's backend is bootstrapped); the other
// routes make their metric on each request, as code deep in a library would.
// Each answers "pid N", the worker that recorded.
//   GET /example/metrics/count         counts `example_hits_total`
//   GET /example/metrics/gauge?N       sets this worker's `example_level` to N
//   GET /example/metrics/timer?N       records N ms in `example_duration_seconds`
//   GET /example/metrics/series?N      counts `example_series_total{n="N"}` (a new series per N)
//   GET /example/metrics/escaped       counts a series whose label value needs escaping
import CoreMetrics
import Glibc
import Server

struct MetricsRoutes: ExampleRoute {
    private let hits = Counter(label: "example_hits_total")

    func answer(_ request: Request, with response: inout Response) -> Bool {
        let number = request.query.flatMap { Int($0.string) } ?? 0
        switch request.path.string {
        case "/example/metrics/count": hits.increment()
        case "/example/metrics/gauge": Gauge(label: "example_level").record(number)
        case "/example/metrics/timer": Timer(label: "example_duration_seconds").recordMilliseconds(number)
        case "/example/metrics/series": Counter(label: "example_series_total", dimensions: [("n", String(number))]).increment()
        case "/example/metrics/escaped":
            Counter(label: "example.escaped", dimensions: [("text", "a\"b\\c\nd"), ("kind", "odd")]).increment()
        default: return false
        }
        // Which worker recorded it, as the built-in `/` says ("pid N").
        response.body = .bytes(Array("pid \(getpid())\n".utf8))
        return true
    }
}
