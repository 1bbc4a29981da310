#include "broker/metadata_view.h"

namespace dmq::broker {

MetadataView::MetadataView() : state_(std::make_shared<const cluster::MetadataState>()) {}

MetadataView::Image MetadataView::current() const {
  return image_of(state());
}

MetadataView::State MetadataView::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

uint64_t MetadataView::applied_index() const {
  return state()->applied_index().value;
}

bool MetadataView::wait_applied(uint64_t index, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return published_.wait_for(lock, timeout, [&] { return state_->applied_index().value >= index; });
}

void MetadataView::on_change(Listener listener) {
  listeners_.push_back(std::move(listener));
}

void MetadataView::publish(State next) {
  State previous;
  {
    std::lock_guard lock(mutex_);
    previous = state_;
    state_ = next;
  }
  published_.notify_all();
  for (auto& listener : listeners_) listener(image_of(previous), image_of(next));
}

void MetadataView::set_local_incarnation(std::string id) {
  std::lock_guard lock(mutex_);
  local_incarnation_ = std::move(id);
}

std::string MetadataView::local_incarnation() const {
  std::lock_guard lock(mutex_);
  return local_incarnation_;
}

}  // namespace dmq::broker
