#pragma once
// All message structs and the list of implemented APIs as an X-macro:
// X(ApiKey enumerator, request type, response type). Adding an API means adding
// its structs/codec in a msg_*.h, a row here and a row in api.cpp's table
// (a unit test checks that the two lists agree).

#include "kafka/protocol/msg_acl.h"
#include "kafka/protocol/msg_admin.h"
#include "kafka/protocol/msg_core.h"
#include "kafka/protocol/msg_group.h"
#include "kafka/protocol/msg_inspect.h"
#include "kafka/protocol/msg_quota.h"
#include "kafka/protocol/msg_reassign.h"
#include "kafka/protocol/msg_security.h"
#include "kafka/protocol/msg_txn.h"

#define DMQ_KAFKA_APIS(X)                                                                      \
  X(kProduce, ProduceRequest, ProduceResponse)                                                 \
  X(kFetch, FetchRequest, FetchResponse)                                                       \
  X(kListOffsets, ListOffsetsRequest, ListOffsetsResponse)                                     \
  X(kMetadata, MetadataRequest, MetadataResponse)                                              \
  X(kOffsetCommit, OffsetCommitRequest, OffsetCommitResponse)                                  \
  X(kOffsetFetch, OffsetFetchRequest, OffsetFetchResponse)                                     \
  X(kFindCoordinator, FindCoordinatorRequest, FindCoordinatorResponse)                         \
  X(kJoinGroup, JoinGroupRequest, JoinGroupResponse)                                           \
  X(kHeartbeat, HeartbeatRequest, HeartbeatResponse)                                           \
  X(kLeaveGroup, LeaveGroupRequest, LeaveGroupResponse)                                        \
  X(kSyncGroup, SyncGroupRequest, SyncGroupResponse)                                           \
  X(kDescribeGroups, DescribeGroupsRequest, DescribeGroupsResponse)                            \
  X(kListGroups, ListGroupsRequest, ListGroupsResponse)                                        \
  X(kSaslHandshake, SaslHandshakeRequest, SaslHandshakeResponse)                               \
  X(kApiVersions, ApiVersionsRequest, ApiVersionsResponse)                                     \
  X(kCreateTopics, CreateTopicsRequest, CreateTopicsResponse)                                  \
  X(kDeleteTopics, DeleteTopicsRequest, DeleteTopicsResponse)                                  \
  X(kDeleteRecords, DeleteRecordsRequest, DeleteRecordsResponse)                               \
  X(kInitProducerId, InitProducerIdRequest, InitProducerIdResponse)                            \
  X(kOffsetForLeaderEpoch, OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse)          \
  X(kAddPartitionsToTxn, AddPartitionsToTxnRequest, AddPartitionsToTxnResponse)                \
  X(kAddOffsetsToTxn, AddOffsetsToTxnRequest, AddOffsetsToTxnResponse)                         \
  X(kEndTxn, EndTxnRequest, EndTxnResponse)                                                    \
  X(kWriteTxnMarkers, WriteTxnMarkersRequest, WriteTxnMarkersResponse)                         \
  X(kTxnOffsetCommit, TxnOffsetCommitRequest, TxnOffsetCommitResponse)                         \
  X(kDescribeAcls, DescribeAclsRequest, DescribeAclsResponse)                                  \
  X(kCreateAcls, CreateAclsRequest, CreateAclsResponse)                                        \
  X(kDeleteAcls, DeleteAclsRequest, DeleteAclsResponse)                                        \
  X(kDescribeConfigs, DescribeConfigsRequest, DescribeConfigsResponse)                         \
  X(kAlterConfigs, AlterConfigsRequest, AlterConfigsResponse)                                  \
  X(kDescribeLogDirs, DescribeLogDirsRequest, DescribeLogDirsResponse)                         \
  X(kSaslAuthenticate, SaslAuthenticateRequest, SaslAuthenticateResponse)                      \
  X(kCreatePartitions, CreatePartitionsRequest, CreatePartitionsResponse)                      \
  X(kDeleteGroups, DeleteGroupsRequest, DeleteGroupsResponse)                                  \
  X(kElectLeaders, ElectLeadersRequest, ElectLeadersResponse)                                  \
  X(kIncrementalAlterConfigs, IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse) \
  X(kAlterPartitionReassignments, AlterPartitionReassignmentsRequest,                          \
    AlterPartitionReassignmentsResponse)                                                       \
  X(kListPartitionReassignments, ListPartitionReassignmentsRequest,                            \
    ListPartitionReassignmentsResponse)                                                        \
  X(kOffsetDelete, OffsetDeleteRequest, OffsetDeleteResponse)                                  \
  X(kDescribeClientQuotas, DescribeClientQuotasRequest, DescribeClientQuotasResponse)          \
  X(kAlterClientQuotas, AlterClientQuotasRequest, AlterClientQuotasResponse)                   \
  X(kDescribeUserScramCredentials, DescribeUserScramCredentialsRequest,                        \
    DescribeUserScramCredentialsResponse)                                                      \
  X(kAlterUserScramCredentials, AlterUserScramCredentialsRequest,                              \
    AlterUserScramCredentialsResponse)                                                         \
  X(kDescribeCluster, DescribeClusterRequest, DescribeClusterResponse)                         \
  X(kDescribeProducers, DescribeProducersRequest, DescribeProducersResponse)                   \
  X(kDescribeTransactions, DescribeTransactionsRequest, DescribeTransactionsResponse)          \
  X(kListTransactions, ListTransactionsRequest, ListTransactionsResponse)
