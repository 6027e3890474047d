// HTTPSRedirect: what a `--listen ADDRESS:PORT,redirect-https[=PORT]` listener answers to
// every request: 308 Permanent Redirect to the same host and target over https. 308, not
// 301, because a client keeps the method and body (RFC 9110 §15.4.9); the redirect is
// permanent, as an operator moving a site to HTTPS means it (nginx's `return 301 https://`).
//
// The host is the request's own (the Host field, or an absolute-form target's authority,
// RFC 9112 §3.2.2), used only when it is a DNS name or an IP literal: anything else is
// 400, so no request can make the server send a browser to an arbitrary string (no open
// redirect through `Host: evil.example/x@`, no header splitting).
import Glibc
import HTTP1

/// Answers every request with a redirect to `https://HOST[:PORT]/target`.
public struct HTTPSRedirect: HTTPHandler {
    /// The HTTPS port in the Location; 443, the default port of https (RFC 9110 §4.2.2), is left out.
    public let port: Int

    public init(port: Int = 443) {
        self.port = port
    }

    public func respond(to request: Request, with response: inout Response) {
        guard let location = location(for: request) else {
            response.status = .badRequest
            response.body = .text("a redirect to https needs a valid Host\n")
            response.closeConnection = true
            return
        }
        response.status = .permanentRedirect
        response.addHeader("Location", location)
        response.body = .text("moved to https\n")
    }

    /// "https://example.com:8443/search?q=1", or nil without a valid host or an origin.
    func location(for request: Request) -> String? {
        guard request.targetForm == .origin || request.targetForm == .absolute,
              let authority = request.host, let host = Self.validHost(in: authority.string) else { return nil }
        var location = "https://" + host + (port == 443 ? "" : ":\(port)")
        if request.targetForm == .origin {
            location += request.target.string
        } else {
            location += request.path.string
            if let query = request.query { location += "?" + query.string }
        }
        return location
    }

    /// The host of `authority` (`host [":" port]`, RFC 9110 §7.2) if it is a DNS name of
    /// letters, digits and hyphens (RFC 1123 §2.1), an IPv4 address, or an IPv6 address in
    /// brackets; its port, if any, is dropped (the redirect names the HTTPS port).
    static func validHost(in authority: String) -> String? {
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            let literal = String(authority[authority.index(after: authority.startIndex)..<close])
            var address = in6_addr()
            guard inet_pton(AF_INET6, literal, &address) == 1,
                  isPort(authority[authority.index(after: close)...]) else { return nil }
            return "[" + literal + "]"
        }
        let host = authority.prefix { $0 != ":" }
        guard isPort(authority[host.endIndex...]), isDNSName(host) else { return nil }
        return String(host)
    }

    /// Empty, or ":" and at most five digits (RFC 3986 §3.2.3 allows an empty port).
    private static func isPort(_ text: Substring) -> Bool {
        text.isEmpty || (text.first == ":" && text.count <= 6 && text.dropFirst().allSatisfy { $0.isASCII && $0.isNumber })
    }

    /// Labels of 1 to 63 letters, digits and inner hyphens, 253 characters at most in all
    /// (an IPv4 address is such a name too).
    private static func isDNSName(_ host: Substring) -> Bool {
        guard !host.isEmpty, host.utf8.count <= 253 else { return false }
        return host.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
                && label.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2D }
        }
    }
}
