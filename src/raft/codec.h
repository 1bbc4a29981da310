#pragma once
// Binary encodings of the core's value types, for the adapters: Message for
// the peer transport, Entry/HardState/SnapshotMeta for the durable log.
// Pure functions, no I/O.
//
// Format: a version byte (kCodecVersion), then fields in a fixed order;
// integers are unsigned LEB128 varints, strings a varint length then bytes.
// Decoders treat their input as untrusted: any truncation, overlong varint,
// unknown enum value, implausible count or trailing byte gives nullopt; they
// never assert or read out of bounds.

#include <optional>
#include <string>
#include <string_view>

#include "raft/types.h"

namespace dmq::raft {

inline constexpr uint8_t kCodecVersion = 1;

std::string encode_message(const Message& m);
std::optional<Message> decode_message(std::string_view bytes);

std::string encode_entry(const Entry& e);
std::optional<Entry> decode_entry(std::string_view bytes);

std::string encode_hard_state(const HardState& hs);
std::optional<HardState> decode_hard_state(std::string_view bytes);

std::string encode_snapshot_meta(const SnapshotMeta& meta);
std::optional<SnapshotMeta> decode_snapshot_meta(std::string_view bytes);

}  // namespace dmq::raft
