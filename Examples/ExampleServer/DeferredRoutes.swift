// DeferredRoutes: handlers that answer later, off the event loop.
//   GET /example/sleep?ms=N        blocks a handler-pool thread for N ms (usleep)
//   GET /example/async-sleep?ms=N  awaits Task.sleep for N ms in a task
// Both answer "slept N ms". The worker keeps serving other connections meanwhile.
import Glibc
import Server

struct DeferredRoutes: ExampleRoute {
    /// Bounds the sleep, so a request cannot tie a thread up for long.
    static let maximumMilliseconds = 60_000

    func answer(_ request: Request, with response: inout Response) -> Bool {
        if request.path == "/example/sleep" {
            let milliseconds = Self.milliseconds(in: request)
            response.deferToPool { _ in
                usleep(useconds_t(milliseconds * 1000))
                return Self.slept(milliseconds)
            }
            return true
        }
        if request.path == "/example/async-sleep" {
            let milliseconds = Self.milliseconds(in: request)
            response.deferToTask { _ in
                try? await Task.sleep(nanoseconds: UInt64(milliseconds) * 1_000_000)
                return Self.slept(milliseconds)
            }
            return true
        }
        return false
    }

    /// The `ms=` query parameter, 0 when absent or not a number.
    private static func milliseconds(in request: Request) -> Int {
        guard let query = request.query?.string else { return 0 }
        for pair in query.split(separator: "&") where pair.hasPrefix("ms=") {
            return min(maximumMilliseconds, max(0, Int(pair.dropFirst(3)) ?? 0))
        }
        return 0
    }

    private static func slept(_ milliseconds: Int) -> Response {
        Response(body: .bytes(Array("slept \(milliseconds) ms\n".utf8)))
    }
}
