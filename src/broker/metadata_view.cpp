#include "broker/metadata_view.h"

namespace dmq::broker {

MetadataView::MetadataView() : image_(std::make_shared<const cluster::MetadataImage>()) {}

MetadataView::Image MetadataView::current() const {
  std::lock_guard lock(mutex_);
  return image_;
}

uint64_t MetadataView::applied_index() const {
  std::lock_guard lock(mutex_);
  return applied_index_;
}

void MetadataView::on_change(Listener listener) { listeners_.push_back(std::move(listener)); }

void MetadataView::publish(Image next, uint64_t applied_index) {
  Image previous;
  {
    std::lock_guard lock(mutex_);
    previous = image_;
    image_ = next;
    applied_index_ = applied_index;
  }
  for (auto& listener : listeners_) listener(previous, next);
}

}  // namespace dmq::broker
