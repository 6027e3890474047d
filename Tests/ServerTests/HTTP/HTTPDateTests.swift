// HTTP-dates (RFC 9110 §5.6.7): the three formats parsed, IMF-fixdate formatted,
// and what is not a date refused (a recipient then ignores the field).
@testable import HTTP1
import Glibc
import XCTest

final class HTTPDateTests: XCTestCase {
    /// Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110's example.
    let example = 784_111_777

    func testTheThreeFormatsOfRFC9110NameTheSameInstant() {
        let table: [(String, Int?)] = [
            ("Sun, 06 Nov 1994 08:49:37 GMT", example),
            ("Sunday, 06-Nov-94 08:49:37 GMT", example),
            ("Sun Nov  6 08:49:37 1994", example),
            ("Thu, 01 Jan 1970 00:00:00 GMT", 0),
            ("Tue, 29 Feb 2000 23:59:59 GMT", 951_868_799),
            ("Fri, 31 Dec 1999 23:59:60 GMT", 946_684_800),  // a leap second is the next second's start
            ("Wednesday, 01-Jan-25 00:00:00 GMT", 1_735_689_600),  // two-digit years below 70 are 20xx
            ("Thu Jan  1 00:00:00 1970", 0),
            ("Mon Dec 31 23:59:59 2029", 1_893_455_999),
            ("Mon, 06 Nov 1994 08:49:37 GMT", example),  // the weekday is not checked against the date, as nginx
        ]
        for (text, expected) in table { XCTAssertEqual(parse(text), expected, text) }
    }

    func testAnythingElseIsNotADate() {
        let table = [
            "", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Nov 1994 08:49:37 GMT ",
            "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 nov 1994 08:49:37 GMT", "Sun, 31 Nov 1994 08:49:37 GMT",
            "Sun, 29 Feb 1900 00:00:00 GMT", "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT",
            "Xyz, 06 Nov 1994 08:49:37 GMT", "784111777", "Sun Nov 6 08:49:37 1994", "Sun, 06-Nov-1994 08:49:37 GMT",
            "Sun, 00 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49 GMT", "yesterday",
        ]
        for text in table { XCTAssertNil(parse(text), text) }
    }

    func testFormattingMatchesGmtime() {
        var seconds = 0
        for _ in 0..<2000 {
            XCTAssertEqual(HTTPDate.format(seconds), reference(seconds))
            XCTAssertEqual(parse(HTTPDate.format(seconds)), seconds)
            seconds += 86_400 * 37 + 3_607
        }
        XCTAssertEqual(HTTPDate.format(example), "Sun, 06 Nov 1994 08:49:37 GMT")
    }

    private func parse(_ text: String) -> Int? {
        var text = text
        return text.withUTF8 { HTTPDate.parse(UnsafeRawBufferPointer($0)) }
    }

    private func reference(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, 64, "%a, %d %b %Y %H:%M:%S GMT", &parts)
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
