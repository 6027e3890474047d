// AccessLogLine: one line of nginx's "combined" format, appended straight into
// the log's buffer from the request's own bytes (no String per request):
//
//   $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
//
// and, with request ids on (`--request-id`), the request's id as a last quoted field.
//
// Values taken from the request are escaped as nginx does: `"`, `\`, control
// bytes and bytes above 0x7E become \xHH, so a client cannot forge a line.
import HTTP1

enum AccessLogLine {
    /// A line for a request the handler answered.
    static func append(_ request: Request, address: UnsafeRawBufferPointer, time: UnsafeRawBufferPointer,
                       status: Int, bodyBytes: Int, requestID: String? = nil, into out: ByteBuffer) {
        appendBeforeBytes(request, address: address, time: time, status: status, into: out)
        out.appendDecimal(bodyBytes)
        appendAfterBytes(request, requestID: requestID, into: out)
    }

    /// A line whose $body_bytes_sent is known only once its body has been sent (a file):
    /// its text before and after the number, rendered while the request's bytes are at hand.
    struct Held {
        let before: [UInt8]
        let after: [UInt8]
    }

    static func held(_ request: Request, address: UnsafeRawBufferPointer, time: UnsafeRawBufferPointer,
                     status: Int, requestID: String? = nil) -> Held {
        let scratch = ByteBuffer(capacity: 512)
        appendBeforeBytes(request, address: address, time: time, status: status, into: scratch)
        let before = scratch.withReadableBytes { Array($0) }
        scratch.clear()
        appendAfterBytes(request, requestID: requestID, into: scratch)
        return Held(before: before, after: scratch.withReadableBytes { Array($0) })
    }

    /// The held line, completed with the body bytes actually sent.
    static func append(_ line: Held, bodyBytes: Int, into out: ByteBuffer) {
        out.append(line.before)
        out.appendDecimal(bodyBytes)
        out.append(line.after)
    }

    private static func appendBeforeBytes(_ request: Request, address: UnsafeRawBufferPointer, time: UnsafeRawBufferPointer,
                                          status: Int, into out: ByteBuffer) {
        appendPrefix(address: address, time: time, into: out)
        out.append("\"")
        appendEscaped(request.method.bytes, into: out)
        out.append(" ")
        appendEscaped(request.target.bytes, into: out)
        out.append(request.version == .http1_0 ? " HTTP/1.0\" " : " HTTP/1.1\" ")
        out.appendDecimal(status)
        out.append(" ")
    }

    private static func appendAfterBytes(_ request: Request, requestID: String?, into out: ByteBuffer) {
        out.append(" ")
        appendQuoted(request.header("referer"), into: out)
        out.append(" ")
        appendQuoted(request.header("user-agent"), into: out)
        if var requestID {
            out.append(" \"")
            requestID.withUTF8 { appendEscaped(UnsafeRawBufferPointer($0), into: out) }
            out.append("\"")
        }
        out.append("\n")
    }

    /// A line for a response the server gave without a parsed request (400, 408, 413, ...).
    static func appendRefused(address: UnsafeRawBufferPointer, time: UnsafeRawBufferPointer, status: Int,
                              bodyBytes: Int, into out: ByteBuffer) {
        appendPrefix(address: address, time: time, into: out)
        out.append("\"-\" ")
        appendNumbers(status: status, bodyBytes: bodyBytes, into: out)
        out.append("\"-\" \"-\"\n")
    }

    private static func appendPrefix(address: UnsafeRawBufferPointer, time: UnsafeRawBufferPointer, into out: ByteBuffer) {
        out.append(address)
        out.append(" - - [")
        out.append(time)
        out.append("] ")
    }

    private static func appendNumbers(status: Int, bodyBytes: Int, into out: ByteBuffer) {
        out.appendDecimal(status)
        out.append(" ")
        out.appendDecimal(bodyBytes)
        out.append(" ")
    }

    /// A header value in quotes, or "-" when the request has none (nginx writes "-" for an empty variable).
    private static func appendQuoted(_ value: ByteSlice?, into out: ByteBuffer) {
        guard let value, !value.isEmpty else {
            out.append("\"-\"")
            return
        }
        out.append("\"")
        appendEscaped(value.bytes, into: out)
        out.append("\"")
    }

    private static func appendEscaped(_ bytes: UnsafeRawBufferPointer, into out: ByteBuffer) {
        // Four bytes out per byte in at worst ("\xHH"); reserve once, write in place.
        out.withWritableSpace(minimum: bytes.count * 4) { space in
            escape(bytes, into: space)
        }
    }

    /// Writes `bytes` escaped into `space`, which has room for four bytes out per byte in; returns the bytes written.
    private static func escape(_ bytes: UnsafeRawBufferPointer, into space: UnsafeMutableRawBufferPointer) -> Int {
        let hex: StaticString = "0123456789ABCDEF"
        var cursor = 0
        for byte in bytes {
            if byte >= 0x20 && byte <= 0x7E && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") {
                space[cursor] = byte
                cursor += 1
            } else {
                space[cursor] = UInt8(ascii: "\\")
                space[cursor + 1] = UInt8(ascii: "x")
                space[cursor + 2] = hex.utf8Start[Int(byte >> 4)]
                space[cursor + 3] = hex.utf8Start[Int(byte & 0x0F)]
                cursor += 4
            }
        }
        return cursor
    }
}
