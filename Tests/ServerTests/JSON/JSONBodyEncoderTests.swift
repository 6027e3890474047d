// JSONBodyEncoderTests: the streaming JSON encoder against Foundation's
// JSONEncoder (slashes unescaped, as ours): the same JSON for the shapes
// Codable synthesizes, the same errors, and Foundation's answer where the
// streaming encoder gives up (superEncoder). Foundation orders an object's
// keys by hash unless told to sort them; ours keeps the order they were
// encoded in, so objects are compared as parsed values, and as text where
// sorting makes the orders equal.
import Foundation
import HTTP1
import ServerJSON
import XCTest

final class JSONBodyEncoderTests: XCTestCase {
    private struct Todo: Codable, Equatable {
        var id: Int64
        var title: String
    }

    private struct Everything: Codable {
        var bool = true
        var int = Int.min
        var int8 = Int8.min
        var uint64 = UInt64.max
        var uint8: UInt8 = 255
        var double = 0.1
        var whole = 1.0
        var tiny = 1e-7
        var huge = 1e300
        var negativeZero = -0.0
        var float: Float = 3.25
        var optionalPresent: String? = "here"
        var optionalAbsent: String? = nil
        var nested = [[1, 2], [], [3]]
        var dictionary = ["b": 2]
        var data = Data([0, 1, 2, 250, 251, 252, 253])
        var url = URL(string: "https://example.com/a/b?c=d")!
        var decimal = Decimal(string: "12.345")!
        var date = Date(timeIntervalSinceReferenceDate: 12.5)
        var text = "quote \" backslash \\ slash / newline \n tab \t bell \u{07} nul \u{00} é 🦊"
        var shape = Shape.circle(radius: 2)
        var empty = Nothing()
        var todos = [Todo(id: 1, title: "one")]
    }

    private enum Shape: Codable {
        case circle(radius: Double)
        case square
    }

    /// Encodes no value at all: JSONEncoder writes `{}` for it inside a container.
    private struct Nothing: Codable {
        init() {}
        func encode(to encoder: any Encoder) throws {}
    }

    private class Base: Encodable {
        var name = "base"
    }

    private final class Derived: Base {
        var extra = 7
        private enum CodingKeys: String, CodingKey { case extra }
        override func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(extra, forKey: .extra)
            try super.encode(to: container.superEncoder())
        }
    }

    private func foundation(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    private func ours(_ value: some Encodable) throws -> String {
        String(decoding: try JSONBodyEncoder().encode(value), as: UTF8.self)
    }

    private func assertSameJSON(_ value: some Encodable, file: StaticString = #filePath, line: UInt = #line) throws {
        let parse = { (text: String) throws -> NSObject in
            try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) as! NSObject
        }
        XCTAssertEqual(try parse(try ours(value)), try parse(try foundation(value)), file: file, line: line)
    }

    func testAListOfRecordsIsTheTextJSONEncoderWrites() throws {
        let todos = (1...10).map { Todo(id: $0, title: "todo number \($0): write the benchmark") }
        let sorting = JSONEncoder()
        sorting.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        XCTAssertEqual(try ours(todos), String(decoding: try sorting.encode(todos), as: UTF8.self))
        XCTAssertEqual(try JSONDecoder().decode([Todo].self, from: Data(try JSONBodyEncoder().encode(todos))), todos)
    }

    func testEveryPrimitiveAndFoundationsSpecialTypesMatchJSONEncoder() throws {
        try assertSameJSON(Everything())
        XCTAssertTrue(try ours(Everything()).contains(#""text":"quote \" backslash \\ slash / newline \n tab \t bell \u0007 nul \u0000 é 🦊""#))
        XCTAssertTrue(try ours(Everything()).contains(#""whole":1,"tiny":1e-07,"huge":1e+300,"negativeZero":-0,"#))
    }

    func testTopLevelFragmentsMatchJSONEncoder() throws {
        XCTAssertEqual(try ours("a\"b"), try foundation("a\"b"))
        XCTAssertEqual(try ours(42), "42")
        XCTAssertEqual(try ours(Optional<Int>.none), "null")
        XCTAssertEqual(try ours([String: [Int]]()), "{}")
        XCTAssertEqual(try ours([Int]()), "[]")
    }

    /// Encodes its amount through a single-value container, as money and id wrappers do.
    private struct Price: Encodable {
        var amount: Decimal
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(amount)
        }
    }

    private struct Wrapped: Encodable {
        var name = "x"
        var price = Price(amount: Decimal(string: "9.99")!)
        var blob: Data? = Data([9])
        var link: URL? = URL(string: "https://example.com/a")
    }

    func testFoundationsSpecialTypesAtTheTopAndThroughSingleValueContainersMatchJSONEncoder() throws {
        XCTAssertEqual(try ours(Data([1, 2, 3])), try foundation(Data([1, 2, 3])))
        XCTAssertEqual(try ours(URL(string: "https://a.b/c")!), try foundation(URL(string: "https://a.b/c")!))
        XCTAssertEqual(try ours(Decimal(string: "1.5")!), try foundation(Decimal(string: "1.5")!))
        XCTAssertEqual(try ours([Data([1, 2]) as Data?, nil]), try foundation([Data([1, 2]) as Data?, nil]))
        XCTAssertEqual(try ours([URL(string: "https://a/b")]), try foundation([URL(string: "https://a/b")]))
        XCTAssertEqual(try ours(["k": Decimal(2) as Decimal?]), try foundation(["k": Decimal(2) as Decimal?]))
        XCTAssertEqual(try ours([Price(amount: 1)]), try foundation([Price(amount: 1)]))
        XCTAssertEqual(try ours(Wrapped()), #"{"name":"x","price":9.99,"blob":"CQ==","link":"https://example.com/a"}"#)
        try assertSameJSON(Wrapped())
    }

    func testEveryControlCharacterIsEscaped() throws {
        let controls = String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) })
        XCTAssertEqual(try ours(controls), try foundation(controls))
        XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(try JSONBodyEncoder().encode([controls]))))
    }

    func testNonFiniteNumbersAreRefusedAsJSONEncoderRefusesThem() {
        for value in [Double.nan, .infinity, -.infinity] {
            XCTAssertThrowsError(try ours(["x": value])) { XCTAssertTrue($0 is EncodingError, "\($0)") }
            XCTAssertThrowsError(try foundation(["x": value]))
        }
        XCTAssertThrowsError(try ours([Float.nan])) { XCTAssertTrue($0 is EncodingError, "\($0)") }
    }

    func testATopLevelValueThatEncodesNothingIsAnError() {
        XCTAssertThrowsError(try ours(Nothing())) { XCTAssertTrue($0 is EncodingError, "\($0)") }
        XCTAssertThrowsError(try foundation(Nothing()))
    }

    func testASuperEncoderFallsBackToJSONEncoder() throws {
        try assertSameJSON(Derived())
        try assertSameJSON([Derived(), Derived()])
    }

    func testAContainerWrittenAfterANewerSiblingFallsBackToJSONEncoder() throws {
        try assertSameJSON(Interleaved())
        XCTAssertTrue(try ours(Interleaved()).contains(#""first":[1]"#))
    }

    /// Writes into its first nested container after opening the second: not streamable.
    private struct Interleaved: Encodable {
        private enum Keys: String, CodingKey { case first, second, plain }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            var first = container.nestedUnkeyedContainer(forKey: .first)
            var second = container.nestedUnkeyedContainer(forKey: .second)
            try second.encode(2)
            try first.encode(1)
            try container.encode("x", forKey: .plain)
        }
    }

    func testAJSONResponseCarriesTheBytesAndTheMediaType() throws {
        let response = try Response.json([Todo(id: 1, title: "a")], status: .created)
        XCTAssertEqual(response.status, .created)
        XCTAssertEqual("\(response.contentType)", "application/json")
        guard case .bytes(let bytes) = response.body else { return XCTFail("body \(response.body)") }
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), #"[{"id":1,"title":"a"}]"#)
    }
}
