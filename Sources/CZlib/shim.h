// CZlib — zlib's C API for Swift (raw inflate of zip entries in Corpus; deflate in its tests).
#include <zlib.h>
