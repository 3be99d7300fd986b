// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {RoyaltyRouter} from "../../../contracts/RoyaltyRouter.sol";

/// @notice A router account that withdraws its own ETH credit; each hostile receiver below
///         differs only in what it does when the ETH arrives.
abstract contract RouterAccount {
    RoyaltyRouter public immutable router;

    constructor(RoyaltyRouter router_) {
        router = router_;
    }

    function withdraw() external {
        router.withdraw(address(0));
    }
}

/// @notice Re-enters withdraw (and pay) when it receives ETH.
contract ReentrantReceiver is RouterAccount {
    uint256 public reentries;
    bool public reentryFailed;

    constructor(RoyaltyRouter router_) RouterAccount(router_) {}

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
contract RevertingReceiver is RouterAccount {
    constructor(RoyaltyRouter router_) RouterAccount(router_) {}

    function withdrawTo(address to) external {
        router.withdrawTo(address(0), to);
    }

    receive() external payable {
        revert("no thanks");
    }
}

/// @notice Burns all the gas it is given when receiving ETH.
contract GasBurningReceiver is RouterAccount {
    constructor(RoyaltyRouter router_) RouterAccount(router_) {}

    receive() external payable {
        while (true) {}
    }
}
