// What the HTTP semantics of a file answer (FileResponse: validators,
// preconditions, ranges) cost in heap allocations, against the plain 200 they
// replaced: a request with none of the conditional fields must cost no more.
import Glibc
import Server
import XCTest

final class FileAnswerBenchmarks: XCTestCase {
    func testAllocationsOfFileAnswers() throws {
        var template = Array("/tmp/file-answer-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        XCTAssertGreaterThanOrEqual(fd, 0)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        let bytes = [UInt8](repeating: 97, count: 1000)
        XCTAssertEqual(write(fd, bytes, bytes.count), bytes.count)
        var status = stat()
        XCTAssertEqual(fstat(fd, &status), 0)
        let file = SharedFile(owning: fd)
        let validators = Validators(RepresentationFacts(status))
        let mediaType = MediaType("text/plain; charset=utf-8")!

        let plainBaseline = Measure.allocations(of: "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n") { _ in
            var response = Response()
            response.status = .ok
            response.mediaType = mediaType
            response.body = .file(FileRegion(sharing: file, offset: 0, length: validators.facts.size))
        }
        let rows: [(String, String)] = [
            ("plain GET", ""),
            ("If-None-Match, 304", "If-None-Match: \(validators.entityTag)\r\n"),
            ("If-Modified-Since, 304", "If-Modified-Since: \(validators.lastModified)\r\n"),
            ("Range, 206", "Range: bytes=0-9\r\n"),
        ]
        var measured: [String: Double] = [:]
        for (name, fields) in rows {
            measured[name] = Measure.allocations(of: "GET /a.txt HTTP/1.1\r\nHost: x\r\nUser-Agent: bench\r\n\(fields)\r\n") { request in
                var response = Response()
                FileResponse.answer(request, file: file, validators: validators, mediaType: mediaType, with: &response)
            }
        }
        Measure.report("file answer allocations", "plain 200 by hand \(plainBaseline), "
                       + rows.map { "\($0.0) \(measured[$0.0]!)" }.joined(separator: ", "))
        XCTAssertLessThanOrEqual(measured["plain GET"]!, plainBaseline, "the semantics add no allocation to a plain GET")
    }
}
