// HTTPTypesConversion: the server's request as an `HTTPRequest`, and an
// `HTTPResponse` with its body as the server's `Response`. Framing fields
// (Content-Length, Transfer-Encoding, Connection, ...) a handler sets are
// dropped: the server frames every response itself (RFC 9112 §6).
import HTTP1
import HTTPTypes
import Server

extension HTTPRequest {
    /// The request's method, target (as `path`), Host (as `authority`) and fields, in order.
    init(_ request: OwnedRequest) {
        let method = HTTPRequest.Method(request.method) ?? .get  // the parser admits only tokens
        var fields = HTTPFields()
        for (name, value) in request.headers {
            guard let name = HTTPField.Name(name) else { continue }
            fields.append(HTTPField(name: name, value: value))
        }
        self.init(method: method, scheme: "http", authority: request.header("host"), path: request.target,
                  headerFields: fields)
    }
}

extension Response {
    /// `head`'s status and fields with `body`; no Content-Type when `head` names none.
    init(_ head: HTTPResponse, body: [UInt8]) {
        self.init(status: HTTPStatus(code: head.status.code, reason: StatusReasons.phrase(for: head.status.code)),
                  contentType: "", body: body.isEmpty ? .empty : .bytes(body))
        for field in head.headerFields {
            if field.name == .contentType {
                try? setContentType(field.value)
            } else {
                // A field the server writes itself (framing, Date, Server) is refused: it is dropped.
                try? addHeader(name: field.name.rawName, value: field.value)
            }
        }
    }
}
