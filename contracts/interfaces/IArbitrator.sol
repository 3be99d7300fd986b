// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IArbitrable} from "./IArbitrable.sol";

/// @title An arbitrator in the manner of ERC-792
/// @notice An arbitrable contract opens a case with `createDispute`, paying `arbitrationCost`;
///         the arbitrator later calls the arbitrable's `rule(disputeId, ruling)`. Ruling 0 means
///         "refused to arbitrate"; rulings 1..choices are the arbitrable's options.
interface IArbitrator {
    /// @notice A case was opened by `arbitrable`.
    event DisputeCreation(uint256 indexed disputeId, IArbitrable indexed arbitrable);

    /// @notice Open a case with `choices` possible rulings; `extraData` is arbitrator-specific.
    function createDispute(uint256 choices, bytes calldata extraData) external payable returns (uint256 disputeId);

    /// @notice The fee `createDispute` requires (in wei) for `extraData`.
    function arbitrationCost(bytes calldata extraData) external view returns (uint256 cost);

    /// @notice The ruling given so far (0 while none).
    function currentRuling(uint256 disputeId) external view returns (uint256 ruling);
}
