// Unbrotli: the tests' own brotli decoder (libbrotli's, RFC 7932), to check what
// the server sent decodes to the identity bytes.
import CBrotli

enum Unbrotli {
    /// The decoded bytes of one complete brotli stream, nil when it is not one (corrupt or cut short).
    static func decode(_ compressed: [UInt8]) -> [UInt8]? {
        guard let state = BrotliDecoderCreateInstance(nil, nil, nil) else { return nil }
        defer { BrotliDecoderDestroyInstance(state) }
        var output: [UInt8] = []
        var piece = [UInt8](repeating: 0, count: 64 * 1024)
        var result = BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT
        var availableIn = compressed.count
        compressed.withUnsafeBufferPointer { input in
            var nextIn = input.baseAddress
            while result == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT {
                var availableOut = piece.count
                piece.withUnsafeMutableBufferPointer { space in
                    var nextOut = space.baseAddress
                    result = BrotliDecoderDecompressStream(state, &availableIn, &nextIn, &availableOut, &nextOut, nil)
                }
                output += piece[..<(piece.count - availableOut)]
            }
        }
        return result == BROTLI_DECODER_RESULT_SUCCESS && availableIn == 0 ? output : nil
    }
}
