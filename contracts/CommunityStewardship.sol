// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {MAX_STEWARDS} from "./libraries/HeritageTypes.sol";

/// @title Communities, their stewards and k-of-n approvals
/// @notice A community is registered once with a set of stewards, an approval threshold k and
///         a treasury. Its steward set, threshold and treasury change only when k of its current
///         stewards approve the same change. Approvals are counted per steward under a subject
///         (a hash naming the action) and an epoch that advances whenever the stewards change,
///         so approvals given by a former steward set never count.
abstract contract CommunityStewardship {
    struct Community {
        address treasury;
        uint16 threshold;
        uint16 stewardCount;
        uint32 epoch;
    }

    uint256 private _communityCount;
    mapping(uint256 communityId => Community) private _communities;
    mapping(uint256 communityId => string) private _names;
    mapping(uint256 communityId => address[]) private _stewards;
    mapping(uint256 communityId => mapping(address account => bool)) private _isSteward;
    mapping(bytes32 key => uint256) private _approvalCount;
    mapping(bytes32 key => mapping(address steward => bool)) private _approvedBy;

    /// @notice A community was registered.
    event CommunityRegistered(
        uint256 indexed communityId, string name, address[] stewards, uint256 threshold, address treasury
    );
    /// @notice The community's stewards, threshold and treasury were replaced; `epoch` advanced.
    event CommunityChanged(
        uint256 indexed communityId, address[] stewards, uint256 threshold, address treasury, uint256 epoch
    );
    /// @notice A steward approved `subject`; `count` approvals so far in this epoch.
    event ApprovalRecorded(
        uint256 indexed communityId, bytes32 indexed subject, address indexed steward, uint256 count
    );

    /// @notice No community has this id.
    error RegistryUnknownCommunity(uint256 communityId);
    /// @notice The name is empty.
    error RegistryEmptyName();
    /// @notice Stewards must be 1..MAX_STEWARDS distinct non-zero addresses.
    error RegistryInvalidStewards();
    /// @notice The threshold must be between 1 and the number of stewards.
    error RegistryInvalidThreshold(uint256 threshold, uint256 stewards);
    /// @notice The treasury must be a non-zero address.
    error RegistryZeroTreasury();
    /// @notice `account` is not a steward of `communityId`.
    error RegistryNotSteward(uint256 communityId, address account);
    /// @notice This steward already approved this subject in this epoch.
    error RegistryAlreadyApproved(uint256 communityId, bytes32 subject, address steward);

    /// @notice Register a community. Anyone may register one; it is governed by its stewards.
    /// @return communityId the new community's id (sequential from 1)
    function registerCommunity(string calldata name, address[] calldata stewards, uint16 threshold, address treasury)
        external
        returns (uint256 communityId)
    {
        if (bytes(name).length == 0) revert RegistryEmptyName();
        communityId = ++_communityCount;
        _names[communityId] = name;
        _setStewards(communityId, stewards, threshold, treasury);
        emit CommunityRegistered(communityId, name, stewards, threshold, treasury);
    }

    /// @notice Approve replacing the community's stewards, threshold and treasury. Applied when
    ///         the current threshold of current stewards has approved the identical change.
    /// @return applied whether this approval applied the change
    function approveCommunityChange(
        uint256 communityId,
        address[] calldata stewards,
        uint16 threshold,
        address treasury
    ) external returns (bool applied) {
        bytes32 subject = keccak256(abi.encode("COMMUNITY_CHANGE", stewards, threshold, treasury));
        applied = _approve(communityId, subject, msg.sender);
        if (applied) {
            address[] storage old = _stewards[communityId];
            for (uint256 i; i < old.length; ++i) {
                _isSteward[communityId][old[i]] = false;
            }
            delete _stewards[communityId];
            _setStewards(communityId, stewards, threshold, treasury);
            // Epochs count steward changes; 2^32 changes cannot happen in practice.
            uint32 epoch = ++_communities[communityId].epoch;
            emit CommunityChanged(communityId, stewards, threshold, treasury, epoch);
        }
    }

    /// @notice Number of registered communities; ids run from 1 to this number.
    function communityCount() external view returns (uint256) {
        return _communityCount;
    }

    /// @notice A community's name, stewards, threshold, treasury and steward epoch.
    function communityOf(uint256 communityId)
        external
        view
        returns (string memory name, address[] memory stewards, uint256 threshold, address treasury, uint256 epoch)
    {
        Community memory c = _community(communityId);
        return (_names[communityId], _stewards[communityId], c.threshold, c.treasury, c.epoch);
    }

    /// @notice Whether `account` is currently a steward of `communityId`.
    function isSteward(uint256 communityId, address account) public view returns (bool) {
        return _isSteward[communityId][account];
    }

    /// @notice How many stewards' approvals the community needs (k of k-of-n).
    function thresholdOf(uint256 communityId) external view returns (uint256) {
        return _community(communityId).threshold;
    }

    /// @notice The community's treasury.
    function treasuryOf(uint256 communityId) external view returns (address) {
        return _community(communityId).treasury;
    }

    /// @notice The community's steward epoch; it advances at every steward change.
    function stewardEpochOf(uint256 communityId) external view returns (uint256) {
        return _community(communityId).epoch;
    }

    /// @notice Approvals counted so far for `subject` in the community's current epoch.
    function approvalsOf(uint256 communityId, bytes32 subject) external view returns (uint256) {
        return _approvalCount[_approvalKey(communityId, subject)];
    }

    function _community(uint256 communityId) internal view returns (Community storage c) {
        c = _communities[communityId];
        if (c.threshold == 0) revert RegistryUnknownCommunity(communityId);
    }

    function _treasuryOf(uint256 communityId) internal view returns (address) {
        return _community(communityId).treasury;
    }

    function _thresholdOf(uint256 communityId) internal view returns (uint256) {
        return _community(communityId).threshold;
    }

    function _requireSteward(uint256 communityId, address account) internal view {
        _community(communityId);
        if (!_isSteward[communityId][account]) revert RegistryNotSteward(communityId, account);
    }

    /// @dev Records `steward`'s approval of `subject`; true exactly when the threshold is reached.
    function _approve(uint256 communityId, bytes32 subject, address steward) internal returns (bool reached) {
        _requireSteward(communityId, steward);
        bytes32 key = _approvalKey(communityId, subject);
        if (_approvedBy[key][steward]) revert RegistryAlreadyApproved(communityId, subject, steward);
        _approvedBy[key][steward] = true;
        uint256 count = ++_approvalCount[key];
        emit ApprovalRecorded(communityId, subject, steward, count);
        reached = count == _communities[communityId].threshold;
    }

    function _approvalKey(uint256 communityId, bytes32 subject) private view returns (bytes32) {
        return keccak256(abi.encode(communityId, _communities[communityId].epoch, subject));
    }

    function _setStewards(uint256 communityId, address[] calldata stewards, uint16 threshold, address treasury)
        private
    {
        uint256 n = stewards.length;
        if (n == 0 || n > MAX_STEWARDS) revert RegistryInvalidStewards();
        if (threshold == 0 || threshold > n) revert RegistryInvalidThreshold(threshold, n);
        if (treasury == address(0)) revert RegistryZeroTreasury();
        mapping(address => bool) storage isSteward_ = _isSteward[communityId];
        for (uint256 i; i < n; ++i) {
            address s = stewards[i];
            if (s == address(0) || isSteward_[s]) revert RegistryInvalidStewards();
            isSteward_[s] = true;
        }
        _stewards[communityId] = stewards;
        Community storage c = _communities[communityId];
        c.treasury = treasury;
        c.threshold = threshold;
        // n <= MAX_STEWARDS (16).
        c.stewardCount = uint16(n);
    }
}
