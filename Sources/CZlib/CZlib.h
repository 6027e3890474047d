// CZlib: the system's zlib (zlib1g-dev), for on-the-fly gzip of responses.
// A missing header fails the build with the one line below instead of a
// cascade of unknown z_stream errors.
#if __has_include(<zlib.h>)
#include <zlib.h>
#else
#error "zlib is missing: install zlib1g-dev (apt-get install zlib1g-dev) to build the server's gzip support"
#endif
