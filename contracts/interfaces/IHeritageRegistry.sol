// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Protocol} from "../libraries/HeritageTypes.sol";

/// @title The heritage registry as other contracts (HeritageDisputes) read it
/// @notice Every view on a work reverts `RegistryUnknownWork` for an id that names no work;
///         every view on a community reverts `RegistryUnknownCommunity` likewise.
interface IHeritageRegistry {
    /// @notice Number of registered works; ids run from 1 to this number.
    function workCount() external view returns (uint256);

    /// @notice ERC-721 owner of the work's token.
    function ownerOf(uint256 workId) external view returns (address);

    /// @notice The work's heritage roots (a heritage work is its own single root).
    function rootsOf(uint256 workId) external view returns (uint32[] memory);

    /// @notice Each heritage root's effective share of a payment to `workId`, in ppm (rounded
    ///         down; a heritage work: ([workId], [PPM])).
    function rootSharesOf(uint256 workId) external view returns (uint32[] memory roots, uint32[] memory ppms);

    /// @notice The community of a heritage work; 0 for a derivative.
    function heritageCommunityOf(uint256 workId) external view returns (uint256 communityId);

    /// @notice Whether `account` is currently a steward of `communityId`.
    function isSteward(uint256 communityId, address account) external view returns (bool);

    /// @notice How many stewards' approvals the community needs.
    function thresholdOf(uint256 communityId) external view returns (uint256);

    /// @notice The community's treasury.
    function treasuryOf(uint256 communityId) external view returns (address);

    /// @notice The community's steward epoch; it advances at every steward change.
    function stewardEpochOf(uint256 communityId) external view returns (uint256);

    /// @notice A heritage work's cultural protocol.
    function protocolOf(uint256 workId) external view returns (Protocol memory);
}
