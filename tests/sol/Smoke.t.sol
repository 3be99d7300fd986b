// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Fixture} from "./utils/Fixture.sol";

contract SmokeTest is Fixture {
    function test_pay_CreditsHeritageAndDerivative() public {
        uint256 h = _registerHeritage(_open(100_000));
        uint256 d = _registerDerivative(_one(h), _ppm(250_000));
        vm.prank(payer);
        router.pay{value: 1 ether}(d, bytes32("u1"), 1);
        assertEq(router.balanceOf(address(0), treasuryA), 0.25 ether);
        assertEq(router.balanceOf(address(0), creator), 0.75 ether);
    }
}
