// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {RoyaltyRouter} from "../../../contracts/RoyaltyRouter.sol";

/// @notice Re-enters withdraw (and pay) when it receives ETH.
contract ReentrantReceiver {
    RoyaltyRouter public immutable router;
    uint256 public reentries;
    bool public reentryFailed;

    constructor(RoyaltyRouter router_) {
        router = router_;
    }

    function withdraw() external {
        router.withdraw(address(0));
    }

    receive() external payable {
        ++reentries;
        try router.withdraw(address(0)) {
            reentryFailed = false;
        } catch {
            reentryFailed = true;
        }
    }
}

/// @notice Refuses every ETH transfer.
contract RevertingReceiver {
    RoyaltyRouter public immutable router;

    constructor(RoyaltyRouter router_) {
        router = router_;
    }

    function withdraw() external {
        router.withdraw(address(0));
    }

    function withdrawTo(address to) external {
        router.withdrawTo(address(0), to);
    }

    receive() external payable {
        revert("no thanks");
    }
}

/// @notice Burns all the gas it is given when receiving ETH.
contract GasBurningReceiver {
    RoyaltyRouter public immutable router;

    constructor(RoyaltyRouter router_) {
        router = router_;
    }

    function withdraw() external {
        router.withdraw(address(0));
    }

    receive() external payable {
        while (true) {}
    }
}
