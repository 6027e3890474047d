// Request framing a proxy in front could read differently (request smuggling):
// chunked bodies, Transfer-Encoding, Expect, Host and request-line edge cases.
// Each row names the rule and the RFC 9112/9110 section it checks. Accepted rows
// also check the decoded body and that the message ends exactly where the row's
// request does, so bytes after it (a pipelined request) are never taken as body.
import XCTest
@testable import HTTP1
@testable import Server

final class RequestSmugglingTests: XCTestCase {
    func testEachRequestGetsTheVerdictItsRuleRequires() {
        for row in Self.rows { check(row) }
    }

    func testEveryRowNamesItsRFCSectionOnce() {
        XCTAssertEqual(Set(Self.rows.map(\.name)).count, Self.rows.count, "row names are unique")
        for row in Self.rows {
            XCTAssertTrue(row.name.contains("RFC "), "cites an RFC: " + row.name, line: row.line)
        }
    }

    /// A small body limit for the 413 rows and a small header limit for the 431 row.
    private static let tight = RequestLimits(maxRequestLineBytes: 64, maxHeaderBytes: 128,
                                             maxHeaderCount: 8, maxBodyBytes: 10)
    private static let hello = "5\r\nhello\r\n0\r\n\r\n"
    private static let next = "GET /next HTTP/1.1\r\nHost: h\r\n\r\n"

    private static let rows: [Row] = [
        // Chunked bodies that must be decoded (RFC 9112 §7.1).
        ok("several chunks are joined in order (RFC 9112 §7.1)", chunked("5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n"), "hello world"),
        ok("zero-length body is the last chunk alone (RFC 9112 §7.1: last-chunk)", chunked("0\r\n\r\n"), ""),
        ok("uppercase hex chunk size (RFC 9112 §7.1: HEXDIG)", chunked("A\r\n0123456789\r\n0\r\n\r\n"), "0123456789"),
        ok("lowercase hex chunk size (RFC 9112 §7.1: HEXDIG)", chunked("b\r\nhello world\r\n0\r\n\r\n"), "hello world"),
        ok("leading zeros in chunk size (RFC 9112 §7.1: 1*HEXDIG)", chunked("005\r\nhello\r\n0\r\n\r\n"), "hello"),
        ok("chunk extension name=token (RFC 9112 §7.1.1)", chunked("5;a=b\r\nhello\r\n0\r\n\r\n"), "hello"),
        ok("chunk extension with quoted-string value (RFC 9112 §7.1.1)", chunked("5;a=\"q\"\r\nhello\r\n0\r\n\r\n"), "hello"),
        ok("several chunk extensions with BWS (RFC 9112 §7.1.1)", chunked("5 ; a = b;c\r\nhello\r\n0\r\n\r\n"), "hello"),
        ok("chunk extension on the last chunk (RFC 9112 §7.1)", chunked("5\r\nhello\r\n0;end=1\r\n\r\n"), "hello"),
        ok("last chunk of sixteen zeros (RFC 9112 §7.1: 1*HEXDIG, leading zeros count for nothing)", chunked("0000000000000000\r\n\r\n"), ""),
        ok("leading zeros past 15 digits before a small size (RFC 9112 §7.1: 1*HEXDIG)", chunked("00000000000000005\r\nhello\r\n0\r\n\r\n"), "hello"),
        ok("quoted-pair escapes a quote in a chunk extension (RFC 9110 §5.6.4)", chunked("5;a=\"x\\\"y\"\r\nhello\r\n0\r\n\r\n"), "hello"),
        ok("semicolon inside a quoted chunk extension is text (RFC 9110 §5.6.4: qdtext)", chunked("5;a=\"x;y\" ;b\r\nhello\r\n0\r\n\r\n"), "hello"),
        ok("trailer field is checked and dropped (RFC 9112 §7.1.2)", chunked("5\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\n"), "hello"),
        ok("several trailer fields, one empty (RFC 9112 §7.1.2)", chunked("5\r\nhello\r\n0\r\nA: 1\r\nB:\r\n\r\n"), "hello"),
        ok("Content-Length in trailers is not merged (RFC 9110 §6.5.1)", chunked("5\r\nhello\r\n0\r\nContent-Length: 99\r\n\r\n"), "hello"),
        ok("CRLF inside chunk data is data (RFC 9112 §7.1: chunk-data)", chunked("7\r\nab\r\ncde\r\n0\r\n\r\n"), "ab\r\ncde"),
        ok("pipelined request after a chunked body stays unread (RFC 9112 §9.3.2)", chunked(hello), "hello", then: next),
        ok("bytes after the last chunk belong to the next request (RFC 9112 §6.3)", chunked("0\r\n\r\n"), "", then: "G"),
        ok("chunked body at the body limit (RFC 9110 §15.5.14)", chunked("6\r\nabcdef\r\n4\r\nghij\r\n0\r\n\r\n"), "abcdefghij", limits: tight),
        ok("chunked GET is framed like any request (RFC 9112 §6.3)", "GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "abc"),
        ok("LF-terminated head with CRLF chunks (RFC 9112 §2.2, §7.1)", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n" + hello, "hello"),
        ok("pipelined request after a Content-Length body stays unread (RFC 9112 §6.3)", post("Content-Length: 5\r\n", "hello"), "hello", then: next),
        ok("leading zeros in Content-Length (RFC 9110 §8.6: 1*DIGIT)", post("Content-Length: 005\r\n", "hello"), "hello"),
        wait("chunked body without the last chunk is incomplete (RFC 9112 §7.1)", chunked("5\r\nhello\r\n")),
        wait("last chunk without the final CRLF is incomplete (RFC 9112 §7.1)", chunked("5\r\nhello\r\n0\r\n")),
        wait("unfinished trailer section is incomplete (RFC 9112 §7.1.2)", chunked("0\r\nX: 1\r\n")),
        // Chunk framing errors: a proxy and this server must never disagree on where a chunk ends.
        bad("bare LF after chunk size (RFC 9112 §7.1: CRLF)", chunked("5\nhello\r\n0\r\n\r\n"), 400),
        bad("bare LF after chunk data (RFC 9112 §7.1: CRLF)", chunked("5\r\nhello\n0\r\n\r\n"), 400),
        bad("bare LF after the last chunk (RFC 9112 §7.1: CRLF)", chunked("5\r\nhello\r\n0\n\r\n"), 400),
        bad("bare LF ends the trailer section (RFC 9112 §7.1: CRLF)", chunked("0\r\n\n\r\n"), 400),
        bad("bare CR after chunk size (RFC 9112 §2.2)", chunked("5\rhello\r\n0\r\n\r\n"), 400),
        bad("chunk data longer than its size (RFC 9112 §7.1: CRLF after data)", chunked("3\r\nhello\r\n0\r\n\r\n"), 400),
        bad("chunk data shorter than its size (RFC 9112 §7.1: CRLF after data)", chunked("6\r\nhello\r\n0\r\n\r\n"), 400),
        bad("missing CRLF after chunk data (RFC 9112 §7.1)", chunked("5\r\nhello0\r\n\r\n"), 400),
        bad("non-hex chunk size (RFC 9112 §7.1: HEXDIG)", chunked("g\r\nhello\r\n0\r\n\r\n"), 400),
        bad("empty chunk size (RFC 9112 §7.1: 1*HEXDIG)", chunked("\r\nhello\r\n0\r\n\r\n"), 400),
        bad("chunk size with a plus sign (RFC 9112 §7.1: HEXDIG)", chunked("+5\r\nhello\r\n0\r\n\r\n"), 400),
        bad("chunk size with a minus sign (RFC 9112 §7.1: HEXDIG)", chunked("-5\r\nhello\r\n0\r\n\r\n"), 400),
        bad("chunk size with a leading space (RFC 9112 §7.1: HEXDIG)", chunked(" 5\r\nhello\r\n0\r\n\r\n"), 400),
        bad("chunk size with 0x prefix (RFC 9112 §7.1: HEXDIG)", chunked("0x5\r\nhello\r\n0\r\n\r\n"), 400),
        bad("0x prefix must not read as a zero size (RFC 9112 §7.1.1: chunk-ext starts with ;)", chunked("0x5\r\n\r\n"), 400),
        bad("space inside chunk size (RFC 9112 §7.1.1: chunk-ext starts with ;)", chunked("1 0\r\nX\r\n0\r\n\r\n"), 400),
        bad("chunk size of 17 hex digits overflows (RFC 9112 §7.1)", chunked("10000000000000000\r\n"), 413),
        bad("15-digit chunk size is over the body limit (RFC 9110 §15.5.14)", chunked("fffffffffffffff\r\n"), 413),
        bad("one chunk over maxBodyBytes (RFC 9110 §15.5.14)", chunked("b\r\n"), 413, limits: tight),
        bad("decoded body over maxBodyBytes (RFC 9110 §15.5.14)", chunked("6\r\nabcdef\r\n5\r\nabcde\r\n0\r\n\r\n"), 413, limits: tight),
        bad("NUL in chunk extension (RFC 9112 §7.1.1)", chunked("5;a=\u{0}\r\nhello\r\n0\r\n\r\n"), 400),
        bad("control byte in quoted chunk extension (RFC 9110 §5.6.4: qdtext)", chunked("5;a=\"\u{1}\"\r\nhello\r\n0\r\n\r\n"), 400),
        bad("DEL in chunk extension (RFC 9112 §7.1.1)", chunked("5;a\u{7F}\r\nhello\r\n0\r\n\r\n"), 400),
        bad("bare CR in chunk extension (RFC 9112 §2.2)", chunked("5;a\rb\r\nhello\r\n0\r\n\r\n"), 400),
        bad("chunk line over 4 KiB of extensions (RFC 9112 §7.1.1: limit them)", chunked("5;" + pad(5000) + "\r\nhello\r\n0\r\n\r\n"), 400),
        bad("16 significant hex digits after a leading zero overflow (RFC 9112 §7.1)", chunked("01000000000000000\r\n"), 413),
        bad("unclosed quote in chunk extension (RFC 9110 §5.6.4: quoted-string)", chunked("5;a=\"x\r\nhello\r\n0\r\n\r\n"), 400),
        bad("quote closed only on the next line (RFC 9110 §5.6.4: qdtext has no CR)", chunked("5;a=\"\r\nhel\"\r\n0\r\n\r\n"), 400),
        bad("unclosed quote on the last chunk (RFC 9110 §5.6.4: quoted-string)", chunked("0;a=\"\r\n\r\n"), 400),
        bad("escaped CR in a quoted chunk extension (RFC 9110 §5.6.4: quoted-pair)", chunked("5;a=\"\\\r\nhello\r\n0\r\n\r\n"), 400),
        bad("chunk extension without a name (RFC 9112 §7.1.1: chunk-ext-name = token)", chunked("5;\r\nhello\r\n0\r\n\r\n"), 400),
        bad("chunk extension with only a value (RFC 9112 §7.1.1: chunk-ext-name = token)", chunked("5;=b\r\nhello\r\n0\r\n\r\n"), 400),
        bad("empty chunk extension value (RFC 9112 §7.1.1: chunk-ext-val = token / quoted-string)", chunked("5;a=\r\nhello\r\n0\r\n\r\n"), 400),
        bad("two semicolons in a row (RFC 9112 §7.1.1)", chunked("5;;a\r\nhello\r\n0\r\n\r\n"), 400),
        bad("non-token byte in chunk extension name (RFC 9110 §5.6.2: tchar)", chunked("5;a@b\r\nhello\r\n0\r\n\r\n"), 400),
        bad("bytes after a quoted chunk extension value (RFC 9112 §7.1.1)", chunked("5;a=\"b\"c\r\nhello\r\n0\r\n\r\n"), 400),
        bad("space inside an unquoted chunk extension value (RFC 9110 §5.6.2: token)", chunked("5;a=b c\r\nhello\r\n0\r\n\r\n"), 400),
        bad("whitespace after the last chunk extension (RFC 9112 §7.1.1: BWS only before ; and =)", chunked("5;a=b \r\nhello\r\n0\r\n\r\n"), 400),
        bad("trailer line without colon (RFC 9112 §7.1.2, §5)", chunked("0\r\nX-T b\r\n\r\n"), 400),
        bad("space before colon in trailer (RFC 9112 §5.1)", chunked("0\r\nX-T : b\r\n\r\n"), 400),
        bad("obs-fold in trailer (RFC 9112 §5.2)", chunked("0\r\nX-T: a\r\n b\r\n\r\n"), 400),
        bad("control byte in trailer value (RFC 9110 §5.5)", chunked("0\r\nX-T: a\u{1}\r\n\r\n"), 400),
        bad("empty trailer field name (RFC 9110 §5.1)", chunked("0\r\n: b\r\n\r\n"), 400),
        bad("trailer section over the header limit (RFC 6585 §5)", chunked("0\r\nX: " + pad(200) + "\r\n\r\n"), 431, limits: tight),
        // Transfer-Encoding (RFC 9112 §6.1, §6.3): chunked, once and last, is the only framing served.
        bad("gzip alone is not implemented (RFC 9112 §6.1, RFC 9110 §15.6.2)", te("gzip"), 501),
        bad("gzip then chunked is not implemented (RFC 9112 §6.1)", te("gzip, chunked"), 501),
        bad("identity is no transfer coding (RFC 9112 §7)", te("identity"), 501),
        bad("chunked not last (RFC 9112 §6.3)", te("chunked, gzip"), 400),
        bad("chunked twice in one field (RFC 9112 §6.1: not more than once)", te("chunked, chunked"), 400),
        bad("chunked on two field lines (RFC 9112 §6.1, RFC 9110 §5.3)", post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", hello), 400),
        bad("empty Transfer-Encoding (RFC 9112 §6.1: 1#transfer-coding)", te(""), 400),
        bad("chunked with a parameter is another coding (RFC 9112 §7.1)", te("chunked;q=1"), 501),
        ok("coding names are case-insensitive (RFC 9112 §7)", te("Chunked"), "hello"),
        ok("empty list elements are ignored (RFC 9110 §5.6.1)", te(", chunked"), "hello"),
        ok("trailing OWS after chunked is trimmed (RFC 9112 §5)", te("chunked \t"), "hello"),
        bad("Transfer-Encoding in HTTP/1.0 (RFC 9112 §6.1)", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n" + hello, 400),
        bad("CL.TE: Content-Length then chunked (RFC 9112 §6.1)", post("Content-Length: 6\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\nG"), 400),
        bad("TE.CL: chunked then Content-Length (RFC 9112 §6.1)", post("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", "8\r\nSMUGGLED\r\n0\r\n\r\n"), 400),
        bad("Content-Length: 0 with chunked is still both (RFC 9112 §6.1)", post("Content-Length: 0\r\nTransfer-Encoding: chunked\r\n", hello), 400),
        bad("TE.TE: an unknown coding after chunked (RFC 9112 §6.3)", post("Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n", hello), 400),
        bad("TE.TE: space before colon (RFC 9112 §5.1)", post("Transfer-Encoding : chunked\r\n", hello), 400),
        ok("TE.TE: tab after colon is OWS (RFC 9112 §5)", post("Transfer-Encoding:\tchunked\r\n", hello), "hello"),
        ok("TE.TE: no whitespace after colon (RFC 9112 §5)", post("Transfer-Encoding:chunked\r\n", hello), "hello"),
        ok("TE.TE: mixed case chunked (RFC 9112 §7)", te("cHuNkEd"), "hello"),
        bad("TE.TE: xchunked is an unknown coding (RFC 9112 §6.1)", te("xchunked"), 501),
        bad("TE.TE: quoted chunked is not the token (RFC 9112 §6.1)", te("\"chunked\""), 501),
        bad("TE.TE: obs-fold before the colon (RFC 9112 §5.2)", post("Transfer-Encoding\r\n : chunked\r\n", hello), 400),
        bad("TE.TE: obs-fold before the value (RFC 9112 §5.2)", post("Transfer-Encoding:\r\n chunked\r\n", hello), 400),
        bad("TE.TE: NUL in field name (RFC 9110 §5.1)", post("Transfer-Encoding\u{0}: chunked\r\n", hello), 400),
        bad("TE.TE: space inside field name (RFC 9110 §5.1)", post("Transfer Encoding: chunked\r\n", hello), 400),
        bad("TE.TE: vertical tab before value (RFC 9110 §5.5)", te("\u{B}chunked"), 400),
        bad("TE.TE: bare CR after chunked (RFC 9112 §2.2)", post("Transfer-Encoding: chunked\rX: y\r\n", hello), 400),
        ok("Transfer_Encoding is another field, so no body (RFC 9110 §5.1)", post("Transfer_Encoding: chunked\r\n", ""), "", then: "0\r\n\r\n"),
        bad("Content-Length obs-folded (RFC 9112 §5.2)", post("Content-Length:\r\n 5\r\n", "hello"), 400),
        bad("space before colon in Content-Length (RFC 9112 §5.1)", post("Content-Length : 5\r\n", "hello"), 400),
        // Expect (RFC 9110 §10.1.1).
        ok("Expect: 100-continue is accepted (RFC 9110 §10.1.1)", post("Expect: 100-continue\r\nContent-Length: 5\r\n", "hello"), "hello"),
        ok("Expect is case-insensitive (RFC 9110 §10.1.1)", post("Expect: 100-Continue\r\nContent-Length: 5\r\n", "hello"), "hello"),
        ok("100-continue with a chunked body (RFC 9110 §10.1.1)", post("Expect: 100-continue\r\nTransfer-Encoding: chunked\r\n", hello), "hello"),
        bad("unknown expectation gets 417 (RFC 9110 §10.1.1)", get("Expect: 200-ok\r\n"), 417),
        bad("100-continue with another expectation gets 417 (RFC 9110 §10.1.1)", get("Expect: 100-continue, x\r\n"), 417),
        ok("Expect is ignored from HTTP/1.0 (RFC 9110 §10.1.1)", "GET / HTTP/1.0\r\nExpect: x\r\n\r\n", ""),
        // Host (RFC 9112 §3.2, RFC 9110 §7.2, RFC 3986 §3.2.2).
        bad("space inside Host (RFC 9110 §7.2)", host("a b"), 400),
        bad("userinfo @ in Host (RFC 9110 §7.2)", host("u@h"), 400),
        bad("path / in Host (RFC 9110 §7.2)", host("h/x"), 400),
        bad("query ? in Host (RFC 9110 §7.2)", host("h?x"), 400),
        bad("non-ASCII byte in Host (RFC 3986 §3.2.2)", host("h\u{E9}"), 400),
        ok("IPv6 literal with port in Host (RFC 3986 §3.2.2)", host("[::1]:8080"), ""),
        ok("empty Host (RFC 9110 §7.2)", host(""), ""),
        ok("host and port (RFC 9110 §7.2)", host("example.com:80"), ""),
        ok("percent-encoded reg-name (RFC 3986 §3.2.2)", host("ex%41mple"), ""),
        bad("absolute-form without Host in HTTP/1.1 (RFC 9112 §3.2)", "GET http://a/b HTTP/1.1\r\n\r\n", 400),
        // Request line (RFC 9112 §3).
        ok("lowercase method is a token (RFC 9110 §9.1)", requestLine("get / HTTP/1.1"), ""),
        ok("extension method token (RFC 9110 §9.1)", requestLine("M-SEARCH /x HTTP/1.1"), ""),
        ok("absolute-form target (RFC 9112 §3.2.2)", "GET http://a/b HTTP/1.1\r\nHost: a\r\n\r\n", ""),
        ok("asterisk-form target (RFC 9112 §3.2.4)", requestLine("OPTIONS * HTTP/1.1"), ""),
        ok("authority-form target (RFC 9112 §3.2.3)", requestLine("CONNECT a:443 HTTP/1.1"), ""),
        ok("absolute-form with https in any case, port and query (RFC 9112 §3.2.2, RFC 3986 §3.1)", requestLine("GET HTTPS://a:8443/b?c HTTP/1.1"), ""),
        ok("absolute-form with an empty path (RFC 9112 §3.2.2, RFC 9110 §4.2.3)", requestLine("GET http://a HTTP/1.1"), ""),
        ok("absolute-form with an empty path and a query (RFC 3986 §3: path-abempty)", requestLine("GET http://a?q HTTP/1.1"), ""),
        ok("authority-form with an IPv6 literal (RFC 9112 §3.2.3, RFC 3986 §3.2.2)", requestLine("CONNECT [::1]:443 HTTP/1.1"), ""),
        ok("OPTIONS with origin-form (RFC 9110 §9.3.7)", requestLine("OPTIONS /x HTTP/1.1"), ""),
        bad("asterisk-form with GET (RFC 9112 §3.2.4: only OPTIONS)", requestLine("GET * HTTP/1.1"), 400),
        bad("asterisk followed by more bytes (RFC 9112 §3.2.4)", requestLine("OPTIONS *x HTTP/1.1"), 400),
        bad("authority-form with GET (RFC 9112 §3.2.3: only CONNECT)", requestLine("GET a:443 HTTP/1.1"), 400),
        bad("relative path is no request-target form (RFC 9112 §3.2)", requestLine("GET foo/bar HTTP/1.1"), 400),
        bad("CONNECT with origin-form (RFC 9112 §3.2.3, RFC 9110 §9.3.6)", requestLine("CONNECT / HTTP/1.1"), 400),
        bad("CONNECT with absolute-form (RFC 9112 §3.2.3)", requestLine("CONNECT http://a:443/ HTTP/1.1"), 400),
        bad("CONNECT without a port (RFC 9112 §3.2.3: uri-host \":\" port)", requestLine("CONNECT a HTTP/1.1"), 400),
        bad("CONNECT without a host (RFC 9112 §3.2.3: uri-host)", requestLine("CONNECT :443 HTTP/1.1"), 400),
        bad("CONNECT with userinfo (RFC 9112 §3.2.3)", requestLine("CONNECT u@a:443 HTTP/1.1"), 400),
        bad("connect in lowercase is another method (RFC 9110 §9.1: case-sensitive)", requestLine("connect a:443 HTTP/1.1"), 400),
        bad("absolute-form with an empty host (RFC 9110 §4.2.1)", requestLine("GET http:///x HTTP/1.1"), 400),
        bad("absolute-form with userinfo (RFC 9110 §4.2.4)", requestLine("GET http://u@a/x HTTP/1.1"), 400),
        bad("absolute-form with a fragment (RFC 9112 §3.2.2: absolute-URI)", requestLine("GET http://a#f HTTP/1.1"), 400),
        bad("absolute-form of a scheme other than http(s) (RFC 9110 §4.2)", requestLine("GET ftp://a/x HTTP/1.1"), 400),
        bad("scheme without // is no absolute-form with an authority (RFC 9110 §4.2.1)", requestLine("GET http:a/x HTTP/1.1"), 400),
        bad("tab between method and target (RFC 9112 §3: SP)", requestLine("GET\t/ HTTP/1.1"), 400),
        bad("tab between target and version (RFC 9112 §3: SP)", requestLine("GET /\tHTTP/1.1"), 400),
        bad("trailing space after version, LF line end (RFC 9112 §3)", "GET / HTTP/1.1 \nHost: h\n\n", 400),
        bad("trailing tab after version (RFC 9112 §3)", requestLine("GET / HTTP/1.1\t"), 400),
        bad("space inside target (RFC 9112 §3.2)", requestLine("GET /a b HTTP/1.1"), 400),
        bad("NUL in method (RFC 9110 §9.1)", requestLine("G\u{0}ET / HTTP/1.1"), 400),
        bad("version without minor (RFC 9112 §2.3)", requestLine("GET / HTTP/1"), 400),
        bad("HTTP/0.9 as a version is not supported (RFC 9110 §15.6.6)", requestLine("GET / HTTP/0.9"), 505),
    ]

    // MARK: Checking a row

    private func check(_ row: Row) {
        var bytes = Array((row.request + row.next).utf8)
        let parser = RequestParser(limits: row.limits)
        var progress = ParseProgress()
        let result = bytes.withUnsafeBytes { parser.parse($0, progress: &progress) }
        XCTAssertEqual(Verdict(result), row.expected, row.name, line: row.line)
        guard row.expected == .accepted, case .complete(let head) = result else { return }
        XCTAssertEqual(head.totalLength, row.request.utf8.count, "message ends where the next begins: " + row.name, line: row.line)
        XCTAssertEqual(decodedBody(&bytes, head, row), row.body, "body: " + row.name, line: row.line)
    }

    /// The body after the head, chunk framing removed in place as the server does.
    private func decodedBody(_ bytes: inout [UInt8], _ head: RequestHead, _ row: Row) -> String {
        let length = head.isChunked
            ? bytes.withUnsafeMutableBytes { ChunkedBody.decode($0, from: head.headLength) }
            : head.bodyLength
        XCTAssertEqual(length, head.bodyLength, "decoded length: " + row.name, line: row.line)
        return String(decoding: bytes[head.headLength..<head.headLength + length], as: UTF8.self)
    }

    // MARK: Building rows

    private static func post(_ fields: String, _ body: String) -> String {
        "POST / HTTP/1.1\r\nHost: h\r\n\(fields)\r\n\(body)"
    }

    private static func chunked(_ body: String) -> String { post("Transfer-Encoding: chunked\r\n", body) }
    private static func te(_ value: String) -> String { post("Transfer-Encoding: \(value)\r\n", hello) }
    private static func get(_ fields: String) -> String { "GET / HTTP/1.1\r\nHost: h\r\n\(fields)\r\n" }
    private static func host(_ value: String) -> String { "GET / HTTP/1.1\r\nHost: \(value)\r\n\r\n" }
    private static func requestLine(_ text: String) -> String { "\(text)\r\nHost: h\r\n\r\n" }
    private static func pad(_ count: Int) -> String { String(repeating: "a", count: count) }

    private static func ok(_ name: String, _ request: String, _ body: String, then next: String = "",
                           limits: RequestLimits = RequestLimits(), line: UInt = #line) -> Row {
        Row(name: name, request: request, next: next, expected: .accepted, body: body, limits: limits, line: line)
    }

    private static func bad(_ name: String, _ request: String, _ code: Int,
                            limits: RequestLimits = RequestLimits(), line: UInt = #line) -> Row {
        Row(name: name, request: request, next: "", expected: .rejected(code), body: "", limits: limits, line: line)
    }

    private static func wait(_ name: String, _ request: String, line: UInt = #line) -> Row {
        Row(name: name, request: request, next: "", expected: .incomplete, body: "", limits: RequestLimits(), line: line)
    }
}

/// One table row: the rule (and its RFC section), the request, what may follow it, and the verdict.
private struct Row {
    let name: String
    let request: String
    /// Bytes of the next pipelined request, which must not be read as this one's body.
    let next: String
    let expected: Verdict
    /// The decoded body of an accepted request.
    let body: String
    let limits: RequestLimits
    let line: UInt
}

