#pragma once
// The command line and config-file contract of DESIGN.md §2. Parsing is pure
// (no I/O besides reading --config), so tests call it directly.

#include <climits>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dmq {

struct HostPort {
  std::string host;
  uint16_t port = 0;
  std::string to_string() const { return host + ":" + std::to_string(port); }
  bool operator==(const HostPort&) const = default;
};

// "host:port" with a non-empty host and a port in 1..65535.
std::optional<HostPort> parse_host_port(const std::string& text);

struct Voter {
  int32_t node_id = 0;
  HostPort http;
};

// max.connections.per.ip.overrides: "127.0.0.1:200,::1:50" (the count after
// the last ':'); IP addresses as text, counts >= 0.
std::optional<std::map<std::string, int32_t>> parse_connection_overrides(const std::string& text,
                                                                         std::string* error);

// "1@127.0.0.1:8080,2@127.0.0.1:8081"; ids unique and positive.
std::optional<std::vector<Voter>> parse_voters(const std::string& text, std::string* error);

enum class Role { kController, kBroker, kCombined };

// Listener and authentication options, with Kafka's broker names (DESIGN §5).
// Kept as text here: src/security parses and validates them when the node
// starts (common may not depend on security). Paths, never secrets: the HS256
// secret and key passwords are read from files named here.
struct SecurityOptions {
  std::string listeners;  // "PLAINTEXT://H:P,SASL_SSL://H:P"; empty: --kafka-listen as PLAINTEXT
  std::string advertised_listeners;
  std::string listener_security_protocol_map;
  std::string ssl_keystore_location;    // PEM: certificate chain, then the private key
  std::string ssl_key_password_file;    // for an encrypted key; empty: none
  std::string ssl_truststore_location;  // PEM CA bundle
  std::string ssl_client_auth = "none";
  // A client certificate's subject to its principal's name (Kafka's syntax;
  // SSL listeners and REST over HTTPS).
  std::string ssl_principal_mapping_rules = "DEFAULT";
  std::string ssl_cipher_suites;       // TLS 1.2 cipher list (OpenSSL syntax)
  std::string ssl_tls13_ciphersuites;  // TLS 1.3 suites
  std::string ssl_enabled_protocols = "TLSv1.2,TLSv1.3";
  std::string sasl_enabled_mechanisms = "SCRAM-SHA-256,SCRAM-SHA-512";
  std::string sasl_scram_bootstrap_file;
  std::string sasl_oauthbearer_jwks_endpoint_url;
  std::string sasl_oauthbearer_hs256_secret_file;
  std::string sasl_oauthbearer_expected_audience;
  std::string sasl_oauthbearer_expected_issuer;
  std::string sasl_oauthbearer_sub_claim_name = "sub";
  int64_t sasl_oauthbearer_clock_skew_seconds = 30;
  int64_t connections_max_reauth_ms = 0;  // 0: sessions never expire (Kafka's default)
  // Authorization (Kafka's ACLs) on every Kafka API and, with bearer tokens
  // validated like OAUTHBEARER's, on every REST endpoint but GET /v1/health.
  bool authorizer_enabled = false;
  std::string super_users;  // "User:a;User:b"
  bool allow_everyone_if_no_acl_found = false;
  bool metrics_require_auth = false;  // GET /metrics needs a token (DESCRIBE on the cluster)

  // The HTTP listener (REST, metrics, node-to-node RPC). HTTPS serves it with
  // TLS; the http.ssl.* files default to the ssl.* ones. Peers are reached
  // with the same scheme (a cluster speaks one).
  std::string http_listeners;              // "HTTPS://host:port"; empty: --http-listen, plain HTTP
  bool http_tls = false;                   // set from http_listeners
  std::string http_ssl_keystore_location;  // PEM chain then key; default --ssl.keystore.location
  std::string http_ssl_key_password_file;
  std::string http_ssl_truststore_location;  // CAs of peers and client certificates
  std::string http_ssl_client_auth = "none";
  // Shared secret authenticating node-to-node traffic (HMAC over each
  // /internal request, and replica fetches on the Kafka port). Empty: none.
  std::string cluster_secret_file;
};
const char* role_name(Role role);

struct Options {
  Role role = Role::kCombined;
  int32_t node_id = 1;
  std::string data_dir = "./dmq-data";
  HostPort http_listen{"127.0.0.1", 8080};
  // HTTP connections: an idle keep-alive one is closed after this; beyond the
  // cap a client gets 503 (cluster peers' connections are not counted).
  int64_t http_idle_timeout_ms = 60000;  // http.idle.timeout.ms
  int32_t http_max_connections = 5000;   // http.max.connections
  HostPort kafka_listen{"127.0.0.1", 9092};
  HostPort advertised_kafka{"127.0.0.1", 9092};
  std::vector<Voter> controllers;  // defaults to this node alone
  std::string log_level = "info";
  std::string log_format = "text";

  // Raft timing (controllers).
  int raft_heartbeat_ms = 100;
  int raft_election_timeout_ms = 1000;
  uint64_t raft_snapshot_entries = 10000;
  uint64_t raft_snapshot_keep = 1000;

  // Topic and broker defaults, with Kafka's names and values.
  int32_t num_partitions = 1;
  int16_t default_replication_factor = 1;
  int16_t min_insync_replicas = 1;
  bool auto_create_topics_enable = true;
  int64_t retention_ms = 604800000;
  int64_t retention_bytes = -1;
  int64_t segment_bytes = 1073741824;
  int64_t segment_ms = 604800000;
  int32_t message_max_bytes = 1048588;
  int64_t replica_lag_time_max_ms = 30000;
  // Idempotent producers idle this long are forgotten (their next batch is
  // accepted at any sequence, KIP-360).
  int64_t producer_id_expiration_ms = 86400000;
  int64_t broker_session_timeout_ms = 9000;
  int64_t broker_heartbeat_interval_ms = 2000;
  // The controller leader moves leadership back to preferred replicas (Kafka's name).
  bool auto_leader_rebalance_enable = true;
  // Bytes/s a broker fetches for the replicas a reassignment adds to it
  // (Kafka's follower.replication.throttled.rate); 0 = unlimited.
  int64_t follower_replication_throttled_rate = 0;
  // Bytes/s a leader serves to replicas being added by a reassignment
  // (Kafka's leader.replication.throttled.rate); 0 = unlimited.
  int64_t leader_replication_throttled_rate = 0;
  // true: acknowledge only after fsync (group commit). false: Kafka's page-cache behaviour.
  bool log_flush_on_ack = true;
  // Compaction (Kafka's names): the topic default policy and the cleaner.
  std::string log_cleanup_policy = "delete";           // log.cleanup.policy
  double log_cleaner_min_cleanable_ratio = 0.5;        // log.cleaner.min.cleanable.ratio
  int64_t log_cleaner_delete_retention_ms = 86400000;  // log.cleaner.delete.retention.ms
  int64_t log_cleaner_min_compaction_lag_ms = 0;       // log.cleaner.min.compaction.lag.ms
  bool log_cleaner_enable = true;                      // log.cleaner.enable
  int32_t log_cleaner_threads = 1;                     // log.cleaner.threads
  int64_t log_cleaner_dedupe_buffer_size = 134217728;  // log.cleaner.dedupe.buffer.size
  int64_t log_cleaner_backoff_ms = 15000;              // log.cleaner.backoff.ms
  int32_t socket_request_max_bytes = 104857600;
  // Backpressure and connection limits of the Kafka listeners (Kafka's names).
  // queued.max.request.bytes: bytes of requests read but not yet answered,
  // over every connection; <= 0 is Kafka's -1 (no bound; Kafka's default).
  int64_t queued_max_request_bytes = 104857600;
  int32_t max_connections = INT32_MAX;         // max.connections (all listeners)
  int32_t max_connections_per_ip = INT32_MAX;  // max.connections.per.ip
  // max.connections.per.ip.overrides, "ip:count,ip:count", parsed.
  std::map<std::string, int32_t> max_connections_per_ip_overrides;

  // Client quotas (Kafka's names). The broker defaults apply per client id
  // to clients no quota of the metadata image covers; 0: unlimited (Kafka's
  // old quota.producer.default / quota.consumer.default, bytes per second).
  int64_t quota_producer_default = 0;
  int64_t quota_consumer_default = 0;
  int32_t quota_window_num = 11;          // samples a rate is measured over
  int32_t quota_window_size_seconds = 1;  // length of one sample

  // Consumer groups (Kafka's names). Kafka's offsets.topic.num.partitions
  // default is 50; DMQ starts with 16, enough to spread coordinators over a
  // small cluster without 50 logs per broker.
  int32_t offsets_topic_num_partitions = 16;
  // Transactions (Kafka's names; the partition count is DMQ's 16 as above).
  int32_t transaction_state_log_num_partitions = 16;
  int16_t transaction_state_log_replication_factor = 3;  // capped at the live brokers
  int64_t transaction_max_timeout_ms = 900000;
  int64_t transaction_abort_timed_out_transaction_cleanup_interval_ms = 10000;
  int16_t offsets_topic_replication_factor = 3;     // capped at the live brokers at creation
  int64_t offsets_topic_segment_bytes = 104857600;  // compaction cleans closed segments only
  int64_t offsets_retention_minutes = 10080;
  int64_t offsets_retention_check_interval_ms = 600000;
  int32_t offset_metadata_max_bytes = 4096;
  int32_t group_min_session_timeout_ms = 6000;
  // An HTTP consumer instance (POST /v1/consumers/{g}) unused this long
  // leaves its group and is deleted.
  int64_t rest_consumer_instance_timeout_ms = 300000;
  int32_t group_max_session_timeout_ms = 1800000;
  int32_t group_initial_rebalance_delay_ms = 3000;
  // Share groups (KIP-932's name): a member with no fetch or ack for this
  // long leaves the group (its locks expire on their own deadlines).
  int32_t group_share_session_timeout_ms = 45000;

  SecurityOptions security;

  // Tracing (OpenTelemetry's names): off while the endpoint is empty.
  std::string otel_exporter_otlp_endpoint;  // otel.exporter.otlp.endpoint, OTLP/HTTP JSON
  double otel_traces_sampler_ratio = 1.0;   // otel.traces.sampler.ratio, for root spans

  bool has_controller() const { return role != Role::kBroker; }
  bool has_broker() const { return role != Role::kController; }
};

// What the caller should do after parsing the command line.
struct ParseOutcome {
  enum class Action { kRun, kExit } action = Action::kRun;
  int exit_code = 0;   // for kExit: 0 after --help/--version, 2 for bad usage
  std::string output;  // text to print: help/version to stdout, an error line to stderr
};

ParseOutcome parse_options(int argc, const char* const* argv, Options* options);

}  // namespace dmq
