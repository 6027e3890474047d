// Digest: SHA-256 in lowercase hex, through OpenSSL's libcrypto (EVP_DigestInit_ex(3)).
// Chosen over a pure-Swift SHA-256: libcrypto uses the CPU's SHA extensions (several
// times faster, which a 1 GiB streamed upload wants), its incremental
// API takes a body chunk by chunk as streaming needs, and libssl-dev is on the machine
// image; the EVP calls are used because OpenSSL 3 deprecates the SHA256_* ones.
import CCrypto

/// SHA-256 fed piece by piece (a streamed body's chunks), then read once as hex.
struct SHA256: ~Copyable {
    private let context: OpaquePointer

    init() {
        guard let context = EVP_MD_CTX_new() else { preconditionFailure("EVP_MD_CTX_new: out of memory") }
        guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else { preconditionFailure("EVP_DigestInit_ex failed for SHA-256") }
        self.context = context
    }

    deinit {
        EVP_MD_CTX_free(context)
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard EVP_DigestUpdate(context, bytes.baseAddress, bytes.count) == 1 else { preconditionFailure("EVP_DigestUpdate failed") }
    }

    /// The digest as 64 lowercase hex digits; the context is not fed afterwards.
    consuming func finalHex() -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard EVP_DigestFinal_ex(context, &digest, &length) == 1 else { preconditionFailure("EVP_DigestFinal_ex failed") }
        let hex = Array("0123456789abcdef".utf8)
        return String(decoding: digest[..<Int(length)].flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 15)]] }, as: UTF8.self)
    }
}
