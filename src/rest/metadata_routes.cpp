#include "rest/metadata_routes.h"

#include <httplib.h>

#include "common/metrics.h"

namespace dmq::rest {

void register_metadata_routes(net::HttpServer& http, const broker::MetadataView& view,
                              cluster::PartitionOffsetsFn offsets, ListFilterFn listing_filter) {
  http.get("/v1/brokers", [&view](const httplib::Request&) {
    return net::HttpResponse{200, cluster::brokers_json(*view.state())};
  });
  http.get("/v1/topics", [&view, listing_filter](const httplib::Request& req) {
    ListFilter filter = listing_filter ? listing_filter(req) : nullptr;
    std::function<bool(const std::string&)> shown;
    if (filter) {
      shown = [&filter](const std::string& topic) {
        return filter(security::ResourceType::kTopic, topic);
      };
    }
    return net::HttpResponse{200, cluster::topics_json(*view.state(), shown)};
  });
  http.get(R"(/v1/topics/([^/]+))", [&view, offsets](const httplib::Request& req) {
    std::string name = req.matches[1];
    auto body = cluster::topic_json(*view.state(), name, offsets);
    if (!body) return net::json_error(404, "unknown_topic", "no topic named '" + name + "'");
    return net::HttpResponse{200, *body};
  });
}

void register_metadata_metrics(const broker::MetadataView& view) {
  auto& r = metrics::registry();
  auto& alive = r.gauge("dmq_brokers", "Registered brokers by state.", {{"state", "alive"}});
  auto& fenced = r.gauge("dmq_brokers", "Registered brokers by state.", {{"state", "fenced"}});
  auto& topics = r.gauge("dmq_topics", "Topics in the cluster.");
  auto& partitions = r.gauge("dmq_partitions", "Partitions in the cluster.");
  auto& offline = r.gauge("dmq_offline_partitions", "Partitions without a leader.");
  auto& applied =
      r.gauge("dmq_metadata_applied_index", "Metadata log index reflected in this node's view.");
  r.add_collector([&view, &alive, &fenced, &topics, &partitions, &offline, &applied] {
    auto state = view.state();
    const auto& image = state->image();
    double n_alive = 0, n_fenced = 0, n_partitions = 0, n_offline = 0;
    for (const auto& [id, broker] : image.brokers) (broker.fenced ? n_fenced : n_alive) += 1;
    for (const auto& [name, topic] : image.topics) {
      n_partitions += static_cast<double>(topic.partitions.size());
      for (const auto& p : topic.partitions) n_offline += p.leader == cluster::kNoLeader ? 1 : 0;
    }
    alive.set(n_alive);
    fenced.set(n_fenced);
    topics.set(static_cast<double>(image.topics.size()));
    partitions.set(n_partitions);
    offline.set(n_offline);
    applied.set(static_cast<double>(state->applied_index().value));
  });
}

}  // namespace dmq::rest
