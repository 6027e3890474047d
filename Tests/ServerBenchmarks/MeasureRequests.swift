// MeasureRequests: allocations of work done with one parsed request, for the
// benchmarks that count what a handler or a wrapper adds per request.
import Server

extension Measure {
    /// Mean heap allocations of `body` over 1000 runs for the parsed `text`, on this thread.
    static func allocations(of text: String, _ body: (Request) -> Void) -> Double {
        let parser = RequestParser(limits: RequestLimits())
        let fields = HeaderStorage(limits: parser.limits)
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { buffer -> Double in
            var progress = ParseProgress()
            guard case .complete(let head) = parser.parse(buffer, progress: &progress, fields: fields.buffer) else { return .nan }
            let request = Request(bytes: buffer, head: head, fields: UnsafeBufferPointer(fields.buffer))
            for _ in 0..<100 { body(request) }  // warm up
            let total = Measure.allocationsOnThisThread { for _ in 0..<1000 { body(request) } }
            return Double(total) / 1000
        }
    }
}
