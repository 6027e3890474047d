// FileSemanticsTable: the rows: /a.txt is 1000 bytes ("abc…z" repeated) last
// modified at 1600000000 (Sun, 13 Sep 2020 12:26:40 GMT); /empty.txt is empty.
// Every deliberate difference from nginx 1.22 is explained beside its row.

enum FileSemanticsTable {
    static let lastModified = 1_600_000_000
    static let before = "Sun, 13 Sep 2020 12:26:39 GMT"
    static let after = "Sun, 13 Sep 2020 12:26:41 GMT"
    static let rfc850 = "Sunday, 13-Sep-20 12:26:40 GMT"
    static let asctime = "Sun Sep 13 12:26:40 2020"

    static let malformed = "RFC 9110 §14.2 lets a server ignore a malformed Range (RFC 7233 §3.1 and 2616 said to); nginx answers 416"
    static let exactDate = "RFC 9110 §13.1.3: not modified when Last-Modified is no later than the date; nginx's default `if_modified_since exact` wants equality"

    static let rows: [FileSemanticsCase] = plain + singleRanges + unsatisfiable + invalidRanges + multipart
        + ifRange + ifNoneMatch + ifModifiedSince + ifMatch + ifUnmodifiedSince + edges

    static let plain: [FileSemanticsCase] = [
        .init("plain GET", [], 200, .whole),
        .init("plain HEAD", method: "HEAD", [], 200, .none),
    ]

    static let singleRanges: [FileSemanticsCase] = [
        .init("first hundred", ["Range: bytes=0-99"], 206, .part(0, 99)),
        .init("a middle range", ["Range: bytes=100-199"], 206, .part(100, 199)),
        .init("open-ended", ["Range: bytes=990-"], 206, .part(990, 999)),
        .init("suffix", ["Range: bytes=-10"], 206, .part(990, 999)),
        .init("suffix of the whole length", ["Range: bytes=-1000"], 206, .part(0, 999)),
        .init("suffix longer than the file", ["Range: bytes=-5000"], 206, .part(0, 999)),
        .init("last past the end is clamped", ["Range: bytes=900-5000"], 206, .part(900, 999)),
        .init("the last byte", ["Range: bytes=999-999"], 206, .part(999, 999)),
        .init("the first byte", ["Range: bytes=0-0"], 206, .part(0, 0)),
        .init("from zero", ["Range: bytes=0-"], 206, .part(0, 999)),
        .init("unit in capitals", ["Range: BYTES=0-9"], 206, .part(0, 9)),
        .init("spaces in the set", ["Range: bytes= 0-9 "], 206, .part(0, 9)),
        .init("one satisfiable of two", ["Range: bytes=0-9,2000-3000"], 206, .part(0, 9)),
        .init("satisfiable second", ["Range: bytes=2000-,10-19"], 206, .part(10, 19)),
    ]

    static let unsatisfiable: [FileSemanticsCase] = [
        .init("first at the length", ["Range: bytes=1000-"], 416, .errorPage),
        .init("entirely past the end", ["Range: bytes=1000-2000"], 416, .errorPage),
        .init("empty suffix", ["Range: bytes=-0"], 416, .errorPage),
        .init("two past the end", ["Range: bytes=5000-,6000-"], 416, .errorPage),
        .init("first beyond any file", ["Range: bytes=99999999999999999999999-"], 416, .errorPage),
    ]

    static let invalidRanges: [FileSemanticsCase] = [
        .init("not a range", ["Range: bytes=abc"], 200, .whole, nginx: (416, malformed)),
        .init("last before first", ["Range: bytes=9-0"], 200, .whole, nginx: (416, malformed + " (§14.1.1: invalid)")),
        .init("an empty set", ["Range: bytes="], 200, .whole),
        .init("a lone dash", ["Range: bytes=-"], 200, .whole, nginx: (416, malformed)),
        .init("trailing garbage", ["Range: bytes=0-9;x"], 200, .whole, nginx: (416, malformed)),
        .init("another unit", ["Range: items=0-9"], 200, .whole),
        .init("no equals sign", ["Range: bytes 0-9"], 200, .whole),
        .init("last beyond any file", ["Range: bytes=0-99999999999999999999999"], 206, .part(0, 999),
              nginx: (416, "§14.1.2: a last position past the end means the end; nginx refuses the overflowing number")),
    ]

    static let multipart: [FileSemanticsCase] = [
        .init("two ranges", ["Range: bytes=0-9,20-29"], 206, .parts([(0, 9), (20, 29)])),
        .init("in the order asked", ["Range: bytes=20-29,0-9"], 206, .parts([(20, 29), (0, 9)])),
        .init("overlapping, not coalesced", ["Range: bytes=0-9,5-14"], 206, .parts([(0, 9), (5, 14)])),
        .init("three with a suffix", ["Range: bytes=0-1,5-6,-3"], 206, .parts([(0, 1), (5, 6), (997, 999)])),
        .init("unsatisfiable one dropped", ["Range: bytes=0-9,1000-2000,20-29"], 206, .parts([(0, 9), (20, 29)])),
        .init("halves adding up to the whole", ["Range: bytes=0-499,500-999"], 206, .parts([(0, 499), (500, 999)])),
        .init("more than the whole: sent whole", ["Range: bytes=0-500,500-999"], 200, .whole),
        .init("twice the whole: sent whole", ["Range: bytes=0-,0-"], 200, .whole),
        .init("64 parts", ["Range: bytes=" + (0..<64).map { "\($0 * 2)-\($0 * 2)" }.joined(separator: ",")],
              206, .parts((0..<64).map { ($0 * 2, $0 * 2) })),
        .init("65 parts: sent whole", ["Range: bytes=" + (0..<65).map { "\($0 * 2)-\($0 * 2)" }.joined(separator: ",")],
              200, .whole, nginx: (206, "a bound on parts (ByteRanges.maximumParts) keeps tiny ranges from costing a part header each; nginx's max_ranges is unlimited by default")),
        .init("empty list elements", ["Range: bytes=0-9,,-5"], 206, .parts([(0, 9), (995, 999)]),
              nginx: (416, "RFC 9110 §5.6.1: a recipient accepts empty list elements; nginx refuses them")),
    ]

    static let ifRange: [FileSemanticsCase] = [
        .init("If-Range with the ETag", ["If-Range: {etag}", "Range: bytes=0-9"], 206, .part(0, 9)),
        .init("If-Range with a weak ETag", ["If-Range: {weak}", "Range: bytes=0-9"], 200, .whole),
        .init("If-Range with another ETag", ["If-Range: \"other\"", "Range: bytes=0-9"], 200, .whole),
        .init("If-Range with Last-Modified", ["If-Range: {lm}", "Range: bytes=0-9"], 206, .part(0, 9)),
        .init("If-Range with a later date", ["If-Range: \(after)", "Range: bytes=0-9"], 200, .whole),
        .init("If-Range with an earlier date", ["If-Range: \(before)", "Range: bytes=0-9"], 200, .whole),
        .init("If-Range not a date", ["If-Range: yesterday", "Range: bytes=0-9"], 200, .whole),
        .init("If-Range and several ranges", ["If-Range: {etag}", "Range: bytes=0-1,3-4"], 206, .parts([(0, 1), (3, 4)])),
        .init("If-Range and an unsatisfiable range", ["If-Range: {etag}", "Range: bytes=1000-"], 416, .errorPage),
        .init("failed If-Range, unsatisfiable range", ["If-Range: \"other\"", "Range: bytes=1000-"], 200, .whole),
        .init("If-Range without Range", ["If-Range: {etag}"], 200, .whole),
    ]

    static let ifNoneMatch: [FileSemanticsCase] = [
        .init("If-None-Match with the ETag", ["If-None-Match: {etag}"], 304, .none),
        .init("If-None-Match with it weak", ["If-None-Match: {weak}"], 304, .none),
        .init("If-None-Match star", ["If-None-Match: *"], 304, .none),
        .init("If-None-Match list", ["If-None-Match: \"x\", {etag}"], 304, .none),
        .init("If-None-Match list of weak tags", ["If-None-Match: W/\"x\",{weak}"], 304, .none),
        .init("If-None-Match others", ["If-None-Match: \"x\", \"y\""], 200, .whole),
        .init("If-None-Match without a comma", ["If-None-Match: \"x\" {etag}"], 200, .whole),
        .init("If-None-Match on HEAD", method: "HEAD", ["If-None-Match: {etag}"], 304, .none),
        .init("If-None-Match before Range", ["If-None-Match: {etag}", "Range: bytes=0-9"], 304, .none),
        .init("If-None-Match other, Range", ["If-None-Match: \"x\"", "Range: bytes=0-9"], 206, .part(0, 9)),
        .init("If-Modified-Since ignored beside If-None-Match", ["If-None-Match: \"x\"", "If-Modified-Since: {lm}"],
              200, .whole),
        .init("If-None-Match wins over an older If-Modified-Since", ["If-None-Match: {etag}", "If-Modified-Since: \(before)"],
              304, .none, nginx: (200, "RFC 9110 §13.1.3: If-Modified-Since is ignored when If-None-Match is present; nginx requires both to hold")),
    ]

    static let ifModifiedSince: [FileSemanticsCase] = [
        .init("If-Modified-Since at Last-Modified", ["If-Modified-Since: {lm}"], 304, .none),
        .init("If-Modified-Since later", ["If-Modified-Since: \(after)"], 304, .none, nginx: (200, exactDate)),
        .init("If-Modified-Since earlier", ["If-Modified-Since: \(before)"], 200, .whole),
        .init("If-Modified-Since in the future", ["If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT"], 200, .whole),
        .init("If-Modified-Since not a date", ["If-Modified-Since: yesterday"], 200, .whole),
        .init("If-Modified-Since as RFC 850", ["If-Modified-Since: \(rfc850)"], 304, .none),
        .init("If-Modified-Since as asctime", ["If-Modified-Since: \(asctime)"], 304, .none),
        .init("If-Modified-Since on HEAD", method: "HEAD", ["If-Modified-Since: {lm}"], 304, .none),
        .init("If-Modified-Since earlier, Range", ["If-Modified-Since: \(before)", "Range: bytes=0-9"], 206, .part(0, 9)),
    ]

    static let ifMatch: [FileSemanticsCase] = [
        .init("If-Match with the ETag", ["If-Match: {etag}"], 200, .whole),
        .init("If-Match star", ["If-Match: *"], 200, .whole),
        .init("If-Match list", ["If-Match: \"x\", {etag}"], 200, .whole),
        .init("If-Match another", ["If-Match: \"x\""], 412, .errorPage),
        .init("If-Match weak: strong comparison", ["If-Match: {weak}"], 412, .errorPage),
        .init("If-Match and Range", ["If-Match: {etag}", "Range: bytes=0-9"], 206, .part(0, 9)),
        .init("If-Match fails before If-None-Match", ["If-Match: \"x\"", "If-None-Match: {etag}"], 412, .errorPage),
        .init("If-Match on HEAD fails", method: "HEAD", ["If-Match: \"x\""], 412, .none),
    ]

    static let ifUnmodifiedSince: [FileSemanticsCase] = [
        .init("If-Unmodified-Since at Last-Modified", ["If-Unmodified-Since: {lm}"], 200, .whole),
        .init("If-Unmodified-Since later", ["If-Unmodified-Since: \(after)"], 200, .whole),
        .init("If-Unmodified-Since earlier", ["If-Unmodified-Since: \(before)"], 412, .errorPage),
        .init("If-Unmodified-Since not a date", ["If-Unmodified-Since: yesterday"], 200, .whole,
              nginx: (412, "RFC 9110 §13.1.4: an invalid date is ignored; nginx fails the precondition")),
        .init("If-Unmodified-Since ignored beside If-Match", ["If-Match: {etag}", "If-Unmodified-Since: \(before)"],
              200, .whole, nginx: (412, "RFC 9110 §13.2.2: If-Unmodified-Since is evaluated only without If-Match; nginx checks both")),
        .init("If-Unmodified-Since fails before If-None-Match", ["If-Unmodified-Since: \(before)", "If-None-Match: {etag}"],
              412, .errorPage),
    ]

    static let edges: [FileSemanticsCase] = [
        .init("an empty file", path: "/empty.txt", [], 200, .whole),
        .init("an empty file with a Range", path: "/empty.txt", ["Range: bytes=0-"], 200, .whole),
        .init("an empty file not modified", path: "/empty.txt", ["If-None-Match: {etag}"], 304, .none),
        .init("HEAD with a Range", method: "HEAD", ["Range: bytes=0-9"], 200, .none,
              nginx: (206, "RFC 9110 §14.2: a server MUST ignore Range on methods other than GET; nginx answers HEAD with a 206's head")),
        .init("HTTP-date with the wrong weekday", ["If-Modified-Since: Mon, 13 Sep 2020 12:26:40 GMT"], 304, .none),
    ]
}
