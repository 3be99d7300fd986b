// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Vm} from "../utils/Vm.sol";
import {TrainingSets} from "../../../contracts/TrainingSets.sol";
import {RoyaltyRouter} from "../../../contracts/RoyaltyRouter.sol";

/// @title Pays a model's training set (directly and through the router and its pot) and
///        withdraws as the treasuries, keeping ghost totals.
contract TrainingSetsHandler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    TrainingSets public immutable sets;
    RoyaltyRouter public immutable router;
    uint256 public immutable model;
    uint256[] public communities;
    address[] public treasuries;

    uint256 public ghostArrived;
    uint256 public ghostWithdrawn;
    uint256 public ghostPaidToRouter;
    uint256 public ghostFromPot;

    constructor(
        TrainingSets sets_,
        RoyaltyRouter router_,
        uint256 model_,
        uint256[] memory communities_,
        address[] memory treasuries_
    ) {
        (sets, router, model, communities, treasuries) = (sets_, router_, model_, communities_, treasuries_);
        vm.deal(address(this), type(uint128).max);
    }

    function communityCount() external view returns (uint256) {
        return communities.length;
    }

    function deposit(uint256 amount) external {
        amount = 1 + amount % 1e21;
        sets.deposit{value: amount}(model);
        ghostArrived += amount;
    }

    function payThroughRouter(uint256 amount) external {
        amount = 1 + amount % 1e21;
        router.pay{value: amount}(model, bytes32("usage"), uint64(block.timestamp));
        ghostPaidToRouter += amount;
    }

    function sweep() external {
        uint256 amount = sets.sweep(model);
        ghostArrived += amount;
        ghostFromPot += amount;
    }

    function withdraw(uint256 which) external {
        which %= communities.length;
        vm.prank(treasuries[which]);
        ghostWithdrawn += sets.withdraw(model, communities[which]);
    }
}
