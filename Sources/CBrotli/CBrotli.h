// CBrotli: the system's libbrotli (libbrotli-dev), for on-the-fly brotli of
// responses (the encoder) and the tests that decode them (the decoder). A
// missing header fails the build with the one line below.
#if __has_include(<brotli/encode.h>)
#include <brotli/encode.h>
#include <brotli/decode.h>
#else
#error "libbrotli is missing: install libbrotli-dev (apt-get install libbrotli-dev) to build the server's brotli support"
#endif
