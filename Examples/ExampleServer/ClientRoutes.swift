// ClientRoutes: `GET /example/client` answers who the client is as the server
// believes it: "ADDRESS PORT" from the request's clientAddress and clientPort
// (a PROXY header's client, or a trusted proxy's forwarded header under
// --real-ip-header), "-" for what no proxy named. `/example/client/deferred`
// answers the same from the handler pool (an OwnedRequest keeps the client).
import Server

struct ClientRoutes: ExampleRoute {
    func answer(_ request: Request, with response: inout Response) -> Bool {
        if request.path == "/example/client/deferred" {
            response.deferToPool { owned in Response(body: Self.describe(owned.clientAddress, owned.clientPort)) }
            return true
        }
        guard request.path == "/example/client" else { return false }
        response.body = Self.describe(request.clientAddress?.string, request.clientPort)
        return true
    }

    private static func describe(_ address: String?, _ port: Int?) -> ResponseBody {
        .bytes(Array("\(address ?? "-") \(port.map(String.init) ?? "-")\n".utf8))
    }
}
