// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Fixture} from "./utils/Fixture.sol";
import {RoyaltyRouter} from "../../contracts/RoyaltyRouter.sol";
import {Recipient} from "../../contracts/libraries/HeritageTypes.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {
    FeeOnTransferToken, NoReturnToken, FalseReturningToken, ReentrantToken, IPayable
} from "./mocks/HostileTokens.sol";
import {RouterAccount, ReentrantReceiver, RevertingReceiver, GasBurningReceiver} from "./mocks/HostileReceivers.sol";

/// @title Receivers and tokens that misbehave
contract HostilePartiesTest is Fixture {
    function _workPaying(address account) internal returns (uint256 work) {
        work = _registerHeritageOf(communityA, a1, _open(0), _split(account));
        vm.prank(payer);
        router.pay{value: 1 ether}(work, bytes32("u"), 1);
    }

    function test_withdraw_ReentrantReceiverGetsItsBalanceOnce() public {
        ReentrantReceiver r = new ReentrantReceiver(router);
        _workPaying(address(r));
        r.withdraw();
        assertEq(address(r).balance, 1 ether);
        assertEq(r.reentries(), 1);
        assertTrue(r.reentryFailed(), "the nested withdraw must revert");
        assertEq(router.balanceOf(address(0), address(r)), 0);
        assertEq(address(router).balance, 0);
    }

    function test_withdraw_RevertWhen_ReceiverRefusesEth_BalanceKept() public {
        RevertingReceiver r = new RevertingReceiver(router);
        _workPaying(address(r));
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterTransferFailed.selector, address(r), 1 ether));
        r.withdraw();
        assertEq(router.balanceOf(address(0), address(r)), 1 ether);
        r.withdrawTo(creator);
        assertEq(creator.balance, 1 ether);
        assertEq(router.balanceOf(address(0), address(r)), 0);
    }

    function test_withdraw_GasBurningReceiverFailsCleanly() public {
        GasBurningReceiver r = new GasBurningReceiver(router);
        _workPaying(address(r));
        (bool ok,) = address(r).call{gas: 500_000}(abi.encodeCall(RouterAccount.withdraw, ()));
        assertFalse(ok);
        assertEq(router.balanceOf(address(0), address(r)), 1 ether);
        assertEq(address(router).balance, 1 ether);
    }

    function test_payToken_FeeOnTransferCreditsWhatArrived() public {
        FeeOnTransferToken t = new FeeOnTransferToken();
        uint256 h = _registerHeritageOf(communityA, a1, _open(0), _splitN(3, 9));
        t.mint(payer, 1000 ether);
        vm.startPrank(payer);
        t.approve(address(router), 1000 ether);
        router.payToken(h, address(t), 1000 ether, bytes32("u"), 1);
        vm.stopPrank();
        Recipient[] memory s = router.splitOf(h);
        uint256 credited;
        for (uint256 i; i < s.length; ++i) {
            credited += router.balanceOf(address(t), s[i].account);
        }
        assertEq(credited, 990 ether);
        assertEq(t.balanceOf(address(router)), credited);
        uint256 owed = router.balanceOf(address(t), s[1].account);
        vm.prank(s[1].account);
        router.withdraw(address(t));
        assertEq(t.balanceOf(s[1].account), owed - owed / 100); // the token keeps its fee on the way out too
        assertEq(t.balanceOf(address(router)), credited - owed);
    }

    function test_payToken_NoReturnValueTokenWorks() public {
        NoReturnToken t = new NoReturnToken();
        uint256 h = _registerHeritageOf(communityA, a1, _open(0), _split(treasuryA));
        t.mint(payer, 5e6);
        vm.startPrank(payer);
        t.approve(address(router), 5e6);
        router.payToken(h, address(t), 5e6, bytes32("u"), 1);
        vm.stopPrank();
        vm.prank(treasuryA);
        router.withdraw(address(t));
        assertEq(t.balanceOf(treasuryA), 5e6);
    }

    function test_payToken_RevertWhen_TokenReturnsFalse() public {
        FalseReturningToken t = new FalseReturningToken();
        uint256 h = _registerHeritageOf(communityA, a1, _open(0), _split(treasuryA));
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(SafeERC20.SafeERC20FailedOperation.selector, address(t)));
        router.payToken(h, address(t), 1, bytes32("u"), 1);
    }

    function test_payToken_RevertWhen_TokenReentersPayment() public {
        ReentrantToken t = new ReentrantToken();
        uint256 h = _registerHeritageOf(communityA, a1, _open(0), _split(treasuryA));
        t.mint(payer, 10 ether);
        t.arm(IPayable(address(router)), h);
        vm.startPrank(payer);
        t.approve(address(router), 10 ether);
        vm.expectRevert(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
        router.payToken(h, address(t), 10 ether, bytes32("u"), 1);
        vm.stopPrank();
        assertEq(t.balanceOf(address(router)), 0);
    }
}
