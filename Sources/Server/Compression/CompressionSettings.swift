// CompressionSettings: the operator's choices for compressing responses
// on the fly (--gzip, --gzip-level, --gzip-min-length), validated with the
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
    public init() {}

    /// The first setting that cannot work, as one line.
    func validate() throws(ConfigurationError) {
        guard (1...9).contains(level) else { throw ConfigurationError("--gzip-level must be between 1 and 9 (got \(level))") }
        guard minimumLength >= 0 else {
            throw ConfigurationError("--gzip-min-length must not be negative (got \(minimumLength))")
        }
    }
}
