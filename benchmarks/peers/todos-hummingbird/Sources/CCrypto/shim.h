// OpenSSL's digest API (EVP_DigestInit_ex(3)), from Debian's libssl-dev.
#include <openssl/evp.h>
