// ContentTypes: a file's Content-Type from its extension. A built-in table of
// the types a web site serves, under the system's /etc/mime.types when it
// exists (read once, in the master before fork, so every worker shares the
// pages; bounded in size). Text types carry `charset=utf-8`; an unknown or
// missing extension is application/octet-stream (RFC 9110 §8.3: a sender that
// does not know the type may use it, and a browser will not sniff it as HTML).
import Glibc
import HTTP1
import ServerSystem

/// Content types by lowercase file extension.
public struct ContentTypes: Sendable {
    private var byExtension: [String: MediaType]
    /// What a file without a known extension is served as.
    public let fallback: MediaType

    /// The largest mime.types file read; a bigger one is read only this far.
    public static let maximumFileBytes = 1 << 20

    /// The types web sites serve most, which win over the system table (it is the
    /// operator's machine that decides the rest): nginx's mime.types, with modern additions.
    static let builtIn: [(String, String)] = [
        ("html", "text/html"), ("htm", "text/html"), ("css", "text/css"), ("js", "text/javascript"),
        ("mjs", "text/javascript"), ("json", "application/json"), ("map", "application/json"),
        ("webmanifest", "application/manifest+json"), ("xml", "text/xml"), ("txt", "text/plain"),
        ("md", "text/markdown"), ("csv", "text/csv"), ("svg", "image/svg+xml"), ("svgz", "image/svg+xml"),
        ("png", "image/png"), ("jpg", "image/jpeg"), ("jpeg", "image/jpeg"), ("gif", "image/gif"),
        ("webp", "image/webp"), ("avif", "image/avif"), ("ico", "image/x-icon"), ("bmp", "image/bmp"),
        ("woff", "font/woff"), ("woff2", "font/woff2"), ("ttf", "font/ttf"), ("otf", "font/otf"),
        ("pdf", "application/pdf"), ("wasm", "application/wasm"), ("zip", "application/zip"),
        ("gz", "application/gzip"), ("mp4", "video/mp4"), ("webm", "video/webm"), ("ogg", "audio/ogg"),
        ("mp3", "audio/mpeg"), ("wav", "audio/wav"), ("atom", "application/atom+xml"),
        ("rss", "application/rss+xml"), ("xhtml", "application/xhtml+xml"),
    ]

    /// The built-in table alone.
    public init() {
        byExtension = [:]
        fallback = MediaType("application/octet-stream")!
        for (suffix, type) in Self.builtIn { add(suffix, type) }
    }

    /// The built-in table over the entries of a mime.types file's `text`
    /// ("type/subtype ext1 ext2", `#` comments), as /etc/mime.types has them.
    public init(mimeTypes text: String) {
        self.init()
        let builtIn = Set(Self.builtIn.map(\.0))
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let words = line.prefix(while: { $0 != "#" }).split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 2, words[0].contains("/") else { continue }
            for suffix in words.dropFirst() where !builtIn.contains(suffix.lowercased()) {
                add(suffix.lowercased(), String(words[0]))
            }
        }
    }

    /// The built-in table over `/etc/mime.types` (or `path`) when it can be read.
    public static func system(path: String = "/etc/mime.types") -> ContentTypes {
        guard let text = try? Files.read(path, atMost: maximumFileBytes) else { return ContentTypes() }
        return ContentTypes(mimeTypes: text)
    }

    private mutating func add(_ suffix: String, _ type: String) {
        let value = Self.isText(type) ? "\(type); charset=utf-8" : type
        guard let media = MediaType(value) else { return }
        byExtension[suffix] = media
    }

    /// Types whose bytes are text a browser decodes with a charset.
    static func isText(_ type: String) -> Bool {
        type.hasPrefix("text/") || ["application/json", "application/javascript", "application/manifest+json",
                                    "application/xml", "image/svg+xml", "application/atom+xml",
                                    "application/rss+xml", "application/xhtml+xml"].contains(type)
    }

    /// The type of a file named `name`, from what follows its last dot.
    public func type(ofFileNamed name: Substring) -> MediaType {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return fallback }
        let suffix = name[name.index(after: dot)...]
        if let type = byExtension[String(suffix)] { return type }
        return byExtension[suffix.lowercased()] ?? fallback
    }
}
