// FuzzVerdict: the checks on a finished run. What the client read must be whole
// responses back to back (status line, header block, the body its Content-Length
// gives), the handler's in the order it made them, at most one error and nothing
// after a response that closes. What the handler saw must be what a reader of the
// whole stream finds (the model: the parser over all the bytes sent, request after
// request): always a prefix of it, and all of it when nothing but the client ended
// the exchange. Tests/ServerTests/Fuzz/ConnectionRun.swift checks the same in XCTest.
import Glibc
import HTTP1
import ServerSystem

struct FuzzOutcome {
    let sent: [UInt8]
    let received: [UInt8]
    let calls: [FuzzCall]
    let limits: RequestLimits
    /// Everything the server wrote has been read: the stream must end on a response boundary.
    let readToEnd: Bool
    /// A timeout, a drain or a reset may have ended the exchange before the model's end.
    let interrupted: Bool
}

/// FUZZ_TRACE=1 in the environment prints each run's setup, script and outcome (to read what a seed does).
let fuzzTracing = getenv("FUZZ_TRACE") != nil

enum FuzzVerdict {
    static func check(_ outcome: FuzzOutcome) {
        let (expectedCalls, expectedError) = model(outcome.sent, limits: outcome.limits)
        fuzzAssert(outcome.calls.count <= expectedCalls.count && zip(outcome.calls, expectedCalls).allSatisfy(sameRequest),
                   "the handler saw \(outcome.calls.count) requests, not a prefix of the \(expectedCalls.count) sent")
        let codes = statusCodes(outcome)
        if fuzzTracing {
            print("sent \(outcome.sent.count) B, read \(outcome.received.count) B; handler calls \(outcome.calls.count), "
                  + "model \(expectedCalls.count) + \(String(describing: expectedError)); responses \(codes); "
                  + "interrupted \(outcome.interrupted), read to the end \(outcome.readToEnd)")
        }
        let finals = codes.filter { $0 != 100 }
        let errors = finals.filter { $0 != 200 }
        fuzzAssert(codes.count - finals.count <= outcome.calls.count + 1, "\(codes.count - finals.count) interim responses")
        if let error = errors.first {
            // A timeout answers 408; otherwise the refusal is the model's, or one decided before
            // all the bytes were in (414 or 431 for a head still growing; see ParserPropertyTests).
            let early = expectedError != nil && [414, 431].contains(error)
            fuzzAssert(error == 408 || error == expectedError?.code || early,
                       "answered \(error), the model says \(String(describing: expectedError))")
        }
        // A 408 from the body rate ends the exchange early too, as a timeout does.
        guard !outcome.interrupted && !errors.contains(408) && outcome.readToEnd else { return }
        fuzzAssert(outcome.calls.count == expectedCalls.count,
                   "the handler saw \(outcome.calls.count) of the \(expectedCalls.count) requests sent, uninterrupted")
        fuzzAssert(finals.count - errors.count == outcome.calls.count,
                   "\(finals.count - errors.count) responses to \(outcome.calls.count) calls")
        fuzzAssert((expectedError == nil) == errors.isEmpty, "errors \(errors), the model says \(String(describing: expectedError))")
    }

    /// The handler's view is compared, not the response size it chose.
    private static func sameRequest(_ call: FuzzCall, _ expected: FuzzCall) -> Bool {
        call.body == expected.body && call.isHead == expected.isHead && call.closes == expected.closes
    }

    /// The requests a reader of the whole stream finds before the first incomplete or
    /// invalid one (whose status is returned) or the first that closes the connection.
    private static func model(_ sent: [UInt8], limits: RequestLimits) -> ([FuzzCall], HTTPStatus?) {
        let parser = RequestParser(limits: limits)
        let storage = HeaderStorage(limits: limits)
        var copy = sent
        var calls: [FuzzCall] = []
        let error = copy.withUnsafeMutableBytes { raw -> HTTPStatus? in
            var offset = 0
            while offset < raw.count {
                let rest = UnsafeMutableRawBufferPointer(rebasing: raw[offset...])
                var progress = ParseProgress()
                switch parser.parse(UnsafeRawBufferPointer(rest), progress: &progress, fields: storage.buffer) {
                case .incomplete: return nil
                case .invalid(let status): return status
                case .complete(var head):
                    if head.isChunked { head.bodyLength = ChunkedBody.decode(rest, from: head.headLength) }
                    let call = FuzzCall(Request(bytes: UnsafeRawBufferPointer(rest), head: head,
                                                fields: UnsafeBufferPointer(storage.buffer)))
                    calls.append(call)
                    offset += head.totalLength
                    if !head.keepAlive || call.closes { return nil }
                }
            }
            return nil
        }
        return (calls, error)
    }

    /// The status codes of the responses read, checking each: whole responses back to
    /// back, and nothing after a response that says `Connection: close`.
    private static func statusCodes(_ outcome: FuzzOutcome) -> [Int] {
        let bytes = outcome.received
        var codes: [Int] = []
        var index = 0
        while index < bytes.count {
            if !outcome.readToEnd && "HTTP/1.1 ".utf8.starts(with: bytes[index...]) { break }  // cut short
            fuzzAssert(bytes[index...].starts(with: "HTTP/1.1 ".utf8),
                       "no status line at byte \(index): \(String(decoding: bytes[index...].prefix(60), as: UTF8.self).debugDescription)")
            guard let headEnd = endOfHead(bytes, from: index) else {
                fuzzAssert(!outcome.readToEnd, "the stream ends inside a response head")
                break
            }
            let head = ResponseHead(String(decoding: bytes[index..<headEnd], as: UTF8.self))
            index = headEnd + bodyLength(of: head, before: bytes[headEnd...], after: codes, outcome)
            codes.append(head.code)
            fuzzAssert(!head.closes || index >= bytes.count, "bytes after a response that closes the connection")
        }
        fuzzAssert(!outcome.readToEnd || index == bytes.count, "the stream ends inside a response body")
        return codes
    }

    /// Checks one response by its status: the n-th 200 carries the n-th call's number and
    /// size, an error closes and is the only one. Returns the length of its body.
    private static func bodyLength(of head: ResponseHead, before rest: ArraySlice<UInt8>, after codes: [Int],
                                   _ outcome: FuzzOutcome) -> Int {
        switch head.code {
        case 100:
            fuzzAssert(head.contentLength == nil && !head.closes, "a 100 Continue with framing: \(head.text.debugDescription)")
            return 0
        case 200:
            let answered = codes.count { $0 == 200 }
            fuzzAssert(answered < outcome.calls.count, "a 200 with no handler call behind it")
            let call = outcome.calls[answered]
            fuzzAssert(head.contentLength == call.responseBytes,
                       "Content-Length \(String(describing: head.contentLength)) for a \(call.responseBytes)-byte body")
            if call.isHead { return 0 }
            let number = Array("\(answered)\n".utf8)
            fuzzAssert(number.starts(with: rest.prefix(number.count)), "response \(answered) out of order")
            return call.responseBytes
        default:
            fuzzAssert((400...599).contains(head.code) && head.closes && head.contentLength != nil,
                       "a malformed error: \(head.text.debugDescription)")
            fuzzAssert(!codes.contains { $0 != 100 && $0 != 200 }, "a second error response")
            return head.contentLength!
        }
    }

    /// What the checks read from a response head.
    private struct ResponseHead {
        let text: String
        let code: Int
        let contentLength: Int?
        let closes: Bool

        init(_ text: String) {
            self.text = text
            code = Int(text.dropFirst(9).prefix(3)) ?? -1
            contentLength = text.firstRange(of: "\r\nContent-Length: ").flatMap { Int(text[$0.upperBound...].prefix { $0.isNumber }) }
            closes = text.contains("\r\nConnection: close\r\n")
        }
    }

    /// One past the CRLFCRLF that ends the response head starting at `start`.
    private static func endOfHead(_ bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        while index + 4 <= bytes.count {
            if bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
                return index + 4
            }
            index += 1
        }
        return nil
    }
}
