// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IArbitrator} from "./IArbitrator.sol";

/// @title A contract whose disputes an ERC-792-style arbitrator decides
interface IArbitrable {
    /// @notice `arbitrator` gave `ruling` on its case `disputeId`.
    event Ruling(IArbitrator indexed arbitrator, uint256 indexed disputeId, uint256 ruling);

    /// @notice Called by the arbitrator only: apply `ruling` (0 = refused) to its case `disputeId`.
    function rule(uint256 disputeId, uint256 ruling) external;
}

/// @title An arbitrable that can say who is a party to a case, so that parties cannot judge it
interface IPartyAware {
    /// @notice Whether `account` is a party to the arbitrator's case `disputeId`.
    function isPartyTo(uint256 disputeId, address account) external view returns (bool);
}
