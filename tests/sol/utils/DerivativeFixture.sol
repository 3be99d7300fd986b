// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Fixture} from "./Fixture.sol";
import {Recipient, DerivativeParams} from "../../../contracts/libraries/HeritageTypes.sol";

/// @notice The fixture plus the one-call derivative registration the router suites share.
abstract contract DerivativeFixture is Fixture {
    /// @dev `creator` registers a derivative of `parents` (shares `ppms`) paying `split`; returns its id.
    function _derive(uint256[] memory parents, uint32[] memory ppms, Recipient[] memory split)
        internal
        returns (uint256 workId)
    {
        DerivativeParams memory p = _derivativeParams(parents, ppms, split);
        vm.prank(creator);
        workId = registry.registerDerivative(p);
    }
}
