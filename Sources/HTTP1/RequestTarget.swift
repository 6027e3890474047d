// RequestTarget: which of the four forms of RFC 9112 §3.2 a request-target
// takes, and the part of it requests are routed by, found over the request's
// own bytes (offsets, no copy). A target in none of the forms, or in a form its
// method may not use, is refused with 400.

/// The forms a request-target takes (RFC 9112 §3.2).
public enum TargetForm: Sendable {
    /// `/path?query` (RFC 9112 §3.2.1): what a client sends an origin server.
    case origin
    /// `http://authority/path?query` (RFC 9112 §3.2.2): what a client sends a proxy. Accepted from
    /// any client and routed by its path; its authority takes the place of the Host field.
    case absolute
    /// `host:port` (RFC 9112 §3.2.3): only with CONNECT.
    case authority
    /// `*` (RFC 9112 §3.2.4): only with OPTIONS.
    case asterisk
}

struct RequestTarget {
    let form: TargetForm
    /// The path and query: all of an origin-form target; what follows the authority of an
    /// absolute-form one (empty, or starting with "?", when its path is empty); the "*" of
    /// asterisk-form; nothing (an empty span at the target's end) for authority-form.
    let origin: Span

    /// Classifies `target`, or returns nil if it is in no form its method may use.
    init?(classifying target: Span, method: Span, _ base: UnsafePointer<UInt8>) {
        let first = base[Int(target.start)]
        let isConnect = method.count == 7 && Bytes.equal(base, method, "CONNECT")
        if first == UInt8(ascii: "/") && !isConnect {
            self.init(form: .origin, origin: target)
        } else if isConnect {
            // RFC 9112 §3.2.3: CONNECT takes the authority-form and no other.
            guard Self.isAuthorityForm(base, target) else { return nil }
            self.init(form: .authority, origin: Span(start: target.end, count: 0))
        } else if target.count == 1 && first == UInt8(ascii: "*") {
            // RFC 9112 §3.2.4: the asterisk-form is only used for a server-wide OPTIONS request.
            guard method.count == 7 && Bytes.equal(base, method, "OPTIONS") else { return nil }
            self.init(form: .asterisk, origin: target)
        } else if let pathStart = Self.absoluteFormPath(base, target) {
            self.init(form: .absolute, origin: Span(start: pathStart, count: target.end - pathStart))
        } else {
            return nil
        }
    }

    private init(form: TargetForm, origin: Span) {
        self.form = form
        self.origin = origin
    }

    /// Where the path starts in an absolute-form target whose scheme is http or https, or nil.
    ///
    /// absolute-URI with an authority: scheme "://" authority path-abempty [ "?" query ]. The
    /// scheme is case-insensitive (RFC 3986 §3.1); the host may not be empty (RFC 9110 §4.2.1);
    /// userinfo ("@") is refused, as RFC 9110 §4.2.4 advises; so is anything but a path or a query
    /// after the authority, such as a fragment, which absolute-URI does not have (RFC 3986 §4.3).
    private static func absoluteFormPath(_ base: UnsafePointer<UInt8>, _ target: Span) -> Int? {
        let start = Int(target.start)
        guard target.count > 7 && Bytes.equalIgnoringCase(base, Span(start: start, count: 4), "http") else { return nil }
        let schemeLength = base[start + 4] | 0x20 == UInt8(ascii: "s") ? 5 : 4
        guard target.count > schemeLength + 3,
              Bytes.equal(base, Span(start: start + schemeLength, count: 3), "://") else { return nil }
        let authorityStart = start + schemeLength + 3
        var index = authorityStart
        while index < target.end && Bytes.isAuthorityChar(base[index]) { index += 1 }
        guard index > authorityStart else { return nil }
        guard index == target.end || base[index] == UInt8(ascii: "/") || base[index] == UInt8(ascii: "?") else {
            return nil
        }
        return index
    }

    /// authority-form = uri-host ":" port (RFC 9112 §3.2.3): host bytes, then a colon and the port's digits.
    private static func isAuthorityForm(_ base: UnsafePointer<UInt8>, _ target: Span) -> Bool {
        guard Bytes.all(base, target, satisfy: Bytes.isAuthorityChar) else { return false }
        var colon = target.end - 1
        while colon >= Int(target.start) && base[colon] != .colon {
            guard base[colon] >= UInt8(ascii: "0") && base[colon] <= UInt8(ascii: "9") else { return false }
            colon -= 1
        }
        return colon > Int(target.start) && colon < target.end - 1
    }
}
