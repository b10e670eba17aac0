// The one translation unit that compiles Boost.Asio's SSL support (library
// wibwob_net_tls; net/CMakeLists.txt says who links it).
#include <boost/asio/ssl/impl/src.hpp>
