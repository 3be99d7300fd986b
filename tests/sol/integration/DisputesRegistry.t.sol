// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Fixture} from "../utils/Fixture.sol";
import {Pairs} from "../utils/Pairs.sol";
import {HeritageDisputes, IRouterEscrow} from "../../../contracts/HeritageDisputes.sol";
import {CommitteeArbitrator} from "../../../contracts/CommitteeArbitrator.sol";
import {RoyaltyReceiver} from "../../../contracts/RoyaltyReceiver.sol";
import {IArbitrator} from "../../../contracts/interfaces/IArbitrator.sol";
import {IHeritageRegistry} from "../../../contracts/interfaces/IHeritageRegistry.sol";
import {DerivativeParams, Recipient, WorkStatus} from "../../../contracts/libraries/HeritageTypes.sol";

/// @title HeritageDisputes, the committee and royalty receivers over the real registry and router
/// @notice The merge of contracts v2: sol-router tested disputes against MockRegistry
///         (tests/sol/unit/Disputes.t.sol keeps it, isolating the disputes logic); these tests
///         check the seam itself: the registry's views as HeritageDisputes reads them, the registrant
///         the registry passes to the router (held wrappers), and ERC-2981 against `receiverOf`.
contract DisputesRegistryTest is Fixture {
    CommitteeArbitrator internal committee;
    HeritageDisputes internal disputes;
    address internal m1;
    address internal m2;
    address internal m3;
    uint256 internal hA; // community A's heritage work (treasury split)
    uint256 internal hB; // community B's heritage work
    uint256 internal work; // creator's derivative: hA at 100,000 ppm, hB at 300,000 ppm

    function setUp() public override {
        super.setUp();
        (m1, m2, m3) = (makeAddr("m1"), makeAddr("m2"), makeAddr("m3"));
        address[] memory members = new address[](3);
        (members[0], members[1], members[2]) = (m1, m2, m3);
        committee = new CommitteeArbitrator(members);
        disputes = new HeritageDisputes(
            IHeritageRegistry(address(registry)), IRouterEscrow(address(router)), IArbitrator(address(committee))
        );
        router.bindDisputes(address(disputes));
        hA = _registerHeritage(_open(0));
        hB = _registerHeritageOf(communityB, b1, _open(0), _split(treasuryB));
        work = _registerDerivative(Pairs.uints(hA, hB), Pairs.ppms(100_000, 300_000));
        vm.deal(a1, 10 ether);
    }

    function _raiseLineage() internal returns (uint256 id) {
        uint256 bond = disputes.CLAIM_BOND() + committee.arbitrationCost("");
        vm.prank(a1);
        id = disputes.raiseClaim{value: bond}(work, communityA, 0, 0, _cid());
    }

    /// @notice The award is community A's share of the roots the real registry reports
    ///         (rootSharesOf): 100,000 of 400,000 ppm, i.e. 25 % of the escrow, not all of it.
    function test_lineageClaim_UpheldAwardsProRataFromRealRootShares() public {
        uint256 id = _raiseLineage();
        (uint256 heldBy,) = router.holdOf(work);
        assertEq(heldBy, id);
        assertEq(disputes.awardPpmOf(id), 250_000);
        uint256 caseId = disputes.disputeOf(id).arbitratorId;
        assertTrue(disputes.isPartyTo(caseId, creator), "the real owner is a party");
        assertTrue(disputes.isPartyTo(caseId, a2), "a claimant steward is a party");
        assertFalse(disputes.isPartyTo(caseId, m1));
        vm.prank(m1);
        committee.vote(caseId, 1);
        vm.prank(m2);
        committee.vote(caseId, 1);
        assertEq(uint256(disputes.disputeOf(id).status), uint256(HeritageDisputes.Status.Upheld));
        (address beneficiary, uint256 award) = router.verdictOf(work);
        assertEq(beneficiary, treasuryA, "the real registry's treasury of the claimant community");
        assertEq(award, 250_000);
    }

    /// @notice The registry passes the caller as registrant: a wrapper the disputed work's owner
    ///         registers through the real registry while the claim is open is held with it; a
    ///         stranger's derivative of the same work is not.
    function test_wrapperByOwner_ThroughRealRegistryIsHeld() public {
        uint256 id = _raiseLineage();
        uint256 wrapper = _registerDerivative(_one(work), _ppm(1)); // creator owns `work`
        uint256[] memory held = disputes.heldDescendantsOf(id);
        assertEq(held.length, 1);
        assertEq(held[0], wrapper);
        (uint256 heldBy,) = router.holdOf(wrapper);
        assertEq(heldBy, id);

        DerivativeParams memory p = _derivativeParams(_one(work), _ppm(1), _split(b1));
        vm.prank(b1);
        uint256 stranger = registry.registerDerivative(p);
        (heldBy,) = router.holdOf(stranger);
        assertEq(heldBy, 0, "a stranger's derivative is not held");
        assertEq(disputes.heldDescendantsOf(id).length, 1);
    }

    /// @notice An omission claim naming a heritage id the registry does not know is refused with
    ///         the disputes contract's own error (the real registry's views revert for unknown ids).
    function test_omissionClaim_RevertWhen_HeritageWorkUnknown() public {
        uint256 other = _registerDerivative(_one(hB), _ppm(100_000));
        uint256 unknown = registry.workCount() + 1;
        uint256 bond = disputes.CLAIM_BOND();
        vm.prank(a1);
        vm.expectRevert(
            abi.encodeWithSelector(HeritageDisputes.DisputesInvalidClaim.selector, other, communityA, unknown, 1000)
        );
        disputes.raiseClaim{value: bond}(other, communityA, unknown, 1000, _cid());
        vm.prank(a1);
        uint256 id = disputes.raiseClaim{value: bond}(other, communityA, hA, 1000, _cid());
        assertEq(uint256(disputes.disputeOf(id).kind), uint256(HeritageDisputes.Kind.Omission));
    }

    /// @notice ERC-2981 names the router's per-work receiver; ETH sent there by a marketplace is
    ///         routed to the work's lineage. Unpayable and unknown works answer (address(0), 0).
    function test_royaltyInfo_NamesTheRoutersReceiverWhichRoutes() public {
        (address receiver, uint256 amount) = registry.royaltyInfo(work, 10_000);
        assertEq(receiver, router.receiverOf(work));
        assertEq(amount, 500);
        assertEq(router.deployReceiver(work), receiver);
        vm.prank(payer);
        (bool ok,) = receiver.call{value: 1_000_000}("");
        assertTrue(ok);
        assertEq(receiver.balance, 0, "routed at once");
        assertEq(router.balanceOf(address(0), treasuryA), 100_000);
        assertEq(router.balanceOf(address(0), treasuryB), 300_000);
        assertEq(router.balanceOf(address(0), creator), 600_000);
        assertEq(RoyaltyReceiver(payable(receiver)).workId(), work);

        (receiver, amount) = registry.royaltyInfo(registry.workCount() + 1, 10_000);
        assertEq(receiver, address(0));
        assertEq(amount, 0);
        vm.prank(a1);
        uint256 r = gov.registerRestrictedWork(communityA, keccak256("r"), "", 1 << 14, 1, new bytes32[](0));
        assertEq(uint256(router.statusOf(r)), uint256(WorkStatus.Restricted));
        (receiver, amount) = registry.royaltyInfo(r, 10_000);
        assertEq(receiver, address(0));
        assertEq(amount, 0);
    }

    /// @notice The registry's Proxy fallback is payable (it delegates unknown selectors to
    ///         HeritageGovernance), but nothing behind it takes ETH: plain transfers, unknown
    ///         selectors and governance calls with value all revert, so no ETH is stuck there.
    function test_registry_RefusesEtherThroughItsFallback() public {
        vm.deal(payer, 3 ether);
        vm.startPrank(payer);
        (bool ok,) = address(registry).call{value: 1 ether}("");
        assertFalse(ok, "plain ETH");
        (ok,) = address(registry).call{value: 1 ether}(abi.encodeWithSignature("nothing()"));
        assertFalse(ok, "unknown selector");
        (ok,) = address(registry).call{value: 1 ether}(abi.encodeCall(gov.setSplit, (hA, _split(payer))));
        assertFalse(ok, "governance call with value");
        vm.stopPrank();
        assertEq(address(registry).balance, 0);
    }
}
