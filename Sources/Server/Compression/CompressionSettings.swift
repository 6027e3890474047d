// CompressionSettings: the operator's choices for compressing responses
// on the fly (--gzip, --gzip-level, --gzip-min-length, --brotli,
// --brotli-level), validated with the
// rest of the configuration. Precompressed files are the file handler's
// (StaticFileOptions.precompressed, --gzip-static).

/// How responses are compressed. Everything is off by default, as in nginx.
public struct CompressionSettings: Sendable, Equatable {
    /// Compress compressible responses on the fly with gzip for clients that accept it (nginx's `gzip on`).
    public var gzip = false
    /// zlib's level, 1 (fastest) to 9 (smallest). 1, as nginx's gzip_comp_level: on text it
    /// gets most of level 6's reduction for a fraction of the CPU, and CPU is what a busy
    /// worker runs out of; an operator who pays for bandwidth more than CPU raises it.
    public var level = 1
    /// Bodies shorter than this (when their length is known) are sent as they are. nginx's
    /// gzip_min_length defaults to 20 bytes, which costs more than it saves: gzip's header and
    /// trailer take 18 bytes and the chunked framing ~10, so a body under a few hundred bytes
    /// shrinks by little or grows, for the price of a zlib state. 256 bytes is where short JSON
    /// answers start to gain (Akamai and Cloudflare use a few hundred bytes to 1 KiB).
    public var minimumLength = 256
    /// Compress them with brotli (RFC 7932) for clients that accept `br`; preferred to gzip when
    /// the client weighs both alike (its bodies are smaller). The minimum length is gzip's.
    public var brotli = false
    /// libbrotli's quality, 0 to 11. 2, as fast as zlib's level 1 with smaller output; the high
    /// qualities (9 to 11) cost many times more CPU and suit precompressed files (.br siblings).
    public var brotliLevel = 2
    public init() {}

    /// The first setting that cannot work, as one line.
    func validate() throws(ConfigurationError) {
        guard (1...9).contains(level) else { throw ConfigurationError("--gzip-level must be between 1 and 9 (got \(level))") }
        guard (0...11).contains(brotliLevel) else {
            throw ConfigurationError("--brotli-level must be between 0 and 11 (got \(brotliLevel))")
        }
        guard minimumLength >= 0 else {
            throw ConfigurationError("--gzip-min-length must not be negative (got \(minimumLength))")
        }
    }
}
