// ListenAddress: one `--listen ADDRESS:PORT[,OPTION...]`: where to listen and
// what the listener's connections speak first. IPv6 addresses are written in
// brackets ("[::1]:8443"), as in URLs (RFC 3986 §3.2.2).
import Glibc
import ServerSystem

/// One listener of the server.
public struct ListenAddress: Equatable, Sendable, CustomStringConvertible {
    /// A numeric IPv4 or IPv6 address (without brackets).
    public var host: String
    /// TCP port; 0 asks the kernel for a free one.
    public var port: Int
    /// Every request is answered with a redirect to https on this port (`redirect-https[=PORT]`, HTTPSRedirect).
    public var redirectHTTPSPort: Int? = nil
    /// Every connection starts with a PROXY protocol header (v1 or v2) from a trusted proxy.
    public var proxyProtocol: Bool
    /// Connections speak TLS (HTTPS) with the server's `--tls-certificate`s.
    public var tls: Bool

    public init(host: String, port: Int, proxyProtocol: Bool = false, tls: Bool = false) {
        self.host = host
        self.port = port
        self.proxyProtocol = proxyProtocol
        self.tls = tls
    }

    /// "127.0.0.1:8443,tls,proxy-protocol"
    public var description: String {
        Address.display(host: host, port: port) + (tls ? ",tls" : "") + (proxyProtocol ? ",proxy-protocol" : "")
    }

    /// Parses `ADDRESS:PORT[,OPTION...]`; the error is one line naming what is wrong.
    public static func parse(_ text: String) throws(ConfigurationError) -> ListenAddress {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard let (host, port) = splitHostPort(parts[0]) else {
            throw ConfigurationError("--listen '\(text)': expected ADDRESS:PORT, with an IPv6 address in brackets ([::1]:8443)")
        }
        guard isNumericAddress(host) else { throw ConfigurationError("--listen '\(text)': '\(host)' is not a numeric IPv4 or IPv6 address") }
        guard let number = Int(port), (0...65535).contains(number) else {
            throw ConfigurationError("--listen '\(text)': the port must be between 0 and 65535")
        }
        var address = ListenAddress(host: host, port: number)
        for option in parts.dropFirst() {
            switch option {
            case let option where option == "redirect-https" || option.hasPrefix("redirect-https="):
                address.redirectHTTPSPort = try redirectPort(option, in: text)
            case "proxy-protocol": address.proxyProtocol = true
            case "tls": address.tls = true
            default: throw ConfigurationError("--listen '\(text)': unknown option '\(option)' (known: tls, proxy-protocol)")
            }
        }
        return address
    }

    /// `redirect-https` (443) or `redirect-https=PORT`.
    private static func redirectPort(_ option: String, in text: String) throws(ConfigurationError) -> Int {
        guard let equals = option.firstIndex(of: "=") else { return 443 }
        guard let port = Int(option[option.index(after: equals)...]), (1...65535).contains(port) else {
            throw ConfigurationError("--listen '\(text)': redirect-https=PORT needs a port between 1 and 65535")
        }
        return port
    }

    private static func splitHostPort(_ text: String) -> (String, String)? {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            let host = String(text[text.index(after: text.startIndex)..<close])
            return (host, String(text[text.index(close, offsetBy: 2)...]))
        }
        guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { return nil }
        let host = String(text[..<colon])
        return (host == "localhost" ? "127.0.0.1" : host, String(text[text.index(after: colon)...]))
    }

    static func isNumericAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    /// Whether an inherited socket bound to `host:port` is this listener's (socket activation,
    /// a binary upgrade): the same address, compared as numbers, and the same port unless 0.
    func matches(host other: String, port otherPort: Int) -> Bool {
        (port == 0 || port == otherPort) && NetworkRange.sameAddress(host, other)
    }
}
