// io::event_queue: the bounded queue between a client's reading loop and one
// event consumer. The reader never waits for the consumer: a full queue drops.
#pragma once

#include <costrix/metrics.hpp>
#include <costrix/result.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>

namespace costrix {

/// What a slow event-stream consumer costs: when the queue is full, the oldest
/// event is dropped (default) or the new one is. Either way `dropped()` counts it.
enum class overflow_policy { drop_oldest, drop_newest };

namespace io {

/// One `next()` waiting for an event.
template <class T>
struct event_waiter {
  virtual ~event_waiter() = default;
  virtual void complete(result<T>&& r) = 0;
};

/// Everything but `dropped` is touched on the owning client's thread only.
template <class T>
struct event_queue {
  std::size_t capacity = 4096;
  overflow_policy policy = overflow_policy::drop_oldest;
  std::deque<T> queue;
  std::shared_ptr<event_waiter<T>> waiter;
  bool closed = false;
  metrics::counter drop_metric;  // set by the client: costrix_event_queue_drops_total
  metrics::gauge depth_metric;   // costrix_event_queue_depth

  event_queue() = default;
  event_queue(const event_queue&) = delete;
  event_queue& operator=(const event_queue&) = delete;
  ~event_queue() { depth_metric.add(-static_cast<std::int64_t>(queue.size())); }
  std::atomic<std::uint64_t> dropped{0};

  /// Hands `item` to the waiting consumer, or queues it (dropping by `policy` when full).
  template <class Source>
  void push(const Source& item) {
    if (closed) return;
    if (waiter) {
      auto w = std::move(waiter);
      return w->complete(T(item));
    }
    if (queue.size() >= capacity) {
      dropped.fetch_add(1, std::memory_order_relaxed);
      drop_metric.inc();
      if (policy == overflow_policy::drop_newest || capacity == 0) return;
      queue.pop_front();
      depth_metric.dec();
    }
    queue.emplace_back(item);
    depth_metric.inc();
  }

  /// A next(): completes at once with a queued event, or waits for one.
  void wait(std::shared_ptr<event_waiter<T>> w) {
    if (closed) return w->complete(fail(errc::cancelled, "the event stream is closed"));
    if (!queue.empty()) {
      T item = std::move(queue.front());
      queue.pop_front();
      depth_metric.dec();
      return w->complete(std::move(item));
    }
    if (waiter) return w->complete(fail(errc::invalid_argument, "another next() is waiting on this stream"));
    waiter = std::move(w);
  }

  /// Cancels `w` if it is still the one waiting.
  void cancel(const std::shared_ptr<event_waiter<T>>& w) {
    if (!w || waiter != w) return;
    waiter.reset();
    w->complete(fail(errc::cancelled, "the wait was cancelled"));
  }

  /// No more events; a waiting next() completes with `errc::cancelled`.
  void close() {
    if (closed) return;
    closed = true;
    depth_metric.add(-static_cast<std::int64_t>(queue.size()));
    queue.clear();
    if (auto w = std::move(waiter)) w->complete(fail(errc::cancelled, "the event stream is closed"));
  }
};

}  // namespace io
}  // namespace costrix
