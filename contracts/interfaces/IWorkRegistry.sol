// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title The heritage registry as StudyAttestations reads it
/// @notice Work ids run from 1 to `workCount()` and a registered work is never removed, so an id
///         in that range names a work that exists.
interface IWorkRegistry {
    /// @notice Number of registered works; ids run from 1 to this number.
    function workCount() external view returns (uint256);

    /// @notice Whether the work is restricted (secret/sacred); reverts for an unknown id.
    function isRestricted(uint256 workId) external view returns (bool);
}
