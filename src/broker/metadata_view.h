#pragma once
// The broker's local copy of cluster metadata: an immutable image replaced as
// a whole on every change (so readers on any thread hold a consistent view
// without locks beyond a pointer copy). In combined mode the controller's
// metadata store publishes into it; a broker-only process publishes what it
// applies from the tailed controller log (DESIGN.md §4).
//
// Threads: current()/applied_index() from any thread; publish() and
// on_change() on the event-loop thread; listeners run on the loop thread.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cluster/metadata_image.h"
#include "cluster/metadata_state.h"

namespace dmq::broker {

class MetadataView {
 public:
  using Image = std::shared_ptr<const cluster::MetadataImage>;
  using State = std::shared_ptr<const cluster::MetadataState>;
  using Listener = std::function<void(const Image& previous, const Image& next)>;

  MetadataView();

  Image current() const;
  // The same image with its lookup helpers and applied index.
  State state() const;
  uint64_t applied_index() const;
  // Blocks the calling thread (never the event loop) until an image at or past
  // `index` is published, or `timeout` passes: true when it was. Serves
  // read-your-writes for REST writes relayed to the controllers.
  bool wait_applied(uint64_t index, std::chrono::milliseconds timeout) const;

  void on_change(Listener listener);
  void publish(State next);

  // The incarnation id this process registers with (set by the broker agent
  // before the data plane starts; "" when no agent runs, as in tests). An
  // image whose registration of this broker carries another incarnation is
  // from before a restart: its leaderships are history, not orders.
  void set_local_incarnation(std::string id);
  std::string local_incarnation() const;

 private:
  static Image image_of(const State& state) { return Image(state, &state->image()); }

  mutable std::mutex mutex_;
  mutable std::condition_variable published_;
  State state_;
  std::vector<Listener> listeners_;
  std::string local_incarnation_;
};

}  // namespace dmq::broker
