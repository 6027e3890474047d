// Gunzip: the tests' own gzip decoder (zlib's inflate, RFC 1952), to check what
// the server sent decodes to the identity bytes.
import CZlib

enum Gunzip {
    /// The decoded bytes of one complete gzip stream, nil when it is not one (corrupt or cut short).
    static func decode(_ compressed: [UInt8]) -> [UInt8]? {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var piece = [UInt8](repeating: 0, count: 64 * 1024)
        var status = Z_OK
        compressed.withUnsafeBytes { input in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(input.count)
            while status == Z_OK {
                piece.withUnsafeMutableBytes { space in
                    stream.next_out = space.baseAddress?.assumingMemoryBound(to: Bytef.self)
                    stream.avail_out = uInt(space.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                }
                output += piece[..<(piece.count - Int(stream.avail_out))]
            }
        }
        return status == Z_STREAM_END && stream.avail_in == 0 ? output : nil
    }
}
