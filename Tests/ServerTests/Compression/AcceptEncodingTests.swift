// AcceptEncoding: a table of Accept-Encoding values (RFC 9110 §12.5.3) and the
// coding chosen for a response that can offer br, gzip and identity, or only
// gzip and identity (on-the-fly compression), plus the q-value grammar (§12.4.2).
import XCTest
@testable import HTTP1

final class AcceptEncodingTests: XCTestCase {
    /// (field values, chosen among br+gzip+identity, chosen among gzip+identity, why)
    static let table: [(values: [String]?, all: ContentCoding, gzipOnly: ContentCoding, why: String)] = [
        (nil, .identity, .identity, "no field: identity, as nginx (old clients without the field may not decode)"),
        ([""], .identity, .identity, "an empty value asks for no coding"),
        (["gzip"], .gzip, .gzip, "gzip alone"),
        (["br"], .br, .identity, "br alone; identity stays acceptable by default"),
        (["gzip, deflate, br"], .br, .gzip, "a browser's list: ties go to the smaller coding"),
        (["gzip, deflate, br, zstd"], .br, .gzip, "unknown codings are ignored"),
        (["br;q=0.5, gzip"], .gzip, .gzip, "the higher weight wins over the server's preference"),
        (["br;q=1.0, gzip;q=0.9"], .br, .gzip, "weights with decimals"),
        (["gzip;q=0"], .identity, .identity, "q=0 excludes"),
        (["gzip;q=0.000"], .identity, .identity, "q=0.000 excludes"),
        (["gzip;q=0.001"], .gzip, .gzip, "the smallest positive weight still beats implicit identity"),
        (["GZIP"], .gzip, .gzip, "codings are case-insensitive"),
        (["Gzip;Q=0.5"], .gzip, .gzip, "the parameter name too"),
        (["x-gzip"], .gzip, .gzip, "x-gzip is gzip (§8.4.1.3)"),
        (["  gzip  ;  q=0.7  ,  br ; q=0.8 "], .br, .gzip, "whitespace around separators"),
        (["\tgzip\t"], .gzip, .gzip, "tabs are whitespace too"),
        ([",,gzip,,"], .gzip, .gzip, "empty list elements are skipped (§5.6.1)"),
        (["*"], .br, .gzip, "* accepts every coding"),
        (["*;q=0"], .identity, .identity, "*;q=0 excludes everything, identity too: identity is still sent (no 406)"),
        (["*;q=0, identity"], .identity, .identity, "identity listed after *;q=0"),
        (["*;q=0, gzip"], .gzip, .gzip, "a listed coding beats *;q=0"),
        (["*, gzip;q=0"], .br, .identity, "* accepts br and identity, gzip is excluded"),
        (["identity;q=0, gzip"], .gzip, .gzip, "identity excluded, gzip listed"),
        (["identity;q=0"], .identity, .identity, "nothing acceptable: identity anyway"),
        (["identity, gzip;q=0.5"], .identity, .identity, "identity listed with the higher weight"),
        (["identity;q=0.5, gzip;q=0.5"], .gzip, .gzip, "a tie goes to gzip over identity"),
        (["gzip;q=1.5"], .identity, .identity, "a weight above 1 is malformed: the element is ignored"),
        (["gzip;q=abc"], .identity, .identity, "a non-numeric weight is malformed"),
        (["gzip;q=0.12345"], .identity, .identity, "more than three decimals is malformed"),
        (["gzip;q="], .identity, .identity, "an empty weight is malformed"),
        (["gzip;q"], .identity, .identity, "a parameter without = is malformed"),
        (["gzip;q=0.5;foo=bar"], .gzip, .gzip, "another parameter is ignored"),
        (["gzip;foo=bar"], .gzip, .gzip, "another parameter alone leaves weight 1"),
        (["gz ip"], .identity, .identity, "a space inside a coding is not a coding"),
        (["gzip\"", "br"], .br, .identity, "a stray byte spoils only its element"),
        (["gzip;q=0", "gzip"], .identity, .identity, "the first listing of a coding stands"),
        (["br;q=0.2", "gzip;q=0.3"], .gzip, .gzip, "several field lines are one list (§5.3)"),
        (["identity"], .identity, .identity, "identity only"),
        ([";q=1"], .identity, .identity, "parameters without a coding"),
        (["gzip;q=1.000"], .gzip, .gzip, "1.000 is the most a weight may say"),
        (["gzip;q=1.001"], .identity, .identity, "1.001 is malformed"),
        (["br;q=0.9, gzip;q=0.9, identity;q=0.9"], .br, .gzip, "a three-way tie goes to br"),
        (["deflate"], .identity, .identity, "deflate is not offered"),
        (["compress, gzip;q=0.1"], .gzip, .gzip, "gzip at a low weight is still preferred to implicit identity"),
    ]

    func testTheChosenCodingFollowsTheClientsWeights() {
        for row in Self.table {
            let accepted = Self.parse(row.values)
            XCTAssertEqual(accepted.preferred(among: [.identity, .gzip, .br]), row.all, "\(row.values ?? []): \(row.why)")
            XCTAssertEqual(accepted.preferred(among: [.identity, .gzip]), row.gzipOnly, "\(row.values ?? []): \(row.why)")
        }
    }

    func testWeightsAreReadInThousandths() {
        let accepted = Self.parse(["gzip;q=0.5, br;q=0.25, identity;q=0.125"])
        XCTAssertEqual(accepted.quality(of: .gzip), 500)
        XCTAssertEqual(accepted.quality(of: .br), 250)
        XCTAssertEqual(accepted.quality(of: .identity), 125)
        XCTAssertTrue(accepted.present)
        XCTAssertFalse(AcceptEncoding().present)
    }

    func testQValueGrammar() {
        let cases: [(String, Int?)] = [("1", 1000), ("0", 0), ("0.5", 500), ("0.05", 50), ("0.005", 5), ("1.", 1000),
                                       ("0.", 0), ("1.0", 1000), ("1.00", 1000), ("1.000", 1000), ("1.1", nil),
                                       ("2", nil), ("", nil), (".5", nil), ("0.5000", nil), ("0,5", nil), ("-0", nil)]
        for (text, expected) in cases {
            let parsed = Array(text.utf8).withUnsafeBytes { AcceptEncoding.qvalue($0) }
            XCTAssertEqual(parsed, expected, "q=\(text)")
        }
    }

    func testCompressibleTypesAreTextAndStructuredText() {
        let compressible: [StaticString] = ["text/html", "text/plain; charset=utf-8", "TEXT/CSS", "application/json",
                                            "application/javascript", "image/svg+xml", "application/ld+json",
                                            "application/wasm", "application/xml;charset=utf-8", "application/atom+xml"]
        let incompressible: [StaticString] = ["image/png", "image/jpeg", "application/octet-stream", "application/zip",
                                              "video/mp4", "font/woff2", "text", "text/", "application/gzip", "+json"]
        for type in compressible { XCTAssertTrue(CompressibleTypes.contains(type), "\(type)") }
        for type in incompressible { XCTAssertFalse(CompressibleTypes.contains(type), "\(type)") }
    }

    private static func parse(_ values: [String]?) -> AcceptEncoding {
        var accepted = AcceptEncoding()
        for value in values ?? [] { Array(value.utf8).withUnsafeBytes { accepted.add($0) } }
        return accepted
    }
}

final class PrecompressedSiblingChoiceTests: XCTestCase {
    func testSiblingsAreTriedByWeightThenSmallestAndOnlyWhenAtLeastAsWelcomeAsIdentity() {
        // (Accept-Encoding, siblings present, expected choice, codings tried in order)
        let table: [(String?, Set<ContentCoding>, ContentCoding?, [ContentCoding])] = [
            (nil, [.br, .gzip], nil, []),
            ("gzip", [.br, .gzip], .gzip, [.gzip]),
            ("br, gzip", [.br, .gzip], .br, [.br]),
            ("br, gzip", [.gzip], .gzip, [.br, .gzip]),
            ("br;q=0.5, gzip", [.br, .gzip], .gzip, [.gzip]),
            ("br;q=0.5, gzip", [.br], .br, [.gzip, .br]),
            ("identity, gzip;q=0.5", [.gzip], nil, []),
            ("identity;q=0.5, gzip;q=0.5", [.gzip], .gzip, [.gzip]),
            ("gzip;q=0, br;q=0", [.br, .gzip], nil, []),
            ("*", [.gzip], .gzip, [.br, .gzip]),
            ("br, gzip", [], nil, [.br, .gzip]),
        ]
        for (value, present, expected, order) in table {
            var accepted = AcceptEncoding()
            if let value { Array(value.utf8).withUnsafeBytes { accepted.add($0) } }
            var tried: [ContentCoding] = []
            let chosen = PrecompressedSiblings.choose(for: accepted) { coding -> ContentCoding? in
                tried.append(coding)
                return present.contains(coding) ? coding : nil
            }
            XCTAssertEqual(chosen?.coding, expected, "\(value ?? "none")")
            XCTAssertEqual(tried, order, "\(value ?? "none")")
        }
    }
}
