#pragma once
// One Kafka listener as the server runs it: its name and security protocol
// (KIP-103 listeners), the address Metadata gives clients that connected
// through it, and for SSL/SASL_SSL the TLS context slot its connections take
// their context from (replaced on SIGHUP; a connection keeps the context it
// started with).

#include "common/options.h"
#include "security/listeners.h"
#include "security/tls.h"

namespace dmq::kafka {

struct ListenerEndpoint {
  security::Listener listener;
  HostPort advertised;
  security::TlsContextSlot* tls = nullptr;  // set for SSL and SASL_SSL; owned by the Service
  security::ClientAuth client_auth = security::ClientAuth::kNone;
  // ssl.principal.mapping.rules, for SSL listeners' certificate principals;
  // set with `tls`, owned by the Service.
  const security::SslPrincipalMapper* principal_mapper = nullptr;

  bool sasl() const { return security::uses_sasl(listener.protocol); }
};

}  // namespace dmq::kafka
