#pragma once
// Group API calls an in-process member (an HTTP consumer instance) makes to
// this node's group coordinator, without a socket: the request is encoded and
// decoded exactly as one from a Kafka client would be (so the coordinator
// serves both through the same handler, with the same checks), and the
// encoded answer is decoded back for the caller.
//
// Threads: the loop thread (the coordinator's). `done` runs on it, once,
// maybe later (a parked JoinGroup or SyncGroup), with nullopt only if the
// answer does not decode (a bug, not an operating error).

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "group/coordinator.h"
#include "kafka/protocol/request.h"

namespace dmq::rest {

template <class Req, class Resp>
void call_local_coordinator(group::Coordinator& coordinator, int16_t version, const Req& request,
                            std::function<void(std::optional<Resp>)> done) {
  auto ex = std::make_shared<kafka::Exchange>();
  kafka::EncodedFrame frame = kafka::encode_request(version, 0, "dmq-rest-consumer", request);
  ex->frame = std::make_shared<std::string>(frame.bytes.substr(4));
  if (kafka::decode_request(*ex->frame, ex->request) != kafka::CodecError::kOk)
    return done(std::nullopt);
  ex->received = std::chrono::steady_clock::now();
  ex->principal = std::make_shared<const std::string>("User:ANONYMOUS");
  ex->client_host = "127.0.0.1";
  ex->respond = [version, done = std::move(done)](kafka::Response r) {
    Resp resp;
    int32_t correlation = 0;
    std::string_view bytes(r.frame.bytes);
    if (bytes.size() < 4 || kafka::decode_response(bytes.substr(4), version, correlation, resp) !=
                                kafka::CodecError::kOk)
      return done(std::nullopt);
    done(std::move(resp));
  };
  coordinator.handle(ex);
}

}  // namespace dmq::rest
