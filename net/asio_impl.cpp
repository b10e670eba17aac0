// The one translation unit that compiles Boost.Asio (its SSL support is in
// tls_impl.cpp, library wibwob_net_tls: only what speaks TLS maps OpenSSL).
#include <boost/asio/impl/src.hpp>
