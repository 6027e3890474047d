// ClientRoutes: `GET /example/client` answers who the client is as the server
// believes it: "ADDRESS PORT" from the request's clientAddress and clientPort
// (a PROXY header's client, or a trusted proxy's forwarded header under
// --real-ip-header), "-" for what no proxy named.
import Server

struct ClientRoutes: ExampleRoute {
    func answer(_ request: Request, with response: inout Response) -> Bool {
        guard request.path == "/example/client" else { return false }
        let address = request.clientAddress?.string ?? "-"
        let port = request.clientPort.map(String.init) ?? "-"
        response.body = .bytes(Array("\(address) \(port)\n".utf8))
        return true
    }
}
