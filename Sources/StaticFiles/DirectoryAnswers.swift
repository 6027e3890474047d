// DirectoryAnswers: what a directory answers with when it is not its index
// file: a 301 adding the trailing slash (RFC 9110 §15.4.2; Location an absolute
// path, the query kept), 403 (no index and no listing, as nginx), or with
// --autoindex an HTML listing whose names are escaped as HTML text and
// percent-encoded in their links, so no file name can inject markup or a URL.
import Glibc
import HTTP1
import ServerSystem

enum DirectoryAnswers {
    static let movedPermanently = HTTPStatus(code: 301, reason: "Moved Permanently")
    static let forbidden = HTTPStatus(code: 403, reason: "Forbidden")

    static func forbid(_ response: inout Response) {
        response.status = forbidden
        response.body = .text("forbidden\n")
    }

    /// 301 to the directory's path with its slash: `prefix` and `segments` percent-encoded, then the query.
    static func redirect(toDirectory prefix: [UInt8], _ segments: [String], query: ByteSlice?, _ response: inout Response) {
        var location = String(decoding: prefix, as: UTF8.self)
        for segment in segments { location += "/" + URLEscaping.percentEncode(segment) }
        location += "/"
        if let query { location += "?" + query.string }
        response.status = movedPermanently
        response.addHeader("Location", location)
        response.body = .text("moved permanently\n")
    }

    /// The listing of the directory `name` names: directories first, then files, each sorted by name.
    static func listing(of name: RequestPath, under root: RootDirectory, prefix: [UInt8], options: StaticFileOptions,
                        _ response: inout Response) {
        let entries: [BeneathCalls.Entry]
        do {
            let directory = try root.open(name.relative)
            entries = try BeneathCalls.entries(of: directory.fd, limit: options.maximumListingEntries)
        } catch {
            return forbid(&response)
        }
        let shown = entries.filter { options.serveDotFiles || $0.name.first != UInt8(ascii: ".") }
            .map { (name: String(decoding: $0.name, as: UTF8.self), isDirectory: $0.isDirectory) }
            .sorted { ($0.isDirectory ? 0 : 1, $0.name) < ($1.isDirectory ? 0 : 1, $1.name) }
        let title = URLEscaping.html(String(decoding: prefix, as: UTF8.self) + "/" + name.segments.map { $0 + "/" }.joined())
        var page = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of \(title)</title></head>\n"
        page += "<body><h1>Index of \(title)</h1><hr><pre>\n"
        if !name.segments.isEmpty { page += "<a href=\"../\">../</a>\n" }
        for entry in shown {
            let suffix = entry.isDirectory ? "/" : ""
            page += "<a href=\"\(URLEscaping.percentEncode(entry.name))\(suffix)\">\(URLEscaping.html(entry.name))\(suffix)</a>\n"
        }
        page += "</pre><hr></body></html>\n"
        response.status = .ok
        response.contentType = "text/html; charset=utf-8"
        response.body = .bytes(Array(page.utf8))
    }
}

enum URLEscaping {
    /// A path segment with every byte but RFC 3986's unreserved and a few safe sub-delims
    /// percent-encoded: "/", "?", "#", "%", spaces, quotes and non-ASCII all are.
    static func percentEncode(_ segment: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        for byte in segment.utf8 {
            if isKept(byte) {
                bytes.append(byte)
            } else {
                bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func isKept(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "-._~!$()*+,;=:@".utf8.contains(byte)
        }
    }

    /// Text safe inside HTML elements and double-quoted attributes.
    static func html(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
