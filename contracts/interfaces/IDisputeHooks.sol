// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title What the router asks the disputes contract when a derivative of a held work registers
interface IDisputeHooks {
    /// @notice A derivative `workId` registered by `registrant` names a parent held in escrow by
    ///         dispute `disputeId`. Returns true when the new work's own share must be held too
    ///         (the registrant is the disputed work's owner or registrant); the disputes contract
    ///         then records the work so that it is released with the dispute.
    function descendantRegistered(uint256 disputeId, uint256 workId, address registrant) external returns (bool hold);
}
