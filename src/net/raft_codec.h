#pragma once
// JSON encoding of Raft messages for the controller peer RPC
// (POST /internal/raft/messages carries {"messages":[...]}), readable with curl.
// Binary fields (entry data, snapshot chunks) are base64. Decoding treats the
// body as untrusted input: any missing or mistyped field is an error.

#include <optional>
#include <string>
#include <vector>

#include "raft/types.h"

namespace dmq::net {

std::string encode_raft_messages(const std::vector<raft::Message>& messages);
// On failure returns nullopt and a reason in `error`.
std::optional<std::vector<raft::Message>> decode_raft_messages(const std::string& body,
                                                               std::string* error);

}  // namespace dmq::net
