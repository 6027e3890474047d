// FileSemanticsCase: one row of the RFC 9110 §13–§14 table: a request's
// conditional and Range fields, the status and body expected, and, where nginx
// answers otherwise on purpose, what nginx answers and why we differ.

/// The body a row expects; the headers follow from it and the status.
enum ExpectedBody {
    /// The whole file (200).
    case whole
    /// Bytes `first...last` of the file (206, one part).
    case part(Int, Int)
    /// multipart/byteranges of these inclusive ranges, in order (206).
    case parts([(Int, Int)])
    /// No body: HEAD, 304.
    case none
    /// An error page: servers word it differently, so only its status and fields are compared.
    case errorPage
}

struct FileSemanticsCase {
    let name: String
    var method = "GET"
    var path = "/a.txt"
    /// Field lines; "{etag}", "{weak}" (W/ and the tag) and "{lm}" (Last-Modified) stand for
    /// the validators of the server answering, fetched before the table runs.
    let fields: [String]
    let status: Int
    let body: ExpectedBody
    /// When nginx answers otherwise, its status and the reason we differ.
    var nginx: (status: Int, why: String)? = nil

    init(_ name: String, method: String = "GET", path: String = "/a.txt", _ fields: [String],
         _ status: Int, _ body: ExpectedBody, nginx: (status: Int, why: String)? = nil) {
        self.name = name
        self.method = method
        self.path = path
        self.fields = fields
        self.status = status
        self.body = body
        self.nginx = nginx
    }
}
