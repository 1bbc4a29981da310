#pragma once
// Encoding of image parts, used for LMDB table values (one broker, one topic,
// the globals) and for whole-image snapshots. Decoders take untrusted bytes and
// return kCorruptStore on anything malformed.
//
// broker value:  u8 kTableValueVersion | i32 id | str incarnation | str kafka_host
//                | u16 kafka_port | str http_host | u16 http_port | str rack
//                | i64 epoch | u8 fenced
// topic value:   u8 version | str name | str topic_id | configs
//                | u32 n | n x (i32 id | brokers replicas | brokers isr | i32 leader
//                | i32 leader_epoch | i32 partition_epoch)
// globals value: u8 version | i64 next_producer_id | u32 n | n x (str name | configs)
//                | (version 2) u32 users | users x (str user | mechanism -> credential map)
//                | (version 3) u32 n | n x str ACL binding
//                | (version 4) u32 n | n x (quota entity | u32 k | k x (str key | f64 value))
// image:         u32 n | n x broker value (as str) | u32 n | n x topic value (as str)
//                | globals value (as str)

#include <string>
#include <string_view>

#include "cluster/error.h"
#include "cluster/metadata_image.h"

namespace dmq::cluster {

std::string encode_broker(const BrokerRegistration& broker);
Result<BrokerRegistration> decode_broker(std::string_view bytes);

std::string encode_topic(const TopicState& topic);
Result<TopicState> decode_topic(std::string_view bytes);

// next_producer_id and broker_configs.
std::string encode_globals(const MetadataImage& image);
Status decode_globals(std::string_view bytes, MetadataImage* image);

std::string encode_image(const MetadataImage& image);
Result<MetadataImage> decode_image(std::string_view bytes);

}  // namespace dmq::cluster
