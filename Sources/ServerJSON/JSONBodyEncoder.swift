// JSONBodyEncoder: Encodable values as JSON response bodies. The streaming
// encoder writes the bytes directly; a value whose Codable calls it cannot
// stream is encoded by Foundation's JSONEncoder instead (same JSON). Slashes
// are not escaped (RFC 8259 §7 allows "/" as it is), keys come in the order
// the value encodes them.
import FoundationEssentials
import HTTP1

public struct JSONBodyEncoder: Sendable {
    /// Bytes reserved up front for a body: a list of a few small records without growing.
    public var initialCapacity: Int

    public init(initialCapacity: Int = 1024) {
        self.initialCapacity = initialCapacity
    }

    /// The JSON text of `value`; throws EncodingError as JSONEncoder does (NaN, infinities, a top-level value that encodes nothing).
    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        do {
            return try StreamingJSONEncoder(capacity: initialCapacity).encodeTopLevel(value)
        } catch is StreamingJSONEncoder.Unsupported {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes]
            return Array(try encoder.encode(value))
        }
    }
}

extension Response {
    /// A response whose body is `value` as JSON (`application/json`, RFC 8259 §11).
    public static func json<T: Encodable>(_ value: T, status: HTTPStatus = .ok,
                                          encoder: JSONBodyEncoder = JSONBodyEncoder()) throws -> Response {
        Response(status: status, contentType: "application/json", body: .bytes(try encoder.encode(value)))
    }
}
