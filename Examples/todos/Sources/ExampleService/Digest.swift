// Digest: SHA-256 in lowercase hex, through OpenSSL's libcrypto (EVP_DigestInit_ex(3)).
// Chosen over a pure-Swift SHA-256: libcrypto uses the CPU's SHA extensions (several
// times faster, which the 1 GiB streamed upload to come will want), its incremental
// API takes a body chunk by chunk as streaming needs, and libssl-dev is on the machine
// image; the EVP calls are used because OpenSSL 3 deprecates the SHA256_* ones.
import CCrypto

enum Digest {
    /// The SHA-256 of `bytes`, as 64 lowercase hex digits.
    static func sha256Hex(_ bytes: UnsafeRawBufferPointer) -> String {
        guard let context = EVP_MD_CTX_new() else { preconditionFailure("EVP_MD_CTX_new: out of memory") }
        defer { EVP_MD_CTX_free(context) }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1,
              EVP_DigestUpdate(context, bytes.baseAddress, bytes.count) == 1,
              EVP_DigestFinal_ex(context, &digest, &length) == 1 else {
            preconditionFailure("EVP_Digest* failed for SHA-256")
        }
        let hex = Array("0123456789abcdef".utf8)
        return String(decoding: digest[..<Int(length)].flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 15)]] }, as: UTF8.self)
    }
}
