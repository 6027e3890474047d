// HTTPTypesNotes: a handler written only against apple/swift-http-types, as a
// library shared with another server would be: it sees an `HTTPRequest` and
// the body's bytes and answers an `HTTPResponse`, nothing of this server.
//   POST /eco/notes    201, the body upper-cased, Location and X-Handled-By set
//   anything else      405 with Allow, or 400 for an empty body
import HTTPTypes
import ServerEcosystem

struct HTTPTypesNotes: HTTPTypesHandler {
    func respond(to request: HTTPRequest, body: [UInt8]) async throws -> (HTTPResponse, [UInt8]) {
        guard request.method == .post else {
            var response = HTTPResponse(status: .methodNotAllowed)
            response.headerFields[.allow] = "POST"
            return (response, Array("only POST\n".utf8))
        }
        guard !body.isEmpty else { return (HTTPResponse(status: .badRequest), Array("empty note\n".utf8)) }
        var response = HTTPResponse(status: .created)
        response.headerFields[.contentType] = "text/plain; charset=utf-8"
        response.headerFields[.location] = "/eco/notes/1"
        response.headerFields[HTTPField.Name("X-Handled-By")!] = "swift-http-types"
        // Echoes what it saw of the request, to show the conversion: method, path, a field.
        let agent = request.headerFields[.userAgent] ?? "-"
        let text = "\(request.method.rawValue) \(request.path ?? "") from \(agent): "
        return (response, Array(text.utf8) + body.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 })
    }
}
