// TLSError: a certificate or key the server cannot serve with, as one line
// fit for stderr, with OpenSSL's own reason when it has one.
import CTLS

/// Why TLS cannot start (or reload) with the given files.
public struct TLSError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    /// `message`, followed by the oldest reason on OpenSSL's error queue, which is then emptied
    /// (a stale entry would make the next SSL_get_error on this thread misreport).
    static func openSSL(_ message: String) -> TLSError {
        let reason = OpenSSLErrors.takeReason()
        return TLSError(reason.map { "\(message): \($0)" } ?? message)
    }
}

/// OpenSSL's per-thread error queue (ERR_get_error(3)).
package enum OpenSSLErrors {
    /// The first queued reason ("PEM routines::no start line"), or nil; clears the queue.
    package static func takeReason() -> String? {
        let code = ERR_get_error()
        defer { ERR_clear_error() }
        guard code != 0 else { return nil }
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &text, text.count)
        // "error:0480006C:PEM routines::no start line": the part after the code is the readable one.
        let full = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let parts = full.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        return parts.count == 3 ? String(parts[2]) : full
    }
}

extension OpenSSLErrors {
    /// Empties the queue after a failure whose reason is not reported.
    static func discard() { ERR_clear_error() }
}
