// bind_unix_socket: binds a listening Unix socket the way the real app does:
// a stale socket file (nothing answers) is replaced, a live one refused, and
// anything that is not a socket is never touched. Used by the bridge's status
// socket and by the fakes.
#pragma once

#include <string>

#include <boost/asio/local/stream_protocol.hpp>

#include "protocol/result.hpp"

namespace wibwob::net {

protocol::Result<void> bind_unix_socket(boost::asio::local::stream_protocol::acceptor& acceptor,
                                        const std::string& path);

}  // namespace wibwob::net
