#include "group/types.h"

#include <algorithm>
#include <cctype>

namespace dmq::group {

const char* error_name(Error error) {
  switch (error) {
    case Error::kNone:
      return "none";
    case Error::kNotCoordinator:
      return "not_coordinator";
    case Error::kLoadInProgress:
      return "coordinator_load_in_progress";
    case Error::kCoordinatorNotAvailable:
      return "coordinator_not_available";
    case Error::kInvalidGroupId:
      return "invalid_group_id";
    case Error::kUnknownMemberId:
      return "unknown_member_id";
    case Error::kIllegalGeneration:
      return "illegal_generation";
    case Error::kRebalanceInProgress:
      return "rebalance_in_progress";
    case Error::kMemberIdRequired:
      return "member_id_required";
    case Error::kFencedInstanceId:
      return "fenced_instance_id";
    case Error::kInconsistentGroupProtocol:
      return "inconsistent_group_protocol";
    case Error::kInvalidSessionTimeout:
      return "invalid_session_timeout";
    case Error::kNonEmptyGroup:
      return "non_empty_group";
    case Error::kGroupIdNotFound:
      return "group_id_not_found";
    case Error::kOffsetMetadataTooLarge:
      return "offset_metadata_too_large";
    case Error::kGroupSubscribedToTopic:
      return "group_subscribed_to_topic";
  }
  return "unknown";
}

std::string_view state_name(GroupState state) {
  switch (state) {
    case GroupState::kEmpty:
      return "Empty";
    case GroupState::kPreparingRebalance:
      return "PreparingRebalance";
    case GroupState::kCompletingRebalance:
      return "CompletingRebalance";
    case GroupState::kStable:
      return "Stable";
    case GroupState::kDead:
      return "Dead";
  }
  return "Unknown";
}

std::optional<GroupState> parse_state(std::string_view name) {
  auto lower = [](std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
  };
  const std::string want = lower(name);
  for (auto s : {GroupState::kEmpty, GroupState::kPreparingRebalance,
                 GroupState::kCompletingRebalance, GroupState::kStable, GroupState::kDead}) {
    if (lower(state_name(s)) == want) return s;
  }
  return std::nullopt;
}

}  // namespace dmq::group
