#pragma once
// All message structs and the list of implemented APIs as an X-macro:
// X(ApiKey enumerator, request type, response type). Adding an API means adding
// its structs/codec in a msg_*.h, a row here and a row in api.cpp's table.

#include "kafka/msg_core.h"

#define DMQ_KAFKA_APIS(X)                         \
  X(kProduce, ProduceRequest, ProduceResponse)    \
  X(kFetch, FetchRequest, FetchResponse)          \
  X(kMetadata, MetadataRequest, MetadataResponse) \
  X(kApiVersions, ApiVersionsRequest, ApiVersionsResponse)
