// metrics::server: a registry's Prometheus endpoint, GET /metrics over HTTP/1.1.
#pragma once

#include <costrix/metrics.hpp>
#include <costrix/result.hpp>

#include <cstdint>
#include <memory>
#include <string_view>

namespace costrix::metrics {

/// Serves `GET /metrics` (text format 0.0.4) on a thread and an io_context of
/// its own, so a scrape never runs on a core that serves calls. Other paths
/// get 404, other methods 405. At most 16 connections at once (more are
/// closed), 10 s to send a request, headers up to 8 KiB, no request bodies.
class server {
 public:
  /// Binds `address` ("127.0.0.1:9464"; port 0 picks a free one) and starts
  /// serving `r`, which it enables. A bad address or a bind failure is an error
  /// value. An empty address serves nothing: a null pointer (an option left off).
  static result<std::unique_ptr<server>> start(std::string_view address = "127.0.0.1:9464",
                                               registry& r = library());
  ~server();  ///< stops serving and joins the thread
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  std::uint16_t port() const noexcept;

 private:
  struct impl;
  explicit server(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

}  // namespace costrix::metrics
