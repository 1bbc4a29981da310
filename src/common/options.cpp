#include "common/options.h"

#include <CLI/CLI.hpp>
#include <charconv>
#include <set>
#include <sstream>

#include "common/version.h"

namespace dmq {
namespace {

bool parse_int(const std::string& text, int64_t min, int64_t max, int64_t* out) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return false;
  if (value < min || value > max) return false;
  *out = value;
  return true;
}

// CLI11's messages may span lines; the contract is one clear line.
std::string first_line(const std::string& text) {
  auto end = text.find('\n');
  return end == std::string::npos ? text : text.substr(0, end);
}

}  // namespace

const char* role_name(Role role) {
  switch (role) {
    case Role::kController:
      return "controller";
    case Role::kBroker:
      return "broker";
    case Role::kCombined:
      return "combined";
  }
  return "combined";
}

std::optional<HostPort> parse_host_port(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  std::string host = text.substr(0, colon);
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty() || host.find_first_of(" /@,") != std::string::npos) return std::nullopt;
  int64_t port = 0;
  if (!parse_int(text.substr(colon + 1), 1, 65535, &port)) return std::nullopt;
  return HostPort{host, static_cast<uint16_t>(port)};
}

std::optional<std::vector<Voter>> parse_voters(const std::string& text, std::string* error) {
  std::vector<Voter> voters;
  std::set<int32_t> ids;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    auto at = item.find('@');
    int64_t id = 0;
    if (at == std::string::npos || !parse_int(item.substr(0, at), 1, INT32_MAX, &id)) {
      *error = "controller '" + item + "' is not of the form <node-id>@<host>:<port>";
      return std::nullopt;
    }
    auto address = parse_host_port(item.substr(at + 1));
    if (!address) {
      *error = "controller '" + item + "' has a malformed address";
      return std::nullopt;
    }
    if (!ids.insert(static_cast<int32_t>(id)).second) {
      *error = "controller id " + std::to_string(id) + " is listed twice";
      return std::nullopt;
    }
    voters.push_back({static_cast<int32_t>(id), *address});
  }
  if (voters.empty()) {
    *error = "--controllers is empty";
    return std::nullopt;
  }
  return voters;
}

std::optional<std::map<std::string, int32_t>> parse_connection_overrides(const std::string& text,
                                                                         std::string* error) {
  std::map<std::string, int32_t> out;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    if (item.empty()) continue;
    auto colon = item.rfind(':');
    int64_t count = 0;
    if (colon == std::string::npos || colon == 0 ||
        !parse_int(item.substr(colon + 1), 0, INT32_MAX, &count)) {
      *error = "max.connections.per.ip.overrides entry '" + item + "' is not <ip>:<count>";
      return std::nullopt;
    }
    out[item.substr(0, colon)] = static_cast<int32_t>(count);
  }
  return out;
}

namespace {

// "NAME://host:port,..." -> the first entry's address; a wildcard host
// ("PLAINTEXT://:9092") binds every interface.
std::optional<HostPort> first_listener_address(const std::string& listeners) {
  if (listeners.empty()) return std::nullopt;
  std::string first = listeners.substr(0, listeners.find(','));
  auto scheme = first.find("://");
  if (scheme == std::string::npos) return std::nullopt;
  std::string address = first.substr(scheme + 3);
  if (!address.empty() && address.front() == ':') address = "0.0.0.0" + address;
  auto parsed = parse_host_port(address);
  if (!parsed && address.size() > 2 && address.substr(address.size() - 2) == ":0") {
    // Port 0 (an ephemeral port, tests) is fine for a listener.
    auto host = parse_host_port(address.substr(0, address.size() - 1) + "1");
    if (host) return HostPort{host->host, 0};
  }
  return parsed;
}

// --kafka-listen / --listeners and --advertised-kafka / --advertised.listeners
// -> o.kafka_listen and o.advertised_kafka; an error message on bad input.
std::optional<std::string> resolve_kafka_addresses(Options& o, const std::string& kafka_listen,
                                                   std::string advertised_kafka) {
  auto kafka = parse_host_port(kafka_listen);
  if (!kafka) return "--kafka-listen '" + kafka_listen + "' is not host:port";
  o.kafka_listen = *kafka;
  // With --listeners, the first listener is the one this broker registers
  // (what other brokers' Metadata names it by); src/security validates the
  // whole list when the node starts.
  if (auto first = first_listener_address(o.security.listeners)) o.kafka_listen = *first;
  if (auto first = first_listener_address(o.security.advertised_listeners)) {
    if (advertised_kafka.empty()) advertised_kafka = first->to_string();
  }
  if (advertised_kafka.empty()) {
    o.advertised_kafka = o.kafka_listen;
    return std::nullopt;
  }
  auto advertised = parse_host_port(advertised_kafka);
  if (!advertised) return "--advertised-kafka '" + advertised_kafka + "' is not host:port";
  o.advertised_kafka = *advertised;
  return std::nullopt;
}

// --http.listeners ("HTTPS://h:p" or "HTTP://h:p", any case) or else
// --http-listen -> o.http_listen and o.security.http_tls; an error message.
std::optional<std::string> resolve_http_address(Options& o, std::string http_listen) {
  const std::string& text = o.security.http_listeners;
  if (!text.empty()) {
    auto sep = text.find("://");
    std::string scheme = text.substr(0, sep);
    for (auto& c : scheme) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (sep == std::string::npos || (scheme != "HTTP" && scheme != "HTTPS")) {
      return "--http.listeners '" + text + "' is not HTTP://host:port or HTTPS://host:port";
    }
    o.security.http_tls = scheme == "HTTPS";
    http_listen = text.substr(sep + 3);
  }
  auto http = parse_host_port(http_listen);
  if (!http) return "--http-listen '" + http_listen + "' is not host:port";
  o.http_listen = *http;
  return std::nullopt;
}

void add_http_security_options(CLI::App& app, SecurityOptions& s);

void add_security_options(CLI::App& app, SecurityOptions& s) {
  app.add_option("--listeners", s.listeners,
                 "Kafka listeners, e.g. PLAINTEXT://127.0.0.1:9092,SASL_SSL://0.0.0.0:9093 "
                 "(default: --kafka-listen as PLAINTEXT)");
  app.add_option("--advertised.listeners", s.advertised_listeners,
                 "Addresses given to clients per listener name (default: the listeners)");
  app.add_option("--listener.security.protocol.map", s.listener_security_protocol_map,
                 "Listener name to protocol, e.g. INTERNAL:SSL,EXTERNAL:SASL_SSL");
  app.add_option("--ssl.keystore.location", s.ssl_keystore_location,
                 "PEM file: the certificate chain, then the private key");
  app.add_option("--ssl.key.password.file", s.ssl_key_password_file,
                 "File holding the password of an encrypted private key");
  app.add_option("--ssl.truststore.location", s.ssl_truststore_location, "PEM CA bundle");
  app.add_option("--ssl.client.auth", s.ssl_client_auth, "none, requested or required")
      ->check(CLI::IsMember({"none", "requested", "required"}))
      ->capture_default_str();
  app.add_option("--ssl.principal.mapping.rules", s.ssl_principal_mapping_rules,
                 "Client certificate subject to principal name, Kafka's syntax: "
                 "DEFAULT or RULE:pattern/replacement/[LU], comma-separated (SSL listeners "
                 "and HTTPS)")
      ->capture_default_str();
  app.add_option("--ssl.cipher.suites", s.ssl_cipher_suites,
                 "TLS 1.2 cipher list (OpenSSL syntax; default: OpenSSL's)");
  app.add_option("--ssl.tls13.ciphersuites", s.ssl_tls13_ciphersuites,
                 "TLS 1.3 cipher suites (default: OpenSSL's)");
  app.add_option("--ssl.enabled.protocols", s.ssl_enabled_protocols,
                 "TLSv1.2,TLSv1.3 or TLSv1.3 (TLS 1.2 is the minimum)")
      ->check(CLI::IsMember({"TLSv1.2,TLSv1.3", "TLSv1.3,TLSv1.2", "TLSv1.3", "TLSv1.2"}))
      ->capture_default_str();
  app.add_option("--sasl.enabled.mechanisms", s.sasl_enabled_mechanisms,
                 "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER (comma-separated)")
      ->capture_default_str();
  app.add_option("--sasl.scram.bootstrap.file", s.sasl_scram_bootstrap_file,
                 "0600 file of name:mechanism:password lines the controller leader creates once");
  app.add_option("--sasl.oauthbearer.jwks.endpoint.url", s.sasl_oauthbearer_jwks_endpoint_url,
                 "file:// URL of a JWKS for OAUTHBEARER tokens (re-read when it changes)");
  app.add_option("--sasl.oauthbearer.hs256.secret.file", s.sasl_oauthbearer_hs256_secret_file,
                 "File holding an HS256 secret (32 bytes or more) for OAUTHBEARER tokens");
  app.add_option("--sasl.oauthbearer.expected.audience", s.sasl_oauthbearer_expected_audience,
                 "Audiences a token must name one of (comma-separated; default: any)");
  app.add_option("--sasl.oauthbearer.expected.issuer", s.sasl_oauthbearer_expected_issuer,
                 "Issuer a token must name (default: any)");
  app.add_option("--sasl.oauthbearer.sub.claim.name", s.sasl_oauthbearer_sub_claim_name,
                 "Claim holding the principal name")
      ->capture_default_str();
  app.add_option("--sasl.oauthbearer.clock.skew.seconds", s.sasl_oauthbearer_clock_skew_seconds,
                 "Tolerated clock difference for exp and nbf")
      ->check(CLI::Range(int64_t{0}, int64_t{3600}))
      ->capture_default_str();
  add_http_security_options(app, s);
}

// The HTTP listener's TLS and node-to-node authentication.
void add_http_security_options(CLI::App& app, SecurityOptions& s) {
  app.add_option("--http.listeners", s.http_listeners,
                 "HTTP://host:port or HTTPS://host:port (replaces --http-listen)");
  app.add_option("--http.ssl.keystore.location", s.http_ssl_keystore_location,
                 "HTTPS: PEM certificate chain then key (default: --ssl.keystore.location)");
  app.add_option("--http.ssl.key.password.file", s.http_ssl_key_password_file,
                 "HTTPS: file holding the password of an encrypted key");
  app.add_option("--http.ssl.truststore.location", s.http_ssl_truststore_location,
                 "HTTPS: PEM CA bundle for peers' and clients' certificates "
                 "(default: --ssl.truststore.location, else the system CAs)");
  app.add_option("--http.ssl.client.auth", s.http_ssl_client_auth, "none, requested or required")
      ->check(CLI::IsMember({"none", "requested", "required"}))
      ->capture_default_str();
  app.add_option("--cluster.secret.file", s.cluster_secret_file,
                 "0600 file holding the secret every node shares; authenticates node-to-node "
                 "requests (HMAC) and replica fetches");
  app.add_option("--connections.max.reauth.ms", s.connections_max_reauth_ms,
                 "Close SASL connections whose session is older than this unless they "
                 "re-authenticate (KIP-368); 0: never")
      ->check(CLI::Range(int64_t{0}, INT64_MAX))
      ->capture_default_str();
  app.add_option(
         "--authorizer.enabled", s.authorizer_enabled,
         "Enforce ACLs on every Kafka API and bearer tokens (or HTTPS client certificates) on "
         "the REST API")
      ->capture_default_str();
  app.add_option("--super.users", s.super_users,
                 "Principals allowed everything, e.g. User:admin;User:broker");
  app.add_option("--allow.everyone.if.no.acl.found", s.allow_everyone_if_no_acl_found,
                 "Allow an operation on a resource no ACL names")
      ->capture_default_str();
  app.add_option("--metrics.require.auth", s.metrics_require_auth,
                 "With the authorizer on, GET /metrics needs a bearer token too")
      ->capture_default_str();
}

// Share groups (KIP-932's broker option names).
void add_share_group_options(CLI::App& app, Options& o) {
  app.add_option("--group.share.session.timeout.ms", o.group_share_session_timeout_ms,
                 "A share-group member with no fetch or ack for this long leaves the group")
      ->check(CLI::Range(100, INT32_MAX))
      ->capture_default_str();
}

// Tracing: spans exported over OTLP/HTTP (src/trace/README.md).
void add_tracing_options(CLI::App& app, Options& o) {
  app.add_option("--otel.exporter.otlp.endpoint", o.otel_exporter_otlp_endpoint,
                 "OTLP/HTTP collector, e.g. http://127.0.0.1:4318 (spans go to /v1/traces); "
                 "empty: tracing off")
      ->check([](const std::string& url) -> std::string {
        if (url.empty() || url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0) return "";
        return "must start with http:// or https://";
      });
  app.add_option("--otel.traces.sampler.ratio", o.otel_traces_sampler_ratio,
                 "Share of traces started here that are recorded; a traceparent's sampled flag "
                 "decides for traces continued from a client")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
}

// Transactions: __transaction_state and the coordinator's timeouts (Kafka's names).
void add_transaction_options(CLI::App& app, Options& o) {
  app.add_option("--transaction.state.log.num.partitions", o.transaction_state_log_num_partitions,
                 "Partitions of __transaction_state (fixed once the topic exists)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--transaction.state.log.replication.factor",
                 o.transaction_state_log_replication_factor,
                 "Replication factor of __transaction_state (capped at the live brokers)")
      ->check(CLI::Range(1, 32))
      ->capture_default_str();
  app.add_option("--transaction.max.timeout.ms", o.transaction_max_timeout_ms,
                 "Largest transaction.timeout.ms a producer may ask for")
      ->check(CLI::Range(int64_t{1}, int64_t{INT32_MAX}))
      ->capture_default_str();
  app.add_option("--transaction.abort.timed.out.transaction.cleanup.interval.ms",
                 o.transaction_abort_timed_out_transaction_cleanup_interval_ms,
                 "How often transactions past their timeout are looked for and aborted")
      ->check(CLI::Range(int64_t{10}, int64_t{INT32_MAX}))
      ->capture_default_str();
}

// Log compaction: the topic defaults and the cleaner (Kafka's names).
void add_cleaner_options(CLI::App& app, Options& o) {
  app.add_option("--log.cleanup.policy", o.log_cleanup_policy,
                 "Default cleanup.policy of topics: delete, compact or compact,delete")
      ->check(CLI::IsMember({"delete", "compact", "compact,delete", "delete,compact"}))
      ->capture_default_str();
  app.add_option("--log.cleaner.min.cleanable.ratio", o.log_cleaner_min_cleanable_ratio,
                 "Default min.cleanable.dirty.ratio: clean a log once this share of it is dirty")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--log.cleaner.delete.retention.ms", o.log_cleaner_delete_retention_ms,
                 "Default delete.retention.ms: how long a tombstone outlives its cleaning")
      ->check(CLI::Range(int64_t{0}, INT64_MAX))
      ->capture_default_str();
  app.add_option("--log.cleaner.min.compaction.lag.ms", o.log_cleaner_min_compaction_lag_ms,
                 "Default min.compaction.lag.ms: records younger than this are not compacted")
      ->check(CLI::Range(int64_t{0}, INT64_MAX))
      ->capture_default_str();
  app.add_option("--log.cleaner.enable", o.log_cleaner_enable,
                 "Run the log cleaner (compacted topics grow without bound otherwise)")
      ->capture_default_str();
  app.add_option("--log.cleaner.threads", o.log_cleaner_threads,
                 "Cleaner threads (one is supported)")
      ->check(CLI::Range(1, 1))
      ->capture_default_str();
  app.add_option("--log.cleaner.dedupe.buffer.size", o.log_cleaner_dedupe_buffer_size,
                 "Memory bound of the cleaner's offset map (24 bytes per key)")
      ->check(CLI::Range(int64_t{1024}, int64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--log.cleaner.backoff.ms", o.log_cleaner_backoff_ms,
                 "Pause between cleaner rounds")
      ->check(CLI::Range(int64_t{1}, INT64_MAX))
      ->capture_default_str();
  app.add_option("--offsets.topic.segment.bytes", o.offsets_topic_segment_bytes,
                 "segment.bytes of __consumer_offsets (set when the topic is created)")
      ->check(CLI::Range(int64_t{14}, int64_t{INT32_MAX}))
      ->capture_default_str();
}

// Backpressure and connection limits of the Kafka listeners (Kafka's names).
void add_connection_limit_options(CLI::App& app, Options& o, std::string& overrides) {
  app.add_option("--queued.max.request.bytes", o.queued_max_request_bytes,
                 "Bytes of Kafka requests read but not yet answered before the broker stops "
                 "reading sockets; -1: no bound")
      ->check(CLI::Range(int64_t{-1}, INT64_MAX))
      ->capture_default_str();
  app.add_option("--max.connections", o.max_connections,
                 "Kafka connections of the broker over every listener; more are closed")
      ->check(CLI::Range(0, INT32_MAX))
      ->capture_default_str();
  app.add_option("--max.connections.per.ip", o.max_connections_per_ip,
                 "Kafka connections from one IP address; more are closed")
      ->check(CLI::Range(0, INT32_MAX))
      ->capture_default_str();
  app.add_option("--max.connections.per.ip.overrides", overrides,
                 "Per-address limits: \"127.0.0.1:200,10.0.0.7:5\"")
      ->capture_default_str();
}

// Client quotas (KIP-13, KIP-219): broker defaults and the measuring window.
void add_quota_options(CLI::App& app, Options& o) {
  app.add_option("--quota.producer.default", o.quota_producer_default,
                 "Produce bytes/s per client id when no client quota applies; 0: unlimited")
      ->check(CLI::Range(int64_t{0}, INT64_MAX))
      ->capture_default_str();
  app.add_option("--quota.consumer.default", o.quota_consumer_default,
                 "Fetch bytes/s per client id when no client quota applies; 0: unlimited")
      ->check(CLI::Range(int64_t{0}, INT64_MAX))
      ->capture_default_str();
  app.add_option("--quota.window.num", o.quota_window_num,
                 "Samples a client's rate is measured over")
      ->check(CLI::Range(2, 1000))
      ->capture_default_str();
  app.add_option("--quota.window.size.seconds", o.quota_window_size_seconds,
                 "Length of one rate sample")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
}

std::optional<std::string> resolve_connection_limits(Options& o, const std::string& overrides) {
  std::string error;
  auto per_ip = parse_connection_overrides(overrides, &error);
  if (!per_ip) return error;
  o.max_connections_per_ip_overrides = std::move(*per_ip);
  if (o.queued_max_request_bytes > 0 && o.queued_max_request_bytes < o.socket_request_max_bytes) {
    // Kafka's rule too: a request that may never fit would stall its connection.
    return "--queued.max.request.bytes must be -1 or at least --socket.request.max.bytes";
  }
  return std::nullopt;
}

}  // namespace

// Leadership balance and the replication throttle of reassignments.
void add_reassignment_options(CLI::App& app, Options& o) {
  app.add_option("--auto.leader.rebalance.enable", o.auto_leader_rebalance_enable,
                 "Move leadership back to preferred replicas automatically")
      ->capture_default_str();
  app.add_option("--follower.replication.throttled.rate", o.follower_replication_throttled_rate,
                 "Bytes/s fetched for replicas a reassignment adds here (0: unlimited)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--leader.replication.throttled.rate", o.leader_replication_throttled_rate,
                 "Bytes/s served to replicas a reassignment adds (0: unlimited)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

void add_http_options(CLI::App& app, Options& o) {
  app.add_option("--http.idle.timeout.ms", o.http_idle_timeout_ms,
                 "Close an HTTP keep-alive connection idle this long (a request being "
                 "handled is not idle)")
      ->check(CLI::Range(int64_t{100}, int64_t{86400000}))
      ->capture_default_str();
  app.add_option("--http.max.connections", o.http_max_connections,
                 "HTTP client connections served at once; beyond it a 503 "
                 "(cluster peers are not counted)")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--rest.consumer.instance.timeout.ms", o.rest_consumer_instance_timeout_ms,
                 "An HTTP consumer instance idle this long leaves its group and is deleted")
      ->check(CLI::Range(int64_t{1000}, int64_t{INT32_MAX}))
      ->capture_default_str();
}

ParseOutcome parse_options(int argc, const char* const* argv, Options* options) {
  CLI::App app{"DMQ: a distributed message queue that speaks the Kafka protocol.", "dmq"};
  app.set_version_flag("--version", std::string("dmq ") + kVersion);
  app.set_config("--config", "", "Read options from a TOML file; flags override it");
  // Kafka-style option names contain dots; keep them as whole keys in TOML
  // instead of letting CLI11 read them as sections.
  app.get_config_formatter_base()->parentSeparator('\x1f');
  app.allow_config_extras(CLI::config_extras_mode::error);

  std::string role = "combined";
  std::string http_listen = options->http_listen.to_string();
  std::string kafka_listen = options->kafka_listen.to_string();
  std::string advertised_kafka;
  std::string controllers;
  Options& o = *options;

  app.add_option("--role", role, "controller, broker or combined")
      ->check(CLI::IsMember({"controller", "broker", "combined"}))
      ->capture_default_str();
  app.add_option("--node-id", o.node_id, "This node's id, unique in the cluster")
      ->check(CLI::Range(1, INT32_MAX))
      ->capture_default_str();
  app.add_option("--data-dir", o.data_dir, "LMDB environment and partition logs")
      ->capture_default_str();
  app.add_option("--http-listen", http_listen, "REST API, metrics and controller RPC")
      ->capture_default_str();
  app.add_option("--kafka-listen", kafka_listen, "Kafka protocol listener")->capture_default_str();
  app.add_option("--advertised-kafka", advertised_kafka,
                 "Kafka address given to clients (default: --kafka-listen)");
  app.add_option("--controllers", controllers,
                 "Controller voters, e.g. 1@127.0.0.1:8080,2@127.0.0.1:8081 "
                 "(default: this node)");
  app.add_option("--log-level", o.log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  app.add_option("--log-format", o.log_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();

  app.add_option("--raft.heartbeat.ms", o.raft_heartbeat_ms, "Raft leader heartbeat interval")
      ->check(CLI::Range(10, 10000))
      ->capture_default_str();
  app.add_option("--raft.election.timeout.ms", o.raft_election_timeout_ms,
                 "Raft base election timeout (randomized up to twice this)")
      ->check(CLI::Range(50, 60000))
      ->capture_default_str();

  app.add_option("--raft.snapshot.entries", o.raft_snapshot_entries,
                 "Snapshot the metadata and compact the Raft log every this many entries")
      ->check(CLI::Range(uint64_t{10}, uint64_t{100000000}))
      ->capture_default_str();
  app.add_option("--raft.snapshot.keep", o.raft_snapshot_keep,
                 "Log entries kept behind a snapshot for slow followers and readers")
      ->check(CLI::Range(uint64_t{0}, uint64_t{100000000}))
      ->capture_default_str();

  auto positive = CLI::Range(int64_t{1}, INT64_MAX);
  app.add_option("--num.partitions", o.num_partitions, "Default partitions of a new topic")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--default.replication.factor", o.default_replication_factor,
                 "Default replication factor of a new topic")
      ->check(CLI::Range(1, 32))
      ->capture_default_str();
  app.add_option("--min.insync.replicas", o.min_insync_replicas,
                 "Replicas that must have a batch before acks=all answers")
      ->check(CLI::Range(1, 32))
      ->capture_default_str();
  app.add_option("--auto.create.topics.enable", o.auto_create_topics_enable,
                 "Create unknown topics on Metadata requests")
      ->capture_default_str();
  app.add_option("--retention.ms", o.retention_ms, "Delete segments older than this; -1 keeps all")
      ->check(CLI::Range(int64_t{-1}, INT64_MAX))
      ->capture_default_str();
  app.add_option("--retention.bytes", o.retention_bytes,
                 "Delete old segments beyond this size per partition; -1 keeps all")
      ->check(CLI::Range(int64_t{-1}, INT64_MAX))
      ->capture_default_str();
  app.add_option("--segment.bytes", o.segment_bytes, "Roll a segment at this size")
      ->check(CLI::Range(int64_t{14}, int64_t{INT32_MAX}))
      ->capture_default_str();
  app.add_option("--segment.ms", o.segment_ms, "Roll a segment at this age")
      ->check(positive)
      ->capture_default_str();
  app.add_option("--message.max.bytes", o.message_max_bytes, "Largest record batch accepted")
      ->check(CLI::Range(0, INT32_MAX))
      ->capture_default_str();
  app.add_option("--replica.lag.time.max.ms", o.replica_lag_time_max_ms,
                 "A follower behind this long leaves the ISR")
      ->check(positive)
      ->capture_default_str();
  app.add_option("--producer.id.expiration.ms", o.producer_id_expiration_ms,
                 "Idle idempotent producers are forgotten after this long")
      ->check(positive)
      ->capture_default_str();
  add_quota_options(app, o);
  app.add_option("--broker.session.timeout.ms", o.broker_session_timeout_ms,
                 "A broker silent this long is fenced")
      ->check(positive)
      ->capture_default_str();
  app.add_option("--broker.heartbeat.interval.ms", o.broker_heartbeat_interval_ms,
                 "How often a broker heartbeats to the controller")
      ->check(positive)
      ->capture_default_str();
  add_reassignment_options(app, o);
  app.add_option("--log.flush.on.ack", o.log_flush_on_ack,
                 "fsync a batch before acknowledging it (false: page cache, as Kafka)")
      ->capture_default_str();
  add_cleaner_options(app, o);
  add_http_options(app, o);
  app.add_option("--socket.request.max.bytes", o.socket_request_max_bytes,
                 "Largest Kafka request accepted")
      ->check(CLI::Range(1024, INT32_MAX))
      ->capture_default_str();

  std::string overrides;
  add_connection_limit_options(app, o, overrides);
  app.add_option("--offsets.topic.num.partitions", o.offsets_topic_num_partitions,
                 "Partitions of __consumer_offsets (fixed once the topic exists)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  add_transaction_options(app, o);
  app.add_option("--offsets.topic.replication.factor", o.offsets_topic_replication_factor,
                 "Replication factor of __consumer_offsets (capped at the live brokers)")
      ->check(CLI::Range(1, 32))
      ->capture_default_str();
  app.add_option("--offsets.retention.minutes", o.offsets_retention_minutes,
                 "Committed offsets of a group empty this long expire")
      ->check(positive)
      ->capture_default_str();
  app.add_option("--offsets.retention.check.interval.ms", o.offsets_retention_check_interval_ms,
                 "How often expired offsets are looked for")
      ->check(positive)
      ->capture_default_str();
  app.add_option("--offset.metadata.max.bytes", o.offset_metadata_max_bytes,
                 "Largest metadata string of an offset commit")
      ->check(CLI::Range(0, 32767))
      ->capture_default_str();
  app.add_option("--group.min.session.timeout.ms", o.group_min_session_timeout_ms,
                 "Smallest session.timeout.ms a consumer may ask for")
      ->check(CLI::Range(1, INT32_MAX))
      ->capture_default_str();
  app.add_option("--group.max.session.timeout.ms", o.group_max_session_timeout_ms,
                 "Largest session.timeout.ms a consumer may ask for")
      ->check(CLI::Range(1, INT32_MAX))
      ->capture_default_str();
  app.add_option("--group.initial.rebalance.delay.ms", o.group_initial_rebalance_delay_ms,
                 "How long a new group waits for more members before its first rebalance")
      ->check(CLI::Range(0, INT32_MAX))
      ->capture_default_str();
  add_share_group_options(app, o);
  add_security_options(app, o.security);
  add_tracing_options(app, o);

  ParseOutcome outcome;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    outcome.action = ParseOutcome::Action::kExit;
    outcome.exit_code = 0;
    outcome.output = app.help();
    return outcome;
  } catch (const CLI::CallForVersion& e) {
    outcome.action = ParseOutcome::Action::kExit;
    outcome.exit_code = 0;
    outcome.output = std::string("dmq ") + kVersion + "\n";
    return outcome;
  } catch (const CLI::ParseError& e) {
    // Every usage error maps to 2, whatever CLI11's own code (105, 109, ...).
    outcome.action = ParseOutcome::Action::kExit;
    outcome.exit_code = 2;
    outcome.output = "dmq: " + first_line(e.what()) + " (see dmq --help)";
    return outcome;
  }

  auto usage_error = [&](const std::string& message) {
    outcome.action = ParseOutcome::Action::kExit;
    outcome.exit_code = 2;
    outcome.output = "dmq: " + message + " (see dmq --help)";
    return outcome;
  };

  o.role = role == "controller" ? Role::kController
           : role == "broker"   ? Role::kBroker
                                : Role::kCombined;
  if (auto error = resolve_http_address(o, http_listen)) return usage_error(*error);
  if (auto error = resolve_kafka_addresses(o, kafka_listen, advertised_kafka)) {
    return usage_error(*error);
  }
  if (controllers.empty()) {
    if (o.role == Role::kBroker) {
      return usage_error("--role=broker needs --controllers");
    }
    o.controllers = {Voter{o.node_id, o.http_listen}};
  } else {
    std::string error;
    auto voters = parse_voters(controllers, &error);
    if (!voters) return usage_error(error);
    o.controllers = *voters;
  }
  if (o.has_controller()) {
    bool listed = false;
    for (const auto& voter : o.controllers) listed |= voter.node_id == o.node_id;
    if (!listed) {
      return usage_error("node " + std::to_string(o.node_id) +
                         " runs a controller but is not in --controllers");
    }
  }
  if (o.data_dir.empty()) return usage_error("--data-dir is empty");
  if (auto error = resolve_connection_limits(o, overrides)) return usage_error(*error);
  return outcome;
}

}  // namespace dmq
