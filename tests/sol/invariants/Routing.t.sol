// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "../utils/Test.sol";
import {HeritageRegistry} from "../../../contracts/HeritageRegistry.sol";
import {RoyaltyRouter} from "../../../contracts/RoyaltyRouter.sol";
import {ProtocolRules} from "../../../contracts/ProtocolRules.sol";
import {HeritageGovernance} from "../../../contracts/HeritageGovernance.sol";
import {IRoyaltyRouter} from "../../../contracts/interfaces/IRoyaltyRouter.sol";
import {WorkKind} from "../../../contracts/libraries/HeritageTypes.sol";
import {PlainERC20} from "../mocks/PlainERC20.sol";
import {RoutingHandler} from "./RoutingHandler.sol";

/// @title The money and provenance invariants of contracts/README.md, under random actions
contract RoutingInvariants is Test {
    HeritageRegistry internal registry;
    RoyaltyRouter internal router;
    PlainERC20 internal token;
    RoutingHandler internal handler;
    mapping(bytes32 => uint256) internal firstSeen;

    function setUp() public {
        router = new RoyaltyRouter();
        IRoyaltyRouter r = IRoyaltyRouter(address(router));
        ProtocolRules rules = new ProtocolRules();
        registry = new HeritageRegistry(r, rules, new HeritageGovernance(r, rules, 500), 500);
        router.bindRegistry(address(registry));
        token = new PlainERC20();
        address stewardA = makeAddr("stewardA");
        address stewardB = makeAddr("stewardB");
        address[] memory accounts = new address[](6);
        for (uint256 i; i < 4; ++i) {
            accounts[i] = makeAddr(string.concat("recipient", vm.toString(i)));
        }
        accounts[4] = makeAddr("treasuryA");
        accounts[5] = makeAddr("treasuryB");
        address[] memory sa = new address[](1);
        sa[0] = stewardA;
        uint256 a = registry.registerCommunity("A", sa, 1, accounts[4]);
        address[] memory sb = new address[](1);
        sb[0] = stewardB;
        uint256 b = registry.registerCommunity("B", sb, 1, accounts[5]);
        handler = new RoutingHandler(registry, router, token, a, b, stewardA, stewardB, accounts);
        router.bindDisputes(address(handler));
        targetContract(address(handler));
    }

    function _owed(address t) internal view returns (uint256 owed) {
        for (uint256 i; i < handler.accountCount(); ++i) {
            owed += router.balanceOf(t, handler.accounts(i));
        }
        uint256 n = registry.workCount();
        for (uint256 w = 1; w <= n; ++w) {
            owed += router.escrowOf(w, t);
        }
    }

    /// @notice Per token (ETH, the plain token, fee-on-transfer, no-return and every junk token),
    ///         credits (balances + escrow) plus withdrawals equal payments, to the wei.
    function invariant_totalCreditedEqualsTotalPaid() public view {
        for (uint256 i; i < handler.tokenCount(); ++i) {
            address t = handler.tokens(i);
            assertEq(_owed(t) + handler.ghostWithdrawn(t), handler.ghostPaid(t), "credited + withdrawn == paid");
        }
    }

    /// @notice The router holds exactly what it owes, and its own count of it agrees.
    function invariant_routerBalanceEqualsUnwithdrawnCreditsPlusEscrow() public view {
        assertEq(address(router).balance, _owed(address(0)), "ETH");
        assertEq(router.owedOf(address(0)), _owed(address(0)), "owedOf(ETH)");
        for (uint256 i = 1; i < handler.tokenCount(); ++i) {
            address t = handler.tokens(i);
            assertEq(PlainERC20(t).balanceOf(address(router)), _owed(t), "token held == owed");
            assertEq(router.owedOf(t), _owed(t), "owedOf(token)");
        }
    }

    /// @notice A withdrawal to a receiver refusing ETH always reverts and keeps the balance.
    function invariant_hostileReceiverNeverTakesABalance() public view {
        assertEq(handler.ghostHostileWithdrawals(), 0);
    }

    /// @notice Nobody withdraws more than was credited to them.
    function invariant_noWithdrawalAboveCredits() public view {
        for (uint256 i; i < handler.accountCount(); ++i) {
            address who = handler.accounts(i);
            assertLe(handler.ghostWithdrawnBy(address(0), who), handler.ghostCredited(address(0), who));
            assertLe(handler.ghostWithdrawnBy(address(token), who), handler.ghostCredited(address(token), who));
        }
    }

    /// @notice A content CID (or restricted commitment) maps to one work, forever.
    function invariant_contentMapsToOneWork() public view {
        uint256 n = handler.contentCount();
        for (uint256 i; i < n; ++i) {
            bytes memory c = handler.contents(i);
            uint256 id = registry.workByContent(c);
            assertGt(id, 0);
            bytes memory stored = c.length == 36 ? registry.workOf(id).contentCid : abi.encodePacked(registry.workOf(id).commitment);
            assertEq(keccak256(stored), keccak256(c));
        }
    }

    /// @notice No derivative of a restricted work, or of a work forbidding derivatives when it
    ///         registered, exists.
    function invariant_noForbiddenDerivative() public view {
        assertEq(handler.ghostForbiddenDerivatives(), 0);
        uint256 n = registry.workCount();
        for (uint256 w = 1; w <= n; ++w) {
            if (registry.workOf(w).kind != WorkKind.Derivative) continue;
            uint32[] memory roots = registry.rootsOf(w);
            for (uint256 j; j < roots.length; ++j) {
                assertFalse(registry.protocolOf(roots[j]).restricted);
            }
        }
    }

    /// @notice The handler's actions really do what the invariants rely on (not an invariant:
    ///         a fixed walk through every action, so a handler that silently does nothing fails).
    function test_handler_exercisesEveryAction() public {
        handler.registerHeritage(2); // community A, derivatives allowed, ML allowed
        handler.registerHeritage(4);
        handler.registerRestricted(1);
        handler.registerDerivative(0, 0, false);
        handler.registerDerivative(1 << 8, 1, true);
        handler.registerDuplicate(0);
        assertGe(handler.workCount(), 4);
        assertGe(handler.ghostRefusals(), 1);
        for (uint256 i; i < 6; ++i) {
            handler.payEth(i, 1e18 + i);
            handler.payToken(i, 1e20 + i);
        }
        assertEq(handler.ghostPayments(), 12);
        for (uint256 i; i < 8; ++i) {
            handler.raiseDispute(i);
        }
        handler.payEth(3, 5e17);
        for (uint256 i; i < 12; ++i) {
            handler.payJunk(i, 1000 + i); // more than 8 escrow tokens on held works
        }
        handler.payHostileToken(1, 1e18, true);
        handler.payHostileToken(2, 1e18, false);
        handler.payViaReceiver(2, 1e18, false);
        handler.payViaReceiver(3, 1e18, true); // kept by the receiver (2,300 gas), flushed: seed odd, not flushed
        handler.payViaReceiver(4, 1e18, true); // kept, then flushed
        for (uint256 i; i < 8; ++i) {
            handler.resolveDispute(i, i % 2 == 0);
        }
        for (uint256 i; i < 8; ++i) {
            for (uint256 t; t < handler.tokenCount(); ++t) {
                handler.releaseEscrow(i, t);
            }
        }
        assertGt(handler.ghostReleases(), 8);
        handler.withdrawToHostile(4);
        for (uint256 i; i < 6; ++i) {
            handler.withdraw(i, false);
            handler.withdraw(i, true);
        }
        assertGt(handler.ghostWithdrawn(address(0)), 0);
        assertGt(handler.ghostWithdrawn(address(token)), 0);
        invariant_totalCreditedEqualsTotalPaid();
        invariant_routerBalanceEqualsUnwithdrawnCreditsPlusEscrow();
    }
}
