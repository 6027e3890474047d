// JSONBenchmarks: the example service's list (ten todos) as a JSON body, through
// the server's streaming encoder (ServerJSON) and through Foundation's
// JSONEncoder as the Hummingbird twin writes it: time and heap allocations per
// body. Figures only; nothing here asserts a time.
import Foundation
import ServerJSON
import XCTest

final class JSONBenchmarks: XCTestCase {
    private struct Todo: Codable {
        var id: Int64
        var title: String
    }

    private static let todos = (1...10).map { Todo(id: $0, title: "todo number \($0): write the benchmark") }

    func testEncodingTheExampleServicesListStreamingAndWithJSONEncoder() throws {
        let streaming = JSONBodyEncoder()
        let foundation = { () -> JSONEncoder in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return encoder
        }
        XCTAssertEqual(try streaming.encode(Self.todos), Array(try foundation().encode(Self.todos)))
        var sink = 0
        let streamingTime = Measure.medianNanoseconds(iterations: 20_000) { iterations in
            for _ in 0..<iterations { sink &+= (try? streaming.encode(Self.todos))?.count ?? 0 }
        }
        let foundationTime = Measure.medianNanoseconds(iterations: 20_000) { iterations in
            for _ in 0..<iterations { sink &+= (try? foundation().encode(Self.todos))?.count ?? 0 }
        }
        let streamingAllocations = Measure.allocationsOnThisThread { sink &+= (try? streaming.encode(Self.todos))?.count ?? 0 }
        let foundationAllocations = Measure.allocationsOnThisThread {
            sink &+= (try? foundation().encode(Self.todos))?.count ?? 0
        }
        XCTAssertGreaterThan(sink, 0)
        Measure.report("JSON body of ten todos" + Measure.buildNote,
                       "streaming \(Measure.format(streamingTime / 1000, decimals: 2)) µs, \(streamingAllocations) allocations; "
                       + "JSONEncoder \(Measure.format(foundationTime / 1000, decimals: 2)) µs, \(foundationAllocations) allocations")
    }
}
