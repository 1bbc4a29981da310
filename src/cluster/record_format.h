#pragma once
// Byte layout of metadata records, LMDB table values and snapshots. All
// integers are big-endian; a string is a u32 length then its bytes; a list is a
// u32 count then its elements; an optional is a u8 presence flag (0/1) then the
// value.
//
// Raft entry payload (a RecordBatch):
//   u8 kBatchVersion | u32 count (>= 1) | count x record
// record:
//   u8 RecordType | u8 record version (kRecordVersion) | fields in the order of
//   the struct in records.h (BrokerId i32, epochs i64/i32, LogIndex u64,
//   ProducerId i64, ports u16, ConfigResource u8).
// An empty entry payload (a Raft leader's own no-op) is applied as a no-op.
//
// Snapshot (MetadataState::snapshot):
//   u8 kSnapshotVersion | u64 applied index | image (see image_codec.h)
//
// Adding a field: bump the record version, keep decoding the old one.

#include <cstdint>

namespace dmq::cluster::format {

inline constexpr uint8_t kBatchVersion = 1;
inline constexpr uint8_t kRecordVersion = 0;
// RegisterBroker version 1 appends the advertised listeners (a list of
// name, host, u16 port, security protocol); it is written only when the
// broker sent them, and version 0 records decode with none.
inline constexpr uint8_t kRegisterBrokerListenersVersion = 1;
// PartitionChange version 1 appends the reassignment: replicas, adding and
// removing replicas (KIP-455); written only for a change that carries them.
inline constexpr uint8_t kPartitionChangeReplicasVersion = 1;
inline constexpr uint8_t kSnapshotVersion = 1;
inline constexpr uint8_t kTableValueVersion = 1;
// A topic's table value: version 2 appends each partition's adding and
// removing replicas; written only while a partition is being reassigned.
inline constexpr uint8_t kTopicValueReassignmentVersion = 2;
// A broker's table value: version 2 appends its listeners (as in
// RegisterBroker v1); version 1 values decode with none.
inline constexpr uint8_t kBrokerValueListenersVersion = 2;
// The globals value (image_codec.h): version 2 appends the SCRAM credentials,
// version 3 the ACL bindings, version 4 the client quotas; older values
// (written before) decode with none.
inline constexpr uint8_t kGlobalsValueVersion = 4;

// Controller driver records share the log with metadata batches: they travel
// as kNormal entries whose first byte is this marker (never a kBatchVersion);
// the controller's Raft driver applies them itself and neither the state
// machine nor a broker tailing the log applies them. The second byte is the
// kind: a voter's address ("id@host:port" follows), or an opaque payload
// (tests and benchmarks replicate data the state machine ignores).
inline constexpr char kDriverRecordMarker = '\xff';
inline constexpr char kDriverAddressRecord = 'A';
inline constexpr char kDriverPayloadRecord = 'P';
inline constexpr char kDriverJoinedRecord = 'J';

enum class RecordType : uint8_t {
  kNoOp = 0,
  kRegisterBroker = 1,
  kFenceBroker = 2,
  kUnfenceBroker = 3,
  kUnregisterBroker = 4,
  kCreateTopic = 5,
  kDeleteTopic = 6,
  kCreatePartitions = 7,
  kPartitionChange = 8,
  kAllocateProducerIds = 9,
  kConfigChange = 10,
  kUserScramCredential = 11,  // a new type: older nodes refuse the batch rather than skip it
  kAcl = 12,                  // likewise
  kClientQuota = 13,          // likewise
};

}  // namespace dmq::cluster::format
