// Digest: SHA-256 in lowercase hex through libcrypto's EVP API, as in Examples/todos.
import CCrypto
import Hummingbird

enum Digest {
    static func sha256Hex(_ chunks: some Sequence<ByteBuffer>) -> String {
        let context = EVP_MD_CTX_new()!
        defer { EVP_MD_CTX_free(context) }
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
        for chunk in chunks {
            chunk.withUnsafeReadableBytes { _ = EVP_DigestUpdate(context, $0.baseAddress, $0.count) }
        }
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        let hex = Array("0123456789abcdef".utf8)
        return String(decoding: digest.flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 15)]] }, as: UTF8.self)
    }
}
