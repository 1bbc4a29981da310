#pragma once
// Kafka protocol error codes, with the numeric values of the Kafka protocol
// (org.apache.kafka.common.protocol.Errors). These are the values that travel
// in `error_code` fields; other DMQ subsystems map their own errors onto them
// at the edge.

#include <cstdint>
#include <string_view>

namespace dmq::kafka {

#define DMQ_KAFKA_ERROR_CODES(X)             \
  X(kUnknownServerError, -1)                 \
  X(kNone, 0)                                \
  X(kOffsetOutOfRange, 1)                    \
  X(kCorruptMessage, 2)                      \
  X(kUnknownTopicOrPartition, 3)             \
  X(kInvalidFetchSize, 4)                    \
  X(kLeaderNotAvailable, 5)                  \
  X(kNotLeaderOrFollower, 6)                 \
  X(kRequestTimedOut, 7)                     \
  X(kBrokerNotAvailable, 8)                  \
  X(kReplicaNotAvailable, 9)                 \
  X(kMessageTooLarge, 10)                    \
  X(kStaleControllerEpoch, 11)               \
  X(kOffsetMetadataTooLarge, 12)             \
  X(kNetworkException, 13)                   \
  X(kCoordinatorLoadInProgress, 14)          \
  X(kCoordinatorNotAvailable, 15)            \
  X(kNotCoordinator, 16)                     \
  X(kInvalidTopicException, 17)              \
  X(kRecordListTooLarge, 18)                 \
  X(kNotEnoughReplicas, 19)                  \
  X(kNotEnoughReplicasAfterAppend, 20)       \
  X(kInvalidRequiredAcks, 21)                \
  X(kIllegalGeneration, 22)                  \
  X(kInconsistentGroupProtocol, 23)          \
  X(kInvalidGroupId, 24)                     \
  X(kUnknownMemberId, 25)                    \
  X(kInvalidSessionTimeout, 26)              \
  X(kRebalanceInProgress, 27)                \
  X(kInvalidCommitOffsetSize, 28)            \
  X(kTopicAuthorizationFailed, 29)           \
  X(kGroupAuthorizationFailed, 30)           \
  X(kClusterAuthorizationFailed, 31)         \
  X(kInvalidTimestamp, 32)                   \
  X(kUnsupportedSaslMechanism, 33)           \
  X(kIllegalSaslState, 34)                   \
  X(kUnsupportedVersion, 35)                 \
  X(kTopicAlreadyExists, 36)                 \
  X(kInvalidPartitions, 37)                  \
  X(kInvalidReplicationFactor, 38)           \
  X(kInvalidReplicaAssignment, 39)           \
  X(kInvalidConfig, 40)                      \
  X(kNotController, 41)                      \
  X(kInvalidRequest, 42)                     \
  X(kUnsupportedForMessageFormat, 43)        \
  X(kPolicyViolation, 44)                    \
  X(kOutOfOrderSequenceNumber, 45)           \
  X(kDuplicateSequenceNumber, 46)            \
  X(kInvalidProducerEpoch, 47)               \
  X(kInvalidTxnState, 48)                    \
  X(kInvalidProducerIdMapping, 49)           \
  X(kInvalidTransactionTimeout, 50)          \
  X(kConcurrentTransactions, 51)             \
  X(kTransactionCoordinatorFenced, 52)       \
  X(kTransactionalIdAuthorizationFailed, 53) \
  X(kSecurityDisabled, 54)                   \
  X(kOperationNotAttempted, 55)              \
  X(kKafkaStorageError, 56)                  \
  X(kLogDirNotFound, 57)                     \
  X(kSaslAuthenticationFailed, 58)           \
  X(kUnknownProducerId, 59)                  \
  X(kReassignmentInProgress, 60)             \
  X(kNonEmptyGroup, 68)                      \
  X(kGroupIdNotFound, 69)                    \
  X(kFetchSessionIdNotFound, 70)             \
  X(kInvalidFetchSessionEpoch, 71)           \
  X(kListenerNotFound, 72)                   \
  X(kTopicDeletionDisabled, 73)              \
  X(kFencedLeaderEpoch, 74)                  \
  X(kUnknownLeaderEpoch, 75)                 \
  X(kUnsupportedCompressionType, 76)         \
  X(kStaleBrokerEpoch, 77)                   \
  X(kOffsetNotAvailable, 78)                 \
  X(kMemberIdRequired, 79)                   \
  X(kPreferredLeaderNotAvailable, 80)        \
  X(kGroupMaxSizeReached, 81)                \
  X(kFencedInstanceId, 82)                   \
  X(kEligibleLeadersNotAvailable, 83)        \
  X(kElectionNotNeeded, 84)                  \
  X(kNoReassignmentInProgress, 85)           \
  X(kGroupSubscribedToTopic, 86)             \
  X(kInvalidRecord, 87)                      \
  X(kUnstableOffsetCommit, 88)               \
  X(kThrottlingQuotaExceeded, 89)            \
  X(kProducerFenced, 90)                     \
  X(kResourceNotFound, 91)                   \
  X(kDuplicateResource, 92)                  \
  X(kUnacceptableCredential, 93)             \
  X(kInconsistentVoterSet, 94)               \
  X(kInvalidUpdateVersion, 95)               \
  X(kFeatureUpdateFailed, 96)                \
  X(kPrincipalDeserializationFailure, 97)    \
  X(kSnapshotNotFound, 98)                   \
  X(kPositionOutOfRange, 99)                 \
  X(kUnknownTopicId, 100)                    \
  X(kDuplicateBrokerRegistration, 101)       \
  X(kBrokerIdNotRegistered, 102)             \
  X(kInconsistentTopicId, 103)               \
  X(kInconsistentClusterId, 104)             \
  X(kTransactionalIdNotFound, 105)           \
  X(kFetchSessionTopicIdError, 106)          \
  X(kIneligibleReplica, 107)                 \
  X(kNewLeaderElected, 108)

enum class ErrorCode : int16_t {
#define DMQ_KAFKA_ERROR_ENUM(name, value) name = value,
  DMQ_KAFKA_ERROR_CODES(DMQ_KAFKA_ERROR_ENUM)
#undef DMQ_KAFKA_ERROR_ENUM
};

// The enumerator name of a code ("kUnknownTopicOrPartition"); "UNKNOWN" for a value
// outside the table (codes are input from the network, any int16 may arrive).
std::string_view error_name(ErrorCode code);

inline int16_t to_wire(ErrorCode code) {
  return static_cast<int16_t>(code);
}

}  // namespace dmq::kafka
