// The Kafka service in-process: a real listener on a free port, real
// partition logs in a temporary directory, a hand-made metadata image and a
// fake controller. Clients are blocking sockets speaking the codec's
// client-side encoders, so every test checks bytes on the wire.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <asio.hpp>
#include <deque>
#include <filesystem>
#include <future>
#include <thread>

#include "broker/metadata_view.h"
#include "broker/partition_manager.h"
#include "common/log.h"
#include "kafka/protocol/message_set.h"
#include "kafka/protocol/record_batch.h"
#include "kafka/protocol/request.h"
#include "kafka/server/service.h"

using namespace dmq;
using namespace dmq::kafka;

namespace {

cluster::PartitionState partition(int32_t id, int32_t leader) {
  cluster::PartitionState p;
  p.id = cluster::PartitionId(id);
  p.replicas = {cluster::BrokerId(leader)};
  p.isr = {cluster::BrokerId(leader)};
  p.leader = cluster::BrokerId(leader);
  p.leader_epoch = cluster::LeaderEpoch(3);
  return p;
}

cluster::TopicState topic(const std::string& name, int32_t partitions, int32_t leader = 1) {
  cluster::TopicState t;
  t.name = name;
  // A uuid in the controller's text form, stable per name.
  const uint64_t h = std::hash<std::string>{}(name);
  char id[40];
  std::snprintf(id, sizeof id, "%08x-0000-4000-8000-%012llx", static_cast<unsigned>(h >> 32),
                static_cast<unsigned long long>(h & 0xffffffffffffull));
  t.topic_id = id;
  for (int32_t i = 0; i < partitions; ++i) t.partitions.push_back(partition(i, leader));
  return t;
}

void publish(broker::MetadataView& view, const cluster::MetadataImage& image, uint64_t index) {
  view.publish(std::make_shared<const cluster::MetadataState>(image, cluster::LogIndex(index)));
}

// Creates topics by publishing a new image, as the controller's wiring would.
class FakeController : public broker::ControllerClient {
 public:
  FakeController(asio::io_context& io, broker::MetadataView& view) : io_(io), view_(view) {}
  void create_topic(const broker::TopicSpec& spec, bool validate_only, Done done) override {
    auto image = view_.current();
    broker::AdminResult r{201, "", "", "{}"};
    if (image->topics.count(spec.name)) r = {409, "topic_exists", "exists", ""};
    if (r.ok() && !validate_only) {
      auto next = std::make_shared<cluster::MetadataImage>(*image);
      next->topics[spec.name] = topic(spec.name, spec.partitions);
      asio::post(io_, [this, next] { publish(view_, *next, ++index_); });
    }
    asio::post(io_, [done, r] { done(r); });
  }
  void delete_topic(const std::string& name, Done done) override {
    auto image = view_.current();
    broker::AdminResult r{200, "", "", "{}"};
    if (!image->topics.count(name)) {
      r = {404, "unknown_topic", "no such topic", ""};
    } else {
      auto next = std::make_shared<cluster::MetadataImage>(*image);
      next->topics.erase(name);
      asio::post(io_, [this, next] { publish(view_, *next, ++index_); });
    }
    asio::post(io_, [done, r] { done(r); });
  }
  void create_partitions(const std::string&, int32_t, bool, Done done) override {
    asio::post(io_, [done] { done({500, "internal", "not in this fake", ""}); });
  }

 private:
  asio::io_context& io_;
  broker::MetadataView& view_;
  uint64_t index_ = 100;
};

// One node: options, metadata, the Service on a loop thread.
struct Node {
  asio::io_context io;
  Options options;
  broker::MetadataView view;
  std::unique_ptr<FakeController> controller;
  std::unique_ptr<Service> service;
  std::thread thread;
  std::string dir;

  explicit Node(std::function<void(Options&)> tweak = {}) {
    log::configure(log::Level::kWarn, log::Format::kText);
    char tmpl[] = "/tmp/dmq-kserver-XXXXXX";
    dir = mkdtemp(tmpl);
    options.data_dir = dir;
    options.kafka_listen = {"127.0.0.1", 0};
    options.advertised_kafka = {"127.0.0.1", 0};
    if (tweak) tweak(options);
    auto image = std::make_shared<cluster::MetadataImage>();
    cluster::BrokerRegistration b;
    b.id = cluster::BrokerId(1);
    b.kafka_host = "127.0.0.1";
    b.kafka_port = 1;  // replaced below once the port is known
    b.fenced = false;
    image->brokers[b.id] = b;
    image->topics["t"] = topic("t", 2);
    image->topics["elsewhere"] = topic("elsewhere", 1, /*leader=*/2);
    publish(view, *image, 1);
    controller = std::make_unique<FakeController>(io, view);
    auto partitions = std::make_unique<broker::PartitionManager>(io, options, view, *controller);
    partitions->set_housekeeping_interval(std::chrono::milliseconds(20));
    service = std::make_unique<Service>(io, options, std::move(partitions), *controller);
    REQUIRE(service->start() == "");
    auto with_port = std::make_shared<cluster::MetadataImage>(*view.current());
    with_port->brokers[cluster::BrokerId(1)].kafka_port = service->port();
    publish(view, *with_port, 2);
    thread = std::thread([this] { io.run(); });
  }
  ~Node() {
    std::promise<void> stopped;
    asio::post(io, [&] {
      service->stop();
      stopped.set_value();
    });
    stopped.get_future().wait();
    io.stop();
    thread.join();
    service.reset();
    std::filesystem::remove_all(dir);
  }
  uint16_t port() const { return service->port(); }
  // Publishes `image` from the loop thread (where the view is read) and waits.
  void publish_on_loop(const cluster::MetadataImage& image, uint64_t index) {
    std::promise<void> published;
    asio::post(io, [&] {
      publish(view, image, index);
      published.set_value();
    });
    published.get_future().wait();
  }
};

// A blocking client; every read is bounded by a 10 s socket timeout so a
// broken server fails the test instead of hanging it.
struct Client {
  asio::io_context io;
  asio::ip::tcp::socket socket{io};
  int32_t next_correlation = 1;

  explicit Client(uint16_t port) {
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
    timeval tv{10, 0};
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  template <class Req>
  int32_t send(int16_t version, const Req& req) {
    int32_t corr = next_correlation++;
    EncodedFrame f = encode_request(version, corr, std::string_view("unit-test"), req);
    send_raw(f.bytes);
    return corr;
  }
  void send_raw(std::string_view bytes) {
    asio::write(socket, asio::buffer(bytes.data(), bytes.size()));
  }
  // The next frame without its size prefix; "" when the server closed.
  std::string read_frame() {
    char prefix[4];
    asio::error_code ec;
    asio::read(socket, asio::buffer(prefix, 4), ec);
    if (ec) return "";
    uint32_t n = (uint32_t(uint8_t(prefix[0])) << 24) | (uint32_t(uint8_t(prefix[1])) << 16) |
                 (uint32_t(uint8_t(prefix[2])) << 8) | uint32_t(uint8_t(prefix[3]));
    std::string frame(n, '\0');
    asio::read(socket, asio::buffer(frame.data(), n), ec);
    return ec ? "" : frame;
  }
  // Decoded responses view their frame (Records), so frames are kept for the
  // client's lifetime.
  std::deque<std::string> frames;
  template <class Resp>
  Resp read(int16_t version, int32_t expected_correlation) {
    frames.push_back(read_frame());
    const std::string& frame = frames.back();
    REQUIRE(!frame.empty());
    Resp out;
    int32_t corr = 0;
    REQUIRE(decode_response(frame, version, corr, out) == CodecError::kOk);
    CHECK(corr == expected_correlation);
    return out;
  }
  bool closed_by_server() {
    char c;
    asio::error_code ec;
    socket.read_some(asio::buffer(&c, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }
};

// Request structs view their strings (as decoded ones view the frame): topic
// names here are string literals, batches outlive the send call.
std::string make_batch(int n, const std::string& prefix = "v") {
  RecordBatchBuilder b;
  for (int i = 0; i < n; ++i) {
    std::string key = "k" + std::to_string(i);
    std::string value = prefix + std::to_string(i);
    b.add(1700000000000 + i, key, value, {{"h", std::string_view("x")}});
  }
  return b.build();
}

ProduceRequest produce_request(std::string_view topic, int32_t partition, const std::string& batch,
                               int16_t acks = -1) {
  ProduceRequest req;
  req.acks = acks;
  req.timeout_ms = 5000;
  ProduceRequest::Topic t;
  t.name = topic;
  t.partitions.push_back({partition, Records::view(batch)});
  req.topics.push_back(t);
  return req;
}

FetchRequest fetch_request(std::string_view topic, int32_t partition, int64_t offset,
                           int32_t max_wait_ms = 0) {
  FetchRequest req;
  req.max_wait_ms = max_wait_ms;
  req.min_bytes = 1;
  req.max_bytes = 1 << 20;
  FetchRequest::Topic t;
  t.topic = topic;
  FetchRequest::Partition p;
  p.partition = partition;
  p.fetch_offset = offset;
  p.partition_max_bytes = 1 << 20;
  t.partitions.push_back(p);
  req.topics.push_back(t);
  return req;
}

std::vector<std::string> values_of(std::string_view records) {
  std::vector<std::string> out;
  while (records.size() >= dmq::batch_layout::kHeaderSize) {
    BatchHeader h;
    REQUIRE(read_batch_header(records, h) == BatchError::kOk);
    if (h.total_size() > records.size()) break;  // trailing partial batch
    std::string payload;
    REQUIRE(decompress_records(records.substr(0, h.total_size()), payload) == BatchError::kOk);
    RecordIterator it(payload, h.record_count);
    Record r;
    while (it.next(r)) out.emplace_back(r.value.value_or(""));
    records.remove_prefix(h.total_size());
  }
  return out;
}

}  // namespace

TEST_CASE("kafka server: ApiVersions answers every version, and KIP-511 for a newer one") {
  Node node;
  Client c(node.port());
  for (int16_t v = 0; v <= 3; ++v) {
    ApiVersionsRequest req;
    req.client_software_name = "unit-test";
    req.client_software_version = "1.0";
    int32_t corr = c.send(v, req);
    auto resp = c.read<ApiVersionsResponse>(v, corr);
    CHECK(resp.error_code == ErrorCode::kNone);
    CHECK(resp.api_keys.size() == supported_apis().size());
  }
  // ApiVersions v9: header parsed, body not; a v0 error body naming key 18.
  Writer w;
  size_t at = w.placeholder_i32();
  w.i16(18);
  w.i16(9);
  w.i32(77);
  w.i16(-1);
  w.i8(0);
  w.patch_i32(at, static_cast<int32_t>(w.size() - 4));
  c.send_raw(w.bytes());
  auto resp = c.read<ApiVersionsResponse>(0, 77);
  CHECK(resp.error_code == ErrorCode::kUnsupportedVersion);
  REQUIRE(resp.api_keys.size() == 1);
  CHECK(resp.api_keys[0].api_key == 18);
}

TEST_CASE("kafka server: produce then fetch returns the records, and offsets advance") {
  Node node;
  Client c(node.port());
  std::string batch = make_batch(3);
  int32_t corr = c.send(7, produce_request("t", 1, batch));
  auto pr = c.read<ProduceResponse>(7, corr);
  REQUIRE(pr.topics.size() == 1);
  CHECK(pr.topics[0].partitions[0].error_code == ErrorCode::kNone);
  CHECK(pr.topics[0].partitions[0].base_offset == 0);
  corr = c.send(7, produce_request("t", 1, make_batch(2, "w")));
  pr = c.read<ProduceResponse>(7, corr);
  CHECK(pr.topics[0].partitions[0].base_offset == 3);

  corr = c.send(11, fetch_request("t", 1, 0));
  auto fr = c.read<FetchResponse>(11, corr);
  REQUIRE(fr.responses.size() == 1);
  const auto& p = fr.responses[0].partitions[0];
  CHECK(p.error_code == ErrorCode::kNone);
  CHECK(p.high_watermark == 5);
  CHECK(p.last_stable_offset == 5);
  CHECK(p.log_start_offset == 0);
  CHECK(values_of(p.records.bytes) == std::vector<std::string>{"v0", "v1", "v2", "w0", "w1"});
  // The stored batch is the produced one, with only offset and leader epoch stamped.
  BatchHeader h;
  REQUIRE(read_batch_header(p.records.bytes, h) == BatchError::kOk);
  CHECK(h.partition_leader_epoch == 3);
  CHECK(p.records.bytes.substr(16, batch.size() - 16) == std::string_view(batch).substr(16));

  // ListOffsets: earliest, latest, by timestamp (the third record of the first batch).
  ListOffsetsRequest lo;
  lo.topics.push_back({"t", {{1, -1, -2}, {1, -1, -1}, {1, -1, 1700000000002}}});
  corr = c.send(3, lo);
  auto lr = c.read<ListOffsetsResponse>(3, corr);
  REQUIRE(lr.topics[0].partitions.size() == 3);
  CHECK(lr.topics[0].partitions[0].offset == 0);
  CHECK(lr.topics[0].partitions[1].offset == 5);
  CHECK(lr.topics[0].partitions[2].offset == 2);

  corr = c.send(11, fetch_request("t", 1, 99));
  fr = c.read<FetchResponse>(11, corr);
  CHECK(fr.responses[0].partitions[0].error_code == ErrorCode::kOffsetOutOfRange);
}

TEST_CASE("kafka server: produce errors are Kafka's") {
  Node node([](Options& o) { o.message_max_bytes = 2000; });
  Client c(node.port());
  std::string corrupt = make_batch(2);
  corrupt[corrupt.size() - 1] ^= 0x5a;
  int32_t corr = c.send(7, produce_request("t", 0, corrupt));
  CHECK(c.read<ProduceResponse>(7, corr).topics[0].partitions[0].error_code ==
        ErrorCode::kCorruptMessage);
  corr = c.send(7, produce_request("t", 0, make_batch(1, std::string(5000, 'x'))));
  CHECK(c.read<ProduceResponse>(7, corr).topics[0].partitions[0].error_code ==
        ErrorCode::kMessageTooLarge);
  corr = c.send(7, produce_request("nope", 0, make_batch(1)));
  CHECK(c.read<ProduceResponse>(7, corr).topics[0].partitions[0].error_code ==
        ErrorCode::kUnknownTopicOrPartition);
  corr = c.send(7, produce_request("t", 7, make_batch(1)));
  CHECK(c.read<ProduceResponse>(7, corr).topics[0].partitions[0].error_code ==
        ErrorCode::kUnknownTopicOrPartition);
  corr = c.send(7, produce_request("elsewhere", 0, make_batch(1)));
  CHECK(c.read<ProduceResponse>(7, corr).topics[0].partitions[0].error_code ==
        ErrorCode::kNotLeaderOrFollower);
  corr = c.send(7, produce_request("t", 0, make_batch(1), /*acks=*/2));
  CHECK(c.read<ProduceResponse>(7, corr).topics[0].partitions[0].error_code ==
        ErrorCode::kInvalidRequiredAcks);
  // Nothing was appended by any of these.
  corr = c.send(11, fetch_request("t", 0, 0));
  CHECK(c.read<FetchResponse>(11, corr).responses[0].partitions[0].high_watermark == 0);
}

TEST_CASE("kafka server: acks=0 gets no answer; the next request's answer comes first") {
  Node node;
  Client c(node.port());
  c.send(7, produce_request("t", 0, make_batch(4), /*acks=*/0));
  int32_t corr = c.send(1, MetadataRequest{});
  auto md = c.read<MetadataResponse>(1, corr);  // correlation checked inside
  CHECK(md.topics.size() == 2);
  // The append happened: a fetch sees it (after its group commit).
  FetchRequest f = fetch_request("t", 0, 0, /*max_wait_ms=*/5000);
  corr = c.send(11, f);
  CHECK(
      values_of(c.read<FetchResponse>(11, corr).responses[0].partitions[0].records.bytes).size() ==
      4);
}

TEST_CASE("kafka server: a parked fetch is answered in order and woken by a produce") {
  Node node;
  Client consumer(node.port());
  // Long poll on an empty partition, then a Metadata request pipelined behind it.
  int32_t fetch_corr = consumer.send(11, fetch_request("t", 0, 0, /*max_wait_ms=*/30000));
  int32_t md_corr = consumer.send(1, MetadataRequest{});
  Client producer(node.port());
  int32_t corr = producer.send(7, produce_request("t", 0, make_batch(2)));
  CHECK(producer.read<ProduceResponse>(7, corr).topics[0].partitions[0].error_code ==
        ErrorCode::kNone);
  // The fetch answers first (order kept) and carries the data: it was woken
  // by the append, well before its 30 s max_wait (the read timeout is 10 s).
  auto fr = consumer.read<FetchResponse>(11, fetch_corr);
  CHECK(values_of(fr.responses[0].partitions[0].records.bytes) ==
        std::vector<std::string>{"v0", "v1"});
  consumer.read<MetadataResponse>(1, md_corr);
}

TEST_CASE("kafka server: bad input closes only that connection") {
  Node node;
  Client healthy(node.port());
  {
    Client c(node.port());
    c.send_raw(std::string("\x7f\xff\xff\xff", 4));  // claims 2 GiB
    CHECK(c.closed_by_server());
  }
  {
    Client c(node.port());
    c.send_raw(std::string("\x00\x00\x00\x10", 4) + std::string(16, '\xee'));  // garbage
    CHECK(c.closed_by_server());
  }
  {
    Client c(node.port());
    Writer w;  // unknown API key 999
    size_t at = w.placeholder_i32();
    w.i16(999);
    w.i16(0);
    w.i32(5);
    w.i16(-1);
    w.patch_i32(at, static_cast<int32_t>(w.size() - 4));
    c.send_raw(w.bytes());
    CHECK(c.closed_by_server());
  }
  {
    Client c(node.port());
    // A truncated Produce body inside a well-formed frame.
    EncodedFrame f =
        encode_request(7, 9, std::string_view("x"), produce_request("t", 0, make_batch(1)));
    std::string cut = f.bytes.substr(0, f.bytes.size() - 30);
    uint32_t n = static_cast<uint32_t>(cut.size() - 4);
    cut[0] = char(n >> 24), cut[1] = char(n >> 16), cut[2] = char(n >> 8), cut[3] = char(n);
    c.send_raw(cut);
    CHECK(c.closed_by_server());
  }
  int32_t corr = healthy.send(1, MetadataRequest{});
  CHECK(healthy.read<MetadataResponse>(1, corr).brokers.size() == 1);
}

TEST_CASE("kafka server: frames above socket.request.max.bytes close the connection") {
  Node node([](Options& o) { o.socket_request_max_bytes = 1024; });
  Client c(node.port());
  int32_t corr = c.send(7, produce_request("t", 0, make_batch(1)));
  CHECK(c.read<ProduceResponse>(7, corr).topics[0].partitions[0].error_code == ErrorCode::kNone);
  c.send(7, produce_request("t", 0, make_batch(1, std::string(4000, 'y'))));
  CHECK(c.closed_by_server());
}

TEST_CASE("kafka server: metadata, auto-creation and admin requests") {
  Node node;
  Client c(node.port());
  MetadataRequest md;
  md.topics.emplace();
  md.topics->push_back({{}, std::string_view("t")});
  md.topics->push_back({{}, std::string_view("fresh")});
  md.topics->push_back({{}, std::string_view("bad name!")});
  int32_t corr = c.send(4, md);
  auto resp = c.read<MetadataResponse>(4, corr);
  REQUIRE(resp.topics.size() == 3);
  CHECK(resp.controller_id == 1);
  REQUIRE(resp.brokers.size() == 1);
  CHECK(resp.brokers[0].port == node.port());
  CHECK(resp.topics[0].partitions.size() == 2);
  CHECK(resp.topics[0].partitions[1].leader_id == 1);
  CHECK(resp.topics[0].partitions[1].leader_epoch == -1);  // v4 has no epochs
  CHECK(resp.topics[1].error_code == ErrorCode::kLeaderNotAvailable);
  CHECK(resp.topics[2].error_code == ErrorCode::kInvalidTopicException);

  CreateTopicsRequest ct;
  ct.topics.push_back({"made", 4, 1, {}, {}});
  ct.topics.push_back({"t", 1, 1, {}, {}});
  ct.topics.push_back({"x", 0, 1, {}, {}});
  corr = c.send(4, ct);
  auto cr = c.read<CreateTopicsResponse>(4, corr);
  REQUIRE(cr.topics.size() == 3);
  CHECK(cr.topics[0].error_code == ErrorCode::kNone);
  CHECK(cr.topics[1].error_code == ErrorCode::kTopicAlreadyExists);
  CHECK(cr.topics[2].error_code == ErrorCode::kInvalidPartitions);
  // Visible at once on this broker, and writable.
  corr = c.send(7, produce_request("made", 3, make_batch(1)));
  CHECK(c.read<ProduceResponse>(7, corr).topics[0].partitions[0].error_code == ErrorCode::kNone);

  DescribeConfigsRequest dc;
  dc.resources.push_back({2, "made", std::nullopt});
  dc.resources.push_back({2, "missing", std::nullopt});
  corr = c.send(1, dc);
  auto dr = c.read<DescribeConfigsResponse>(1, corr);
  CHECK(dr.results[0].error_code == ErrorCode::kNone);
  bool has_retention = false;
  for (auto& cfg : dr.results[0].configs) has_retention |= cfg.name == "retention.ms";
  CHECK(has_retention);
  CHECK(dr.results[1].error_code == ErrorCode::kUnknownTopicOrPartition);

  DeleteTopicsRequest del;
  del.topic_names = {"made", "missing"};
  corr = c.send(1, del);
  auto delr = c.read<DeleteTopicsResponse>(1, corr);
  CHECK(delr.responses[0].error_code == ErrorCode::kNone);
  CHECK(delr.responses[1].error_code == ErrorCode::kUnknownTopicOrPartition);
  corr = c.send(7, produce_request("made", 0, make_batch(1)));
  CHECK(c.read<ProduceResponse>(7, corr).topics[0].partitions[0].error_code ==
        ErrorCode::kUnknownTopicOrPartition);
}

TEST_CASE("kafka server: DescribeCluster names the live brokers; group APIs answer retriably") {
  Node node;
  Client c(node.port());
  int32_t corr = c.send(0, DescribeClusterRequest{});
  auto dc = c.read<DescribeClusterResponse>(0, corr);
  CHECK(dc.error_code == ErrorCode::kNone);
  CHECK(dc.cluster_id == "dmq");
  CHECK(dc.controller_id == 1);
  REQUIRE(dc.brokers.size() == 1);
  CHECK(dc.brokers[0].port == node.port());
  // No group coordinator registered: FindCoordinator gets a retriable error.
  FindCoordinatorRequest fc;
  fc.key = "g";
  corr = c.send(1, fc);
  CHECK(c.read<FindCoordinatorResponse>(1, corr).error_code == ErrorCode::kCoordinatorNotAvailable);
}

TEST_CASE("kafka server: a fetch past the high watermark parks, then times out empty") {
  Node node;
  Client c(node.port());
  FetchRequest f = fetch_request("t", 0, 0, /*max_wait_ms=*/50);
  int32_t corr = c.send(11, f);
  auto fr = c.read<FetchResponse>(11, corr);
  CHECK(fr.responses[0].partitions[0].error_code == ErrorCode::kNone);
  CHECK(fr.responses[0].partitions[0].records.size() == 0);
  CHECK(fr.responses[0].partitions[0].high_watermark == 0);
  // Response max_bytes: two partitions with data, a budget that fits only the
  // first batch; the second partition comes back empty (but with its watermark).
  for (int32_t p = 0; p < 2; ++p) {
    corr = c.send(7, produce_request("t", p, make_batch(20)));
    c.read<ProduceResponse>(7, corr);
  }
  FetchRequest two = fetch_request("t", 0, 0);
  two.topics[0].partitions.push_back(two.topics[0].partitions[0]);
  two.topics[0].partitions[1].partition = 1;
  two.max_bytes = 10;  // smaller than one batch: the first still comes (KIP-74)
  corr = c.send(11, two);
  fr = c.read<FetchResponse>(11, corr);
  CHECK(values_of(fr.responses[0].partitions[0].records.bytes).size() == 20);
  CHECK(fr.responses[0].partitions[1].records.size() == 0);
  CHECK(fr.responses[0].partitions[1].high_watermark == 20);
}

TEST_CASE("kafka server: leader epoch fencing, min.insync.replicas and LogAppendTime") {
  Node node;
  // A topic needing 2 in-sync replicas and one stamping LogAppendTime.
  auto image = std::make_shared<cluster::MetadataImage>(*node.view.current());
  image->topics["strict"] = topic("strict", 1);
  image->topics["strict"].configs["min.insync.replicas"] = "2";
  image->topics["stamped"] = topic("stamped", 1);
  image->topics["stamped"].configs["message.timestamp.type"] = "LogAppendTime";
  node.publish_on_loop(*image, 50);

  Client c(node.port());
  int32_t corr = c.send(7, produce_request("strict", 0, make_batch(1)));
  CHECK(c.read<ProduceResponse>(7, corr).topics[0].partitions[0].error_code ==
        ErrorCode::kNotEnoughReplicas);
  corr = c.send(7, produce_request("strict", 0, make_batch(1), /*acks=*/1));
  CHECK(c.read<ProduceResponse>(7, corr).topics[0].partitions[0].error_code == ErrorCode::kNone);

  corr = c.send(7, produce_request("stamped", 0, make_batch(2)));
  auto pr = c.read<ProduceResponse>(7, corr);
  CHECK(pr.topics[0].partitions[0].log_append_time_ms > 1700000000000);
  corr = c.send(11, fetch_request("stamped", 0, 0));
  auto fr = c.read<FetchResponse>(11, corr);
  BatchHeader h;
  REQUIRE(read_batch_header(fr.responses[0].partitions[0].records.bytes, h) == BatchError::kOk);
  CHECK(h.is_log_append_time());
  CHECK(h.max_timestamp == pr.topics[0].partitions[0].log_append_time_ms);
  CHECK(values_of(fr.responses[0].partitions[0].records.bytes).size() == 2);  // CRC still valid

  // Fetch v9+ with a stale or future leader epoch (the image says 3).
  FetchRequest stale = fetch_request("t", 0, 0);
  stale.topics[0].partitions[0].current_leader_epoch = 2;
  corr = c.send(11, stale);
  CHECK(c.read<FetchResponse>(11, corr).responses[0].partitions[0].error_code ==
        ErrorCode::kFencedLeaderEpoch);
  stale.topics[0].partitions[0].current_leader_epoch = 4;
  corr = c.send(11, stale);
  CHECK(c.read<FetchResponse>(11, corr).responses[0].partitions[0].error_code ==
        ErrorCode::kUnknownLeaderEpoch);
}

TEST_CASE("kafka server: retention deletes whole old segments on the housekeeping timer") {
  Node node([](Options& o) {
    o.segment_bytes = 2048;  // roll after every few batches
    o.retention_bytes = 1;   // keep only the active segment
  });
  Client c(node.port());
  for (int i = 0; i < 10; ++i) {
    int32_t corr = c.send(7, produce_request("t", 0, make_batch(5, std::string(200, 'r'))));
    REQUIRE(c.read<ProduceResponse>(7, corr).topics[0].partitions[0].error_code ==
            ErrorCode::kNone);
  }
  // Bounded wait for the 20 ms housekeeping timer to run retention.
  int64_t earliest = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (earliest == 0 && std::chrono::steady_clock::now() < deadline) {
    ListOffsetsRequest lo;
    lo.topics.push_back({"t", {{0, -1, -2}}});
    int32_t corr = c.send(3, lo);
    earliest = c.read<ListOffsetsResponse>(3, corr).topics[0].partitions[0].offset;
  }
  // Retention may still be deleting (one pass per timer tick): wait until
  // the log start stops moving before fetching at it.
  for (int64_t seen = -1; seen != earliest && std::chrono::steady_clock::now() < deadline;) {
    seen = earliest;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ListOffsetsRequest lo;
    lo.topics.push_back({"t", {{0, -1, -2}}});
    int32_t corr = c.send(3, lo);
    earliest = c.read<ListOffsetsResponse>(3, corr).topics[0].partitions[0].offset;
  }
  CHECK(earliest > 0);
  CHECK(earliest % 5 == 0);  // whole batches (segments) went
  int32_t corr = c.send(11, fetch_request("t", 0, 0));
  auto fr = c.read<FetchResponse>(11, corr);
  CHECK(fr.responses[0].partitions[0].error_code == ErrorCode::kOffsetOutOfRange);
  CHECK(fr.responses[0].partitions[0].log_start_offset == earliest);
  corr = c.send(11, fetch_request("t", 0, earliest));
  fr = c.read<FetchResponse>(11, corr);
  CHECK(fr.responses[0].partitions[0].high_watermark == 50);
  CHECK(!values_of(fr.responses[0].partitions[0].records.bytes).empty());
}

TEST_CASE("kafka server: acks=all answers REQUEST_TIMED_OUT when the ISR does not catch up") {
  Node node;
  // Broker 2 is in the ISR but never fetches, so the high watermark stays
  // put (until replica.lag.time.max.ms would drop it, far beyond this test).
  auto image = std::make_shared<cluster::MetadataImage>(*node.view.current());
  image->topics["waits"] = topic("waits", 1);
  image->topics["waits"].partitions[0].replicas = {cluster::BrokerId(1), cluster::BrokerId(2)};
  image->topics["waits"].partitions[0].isr = {cluster::BrokerId(1), cluster::BrokerId(2)};
  node.publish_on_loop(*image, 60);

  Client c(node.port());
  const std::string batch = make_batch(3);  // the request views it
  ProduceRequest req = produce_request("waits", 0, batch);
  req.timeout_ms = 300;
  auto sent = std::chrono::steady_clock::now();
  int32_t corr = c.send(7, req);
  auto resp = c.read<ProduceResponse>(7, corr);
  auto waited = std::chrono::steady_clock::now() - sent;
  CHECK(resp.topics[0].partitions[0].error_code == ErrorCode::kRequestTimedOut);
  CHECK(waited >= std::chrono::milliseconds(300));

  // The batch was written (a retry may duplicate it unless idempotent, as in
  // Kafka) but is not committed: the high watermark has not moved.
  corr = c.send(7, produce_request("waits", 0, make_batch(1), /*acks=*/1));
  auto acked = c.read<ProduceResponse>(7, corr).topics[0].partitions[0];
  CHECK(acked.error_code == ErrorCode::kNone);
  CHECK(acked.base_offset == 3);
  corr = c.send(11, fetch_request("waits", 0, 0));
  CHECK(c.read<FetchResponse>(11, corr).responses[0].partitions[0].high_watermark == 0);
}

TEST_CASE("kafka server: frames split at any byte, or many in one write, are read whole") {
  Node node;
  // A produce request larger than the connection's read-ahead buffer between
  // two small requests, sent as one byte stream.
  const std::string big = make_batch(40, std::string(1000, 'b'));
  REQUIRE(big.size() > 32 * 1024);
  Client c(node.port());
  std::string stream;
  int32_t corrs[3];
  corrs[0] = c.next_correlation++;
  stream += encode_request(1, corrs[0], std::string_view("unit-test"), MetadataRequest{}).bytes;
  corrs[1] = c.next_correlation++;
  stream += encode_request(7, corrs[1], std::string_view("unit-test"),
                           produce_request("t", 1, big, /*acks=*/1))
                .bytes;
  corrs[2] = c.next_correlation++;
  stream += encode_request(1, corrs[2], std::string_view("unit-test"), MetadataRequest{}).bytes;

  auto expect_answers = [&] {
    CHECK(c.read<MetadataResponse>(1, corrs[0]).topics.size() == 2);
    CHECK(c.read<ProduceResponse>(7, corrs[1]).topics[0].partitions[0].error_code ==
          ErrorCode::kNone);
    CHECK(c.read<MetadataResponse>(1, corrs[2]).topics.size() == 2);
  };
  SUBCASE("in one write") {
    c.send_raw(stream);
    expect_answers();
  }
  SUBCASE("in pieces that cut size prefixes and bodies") {
    // 1-byte pieces through the first size prefix and header, then pieces
    // that end inside the big body and inside the last size prefix.
    std::vector<size_t> cuts;
    for (size_t i = 1; i <= 12; ++i) cuts.push_back(i);
    const size_t second = stream.size() - (stream.size() - cuts.back()) / 2;
    for (size_t at : {size_t{100}, size_t{20000}, second, stream.size() - 30, stream.size() - 28,
                      stream.size()}) {
      if (at > cuts.back()) cuts.push_back(at);
    }
    size_t from = 0;
    for (size_t to : cuts) {
      c.send_raw(std::string_view(stream).substr(from, to - from));
      from = to;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));  // separate reads
    }
    expect_answers();
  }
  // The big batch arrived intact (its CRC is checked on append and here).
  int32_t corr = c.send(11, fetch_request("t", 1, 0));
  auto values = values_of(c.read<FetchResponse>(11, corr).responses[0].partitions[0].records.bytes);
  REQUIRE(values.size() == 40);
  CHECK(values[39] == std::string(1000, 'b') + "39");
}

TEST_CASE("kafka server: old and new versions: message sets in, down-conversion out, topic ids") {
  Node node;
  Client c(node.port());
  // Produce v2 with a magic-1 message set (kafka-go, sarama before 0.11).
  std::string batch = make_batch(3);
  DownConversion legacy = down_convert(batch, 1, 0, SIZE_MAX);
  REQUIRE(legacy.messages == 3);
  int32_t corr = c.send(2, produce_request("t", 0, legacy.message_set));
  auto pr = c.read<ProduceResponse>(2, corr);
  CHECK(pr.topics[0].partitions[0].error_code == ErrorCode::kNone);
  CHECK(pr.topics[0].partitions[0].base_offset == 0);
  corr = c.send(7, produce_request("t", 0, make_batch(2, "w")));
  CHECK(c.read<ProduceResponse>(7, corr).topics[0].partitions[0].base_offset == 3);

  // Fetch v0 (magic 0) and v3 (magic 1) from offset 1: converted, not the stored batches.
  for (int16_t v : {0, 3}) {
    CAPTURE(v);
    corr = c.send(v, fetch_request("t", 0, 1));
    auto fr = c.read<FetchResponse>(v, corr);
    const auto& p = fr.responses[0].partitions[0];
    CHECK(p.error_code == ErrorCode::kNone);
    CHECK(records_magic(p.records.bytes) == (v == 0 ? 0 : 1));
    LegacyConversion back = convert_message_set(p.records.bytes, 1 << 20);
    REQUIRE(back.error == BatchError::kOk);
    CHECK(values_of(back.batch) == std::vector<std::string>{"v1", "v2", "w0", "w1"});
  }
  // ...while a v4 fetch still gets the stored magic-2 batches.
  corr = c.send(4, fetch_request("t", 0, 0));
  auto stored = c.read<FetchResponse>(4, corr).responses[0].partitions[0];
  CHECK(records_magic(stored.records.bytes) == 2);
  CHECK(values_of(stored.records.bytes) == std::vector<std::string>{"v0", "v1", "v2", "w0", "w1"});

  // ListOffsets v0: the old offsets array.
  ListOffsetsRequest lo;
  lo.topics.push_back({"t", {{0, -1, -1, 1}}});
  corr = c.send(0, lo);
  auto lr = c.read<ListOffsetsResponse>(0, corr);
  CHECK(lr.topics[0].partitions[0].old_style_offsets == std::vector<int64_t>{5});

  // Metadata v12 returns the topic id; Metadata v12 and Fetch v13/v16 find the topic by it.
  MetadataRequest md;
  md.topics.emplace();
  md.topics->push_back({{}, std::string_view("t")});
  corr = c.send(12, md);
  Uuid id = c.read<MetadataResponse>(12, corr).topics[0].topic_id;
  REQUIRE(!id.is_zero());
  MetadataRequest by_id;
  by_id.topics.emplace();
  by_id.topics->push_back({id, std::nullopt});
  corr = c.send(12, by_id);
  auto named = c.read<MetadataResponse>(12, corr);
  CHECK(named.topics[0].error_code == ErrorCode::kNone);
  CHECK(named.topics[0].name == std::optional<std::string>("t"));
  for (int16_t v : {13, 16}) {
    FetchRequest f = fetch_request("", 0, 3);
    f.topics[0].topic_id = id;
    corr = c.send(v, f);
    auto fr = c.read<FetchResponse>(v, corr);
    CHECK(fr.responses[0].topic_id == id);
    CHECK(values_of(fr.responses[0].partitions[0].records.bytes) ==
          std::vector<std::string>{"w0", "w1"});
    f.topics[0].topic_id.bytes[0] ^= 1;
    corr = c.send(v, f);
    CHECK(c.read<FetchResponse>(v, corr).responses[0].partitions[0].error_code ==
          ErrorCode::kUnknownTopicId);
  }
}

namespace {

uint64_t segment_bytes_on_disk(const std::string& partition_dir) {
  uint64_t total = 0;
  for (const auto& f : std::filesystem::directory_iterator(partition_dir))
    if (f.path().extension() == ".log") total += std::filesystem::file_size(f.path());
  return total;
}

}  // namespace

TEST_CASE("kafka server: DescribeLogDirs names the log dir, its volume and each replica's size") {
  Node node;
  Client c(node.port());
  const std::string batch = make_batch(3);
  int32_t corr = c.send(3, produce_request("t", 0, batch));
  REQUIRE(c.read<ProduceResponse>(3, corr).topics[0].partitions[0].error_code == ErrorCode::kNone);
  const std::string logs = std::filesystem::absolute(node.dir + "/logs").lexically_normal();
  const auto on_disk = static_cast<int64_t>(segment_bytes_on_disk(logs + "/t-0"));
  REQUIRE(on_disk >= static_cast<int64_t>(batch.size()));
  for (int16_t v = 0; v <= 4; ++v) {
    CAPTURE(v);
    corr = c.send(v, DescribeLogDirsRequest{});  // null topics: every hosted replica
    auto resp = c.read<DescribeLogDirsResponse>(v, corr);
    CHECK(resp.error_code == ErrorCode::kNone);
    REQUIRE(resp.results.size() == 1);
    const auto& dir = resp.results[0];
    CHECK(dir.error_code == ErrorCode::kNone);
    CHECK(dir.log_dir == logs);
    REQUIRE(dir.topics.size() == 1);  // "elsewhere" is led by broker 2, not hosted here
    CHECK(dir.topics[0].name == "t");
    REQUIRE(dir.topics[0].partitions.size() == 2);
    CHECK(dir.topics[0].partitions[0].partition_index == 0);
    CHECK(dir.topics[0].partitions[0].partition_size == on_disk);
    CHECK(dir.topics[0].partitions[0].offset_lag == 0);
    CHECK_FALSE(dir.topics[0].partitions[0].is_future_key);
    CHECK(dir.topics[0].partitions[1].partition_size == 0);
    if (v >= 4) {
      CHECK(dir.total_bytes > 0);
      CHECK(dir.usable_bytes >= 0);
      CHECK(dir.usable_bytes <= dir.total_bytes);
    } else {
      CHECK(dir.total_bytes == -1);  // absent before v4
    }
  }
  // Only what was asked for; unknown and unhosted partitions are left out.
  DescribeLogDirsRequest some;
  some.topics.emplace();
  some.topics->push_back({"t", {1, 7}});
  some.topics->push_back({"elsewhere", {0}});
  corr = c.send(4, some);
  auto resp = c.read<DescribeLogDirsResponse>(4, corr);
  REQUIRE(resp.results.size() == 1);
  REQUIRE(resp.results[0].topics.size() == 1);
  REQUIRE(resp.results[0].topics[0].partitions.size() == 1);
  CHECK(resp.results[0].topics[0].partitions[0].partition_index == 1);
}

TEST_CASE("kafka server: DescribeProducers shows the leader's idempotent producers") {
  Node node;
  Client c(node.port());
  RecordBatchBuilder::Options o;
  o.producer_id = 4242;
  o.producer_epoch = 3;
  o.base_sequence = 0;
  RecordBatchBuilder b(o);
  for (int i = 0; i < 4; ++i) b.add(1700000000000 + i, std::nullopt, std::string_view("x"));
  const std::string batch = b.build();
  int32_t corr = c.send(3, produce_request("t", 1, batch));
  REQUIRE(c.read<ProduceResponse>(3, corr).topics[0].partitions[0].error_code == ErrorCode::kNone);
  DescribeProducersRequest req;
  req.topics.push_back({"t", {0, 1, 5}});
  req.topics.push_back({"elsewhere", {0}});
  req.topics.push_back({"nope", {0}});
  corr = c.send(0, req);
  auto resp = c.read<DescribeProducersResponse>(0, corr);
  REQUIRE(resp.topics.size() == 3);
  REQUIRE(resp.topics[0].partitions.size() == 3);
  CHECK(resp.topics[0].partitions[0].error_code == ErrorCode::kNone);
  CHECK(resp.topics[0].partitions[0].active_producers.empty());
  const auto& p1 = resp.topics[0].partitions[1];
  CHECK(p1.error_code == ErrorCode::kNone);
  REQUIRE(p1.active_producers.size() == 1);
  CHECK(p1.active_producers[0].producer_id == 4242);
  CHECK(p1.active_producers[0].producer_epoch == 3);
  CHECK(p1.active_producers[0].last_sequence == 3);
  CHECK(p1.active_producers[0].last_timestamp == 1700000000003);
  CHECK(p1.active_producers[0].current_txn_start_offset == -1);
  CHECK(resp.topics[0].partitions[2].error_code == ErrorCode::kUnknownTopicOrPartition);
  CHECK(resp.topics[1].partitions[0].error_code == ErrorCode::kNotLeaderOrFollower);
  CHECK(resp.topics[2].partitions[0].error_code == ErrorCode::kUnknownTopicOrPartition);
}
