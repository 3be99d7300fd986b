// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "../utils/Test.sol";
import {MockRegistry, MarketplaceLike} from "../mocks/MockRegistry.sol";
import {PlainERC20} from "../mocks/PlainERC20.sol";
import {FeeOnTransferToken, NoReturnToken} from "../mocks/HostileTokens.sol";
import {RoyaltyRouter, MAX_ROUTE_CREDITS} from "../../../contracts/RoyaltyRouter.sol";
import {RoyaltyReceiver} from "../../../contracts/RoyaltyReceiver.sol";
import {HeritageDisputes, IRouterEscrow} from "../../../contracts/HeritageDisputes.sol";
import {CommitteeArbitrator} from "../../../contracts/CommitteeArbitrator.sol";
import {IArbitrator} from "../../../contracts/interfaces/IArbitrator.sol";
import {IHeritageRegistry} from "../../../contracts/interfaces/IHeritageRegistry.sol";
import {Recipient, WorkStatus} from "../../../contracts/libraries/HeritageTypes.sol";

/// @title Router v2 with disputes, the committee arbitrator and royalty receivers, over a mock registry
/// @notice Community 1 (stewards s1, s2, s3; 2 of 3; treasury t1) claims; community 2 (steward
///         d1; treasury t2) owns the decoy root. Committee: m1, m2, m3 and s1 (a claimant steward).
contract DisputesTest is Test {
    uint256 internal constant C1 = 1;
    uint256 internal constant C2 = 2;
    uint256 internal constant KEY_S1 = 0x51;
    uint256 internal constant KEY_S2 = 0x52;
    uint256 internal constant BOND = 0.05 ether;

    RoyaltyRouter internal router;
    MockRegistry internal registry;
    CommitteeArbitrator internal committee;
    HeritageDisputes internal disputes;
    address internal s1;
    address internal s2;
    address internal s3 = address(0x53);
    address internal d1 = address(0xD1);
    address internal t1 = address(0x71);
    address internal t2 = address(0x72);
    address internal m1 = address(0x81);
    address internal m2 = address(0x82);
    address internal m3 = address(0x83);
    address internal owner = address(0x0E);
    address internal creator = address(0xC0);
    address internal payer = address(0xBA);

    uint256 internal root1; // community 1's heritage work
    uint256 internal decoy; // community 2's heritage work
    uint256 internal work; // owner's derivative: root1 at 1 ppm, decoy at 300,000 ppm

    function setUp() public {
        s1 = vm.addr(KEY_S1);
        s2 = vm.addr(KEY_S2);
        router = new RoyaltyRouter();
        registry = new MockRegistry(router);
        router.bindRegistry(address(registry));
        address[] memory members = new address[](4);
        (members[0], members[1], members[2], members[3]) = (m1, m2, m3, s1);
        committee = new CommitteeArbitrator(members);
        disputes = new HeritageDisputes(
            IHeritageRegistry(address(registry)), IRouterEscrow(address(router)), IArbitrator(address(committee))
        );
        router.bindDisputes(address(disputes));

        address[] memory st1 = new address[](3);
        (st1[0], st1[1], st1[2]) = (s1, s2, s3);
        registry.addCommunity(C1, st1, 2, t1);
        address[] memory st2 = new address[](1);
        st2[0] = d1;
        registry.addCommunity(C2, st2, 1, t2);
        root1 = registry.addHeritage(C1, _one(t1));
        decoy = registry.addHeritage(C2, _one(t2));
        work = _derive(owner, root1, 1, decoy, 300_000);
        vm.deal(payer, 1000 ether);
        vm.deal(s1, 10 ether);
        vm.deal(s2, 10 ether);
    }

    // ------------------------------------------------------------------ attacks (issue 19, item 6)

    /// @dev Old: the disputing community was claimant and judge. Now its steward on the committee
    ///      cannot vote, nor can the work's owner be counted.
    function test_vote_RevertWhen_MemberIsClaimantSteward() public {
        uint256 caseId = disputes.disputeOf(_raiseLineage()).arbitratorId;
        vm.prank(s1);
        vm.expectRevert(abi.encodeWithSelector(CommitteeArbitrator.ArbitratorMemberIsParty.selector, caseId, s1));
        committee.vote(caseId, 1);
        // The disputed work's owner and registrant is a party too, and so is the claimant steward.
        assertTrue(disputes.isPartyTo(caseId, owner));
        assertTrue(disputes.isPartyTo(caseId, s2));
        assertFalse(disputes.isPartyTo(caseId, m1));
    }

    /// @dev Majority of the 3 eligible members (s1 excluded): 2 votes rule.
    function test_vote_MajorityOfEligibleMembersRules() public {
        uint256 id = _raiseLineage();
        uint256 caseId = disputes.disputeOf(id).arbitratorId;
        _voteUphold(caseId, m1);
        _assertStatus(id, HeritageDisputes.Status.Open);
        _voteUphold(caseId, m2);
        _assertStatus(id, HeritageDisputes.Status.Upheld);
    }

    /// @dev Old: escrow had no timeout. Now, after DISPUTE_PERIOD, anyone dismisses; escrow to the split.
    function test_expire_ReleasesEscrowToTheSplitAndReturnsTheBond() public {
        uint256 id = _raiseLineage();
        _pay(work, 1_000_000);
        uint256 deadline = disputes.disputeOf(id).deadline;
        vm.expectRevert(abi.encodeWithSelector(HeritageDisputes.DisputesPeriodNotOver.selector, id, deadline));
        disputes.expire(id);
        vm.warp(block.timestamp + disputes.DISPUTE_PERIOD() + 1);
        disputes.expire(id);
        uint256 escrow = router.escrowOf(work, address(0));
        assertEq(escrow, 699_999);
        router.releaseEscrow(work, address(0));
        assertEq(router.balanceOf(address(0), owner), 699_999);
        assertEq(disputes.bondOf(s1), BOND);
        // A ruling after the claim closed is refused.
        uint256 caseId = disputes.disputeOf(id).arbitratorId;
        _voteUphold(caseId, m1);
        vm.prank(m2);
        vm.expectRevert(
            abi.encodeWithSelector(HeritageDisputes.DisputesNotOpen.selector, id, HeritageDisputes.Status.Expired)
        );
        committee.vote(caseId, 1);
    }

    /// @dev A ruling that arrives after the period but before anyone called `expire` is refused too.
    function test_rule_RevertWhen_PeriodOver() public {
        uint256 id = _raiseLineage();
        uint256 caseId = disputes.disputeOf(id).arbitratorId;
        uint256 deadline = disputes.disputeOf(id).deadline;
        _voteUphold(caseId, m1);
        vm.warp(deadline + 1);
        vm.prank(m2);
        vm.expectRevert(abi.encodeWithSelector(HeritageDisputes.DisputesPeriodOver.selector, id, deadline));
        committee.vote(caseId, 1);
    }

    function test_rule_RevertWhen_CallerNotArbitrator() public {
        _raiseLineage();
        vm.expectRevert(abi.encodeWithSelector(HeritageDisputes.DisputesUnauthorised.selector, address(this)));
        disputes.rule(0, 1);
    }

    function test_holdEscrow_RevertWhen_CallerNotDisputes() public {
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterNotDisputes.selector, address(this)));
        router.holdEscrow(work, 1);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterNotDisputes.selector, address(this)));
        router.endHold(work, t1, 0);
    }

    function test_raiseClaim_RevertWhen_WorkAlreadyHeld() public {
        uint256 id = _raiseLineage();
        vm.prank(s2);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterAlreadyHeld.selector, work, id));
        disputes.raiseClaim{value: BOND}(work, C1, 0, 0, "cid");
    }

    /// @dev Dismissed by the committee: escrow to the split, the bond to the work's owner.
    function test_rule_DismissedSendsEscrowToSplitAndBondToOwner() public {
        uint256 id = _raiseLineage();
        _pay(work, 1_000_000);
        uint256 caseId = disputes.disputeOf(id).arbitratorId;
        vm.prank(m1);
        committee.vote(caseId, 2);
        vm.prank(m3);
        committee.vote(caseId, 2);
        _assertStatus(id, HeritageDisputes.Status.Dismissed);
        router.releaseEscrow(work, address(0));
        assertEq(router.balanceOf(address(0), owner), 699_999);
        assertEq(disputes.bondOf(owner), BOND);
        assertEq(disputes.bondOf(s1), 0);
    }

    /// @dev Old: an upheld dispute gave 100 % of the escrow to a community at 1 ppm of the route.
    ///      Now: escrow x 1 / (1 + 300,000).
    function test_rule_UpheldAwardIsProRataToTheClaimantShare() public {
        uint256 id = _raiseLineage();
        _pay(work, 1 ether);
        _uphold(id);
        uint256 escrow = router.escrowOf(work, address(0));
        router.releaseEscrow(work, address(0));
        uint256 awardPpm = uint256(1) * 1_000_000 / 300_001; // = 3
        assertEq(disputes.awardPpmOf(id), awardPpm);
        uint256 award = escrow * awardPpm / 1_000_000;
        assertEq(router.balanceOf(address(0), t1) - _routed(1 ether, 1), award);
        assertEq(router.balanceOf(address(0), owner), escrow - award);
        assertEq(disputes.bondOf(s1), BOND);
        _assertConserved(address(0));
    }

    /// @dev Old: a wrapper derivative routing 1 ppm to the disputed work escaped escrow.
    function test_descendantRegistered_WrapperByTheOwnerIsHeld() public {
        uint256 id = _raiseLineage();
        uint256 wrapper = _derive(owner, work, 1, 0, 0);
        (uint256 heldBy,) = router.holdOf(wrapper);
        assertEq(heldBy, id);
        uint256 wrapper2 = _derive(owner, wrapper, 1, 0, 0);
        (heldBy,) = router.holdOf(wrapper2);
        assertEq(heldBy, id);
        // Someone else's derivative is not held.
        uint256 other = _derive(creator, work, 100_000, 0, 0);
        (heldBy,) = router.holdOf(other);
        assertEq(heldBy, 0);
        _pay(wrapper2, 1_000_000);
        assertEq(router.escrowOf(wrapper2, address(0)), 999_999);
        _uphold(id);
        router.releaseEscrow(wrapper2, address(0));
        assertEq(disputes.heldDescendantsOf(id).length, 2);
        _assertConserved(address(0));
    }

    function test_descendantRegistered_RevertWhen_TooManyWrappers() public {
        uint256 id = _raiseLineage();
        for (uint256 i; i < disputes.MAX_HELD_DESCENDANTS(); ++i) {
            _derive(owner, work, 1, 0, 0);
        }
        uint256[] memory parents = _one(work);
        vm.expectRevert(abi.encodeWithSelector(HeritageDisputes.DisputesTooManyHeldDescendants.selector, id, 8));
        registry.addDerivative(owner, parents, _ppm(1), _one(owner), new uint32[](0), new uint32[](0));
    }

    /// @dev Old: a derivative leaving a community's work out of its lineage could not be disputed.
    function test_raiseClaim_OmissionClaimAwardsTheClaimedShare() public {
        uint256 plain = _derive(owner, decoy, 200_000, 0, 0);
        vm.prank(s1);
        uint256 id = disputes.raiseClaim{value: BOND}(plain, C1, root1, 100_000, "cid");
        assertEq(uint256(disputes.disputeOf(id).kind), uint256(HeritageDisputes.Kind.Omission));
        _pay(plain, 1_000_000);
        _uphold(id);
        // 100,000 / (200,000 + 100,000)
        assertEq(disputes.awardPpmOf(id), 333_333);
        router.releaseEscrow(plain, address(0));
        assertEq(router.balanceOf(address(0), t1), 800_000 * uint256(333_333) / 1_000_000);
        _assertConserved(address(0));
    }

    function test_raiseClaim_RevertWhen_OmittedWorkIsInTheLineage() public {
        vm.prank(s1);
        vm.expectRevert();
        disputes.raiseClaim{value: BOND}(work, C1, root1, 100_000, "cid");
    }

    function test_raiseClaim_ContestedHeritageOfAnotherCommunity() public {
        vm.prank(s1);
        uint256 id = disputes.raiseClaim{value: BOND}(decoy, C1, 0, 500_000, "cid");
        assertEq(uint256(disputes.disputeOf(id).kind), uint256(HeritageDisputes.Kind.Contested));
        // d1 steward of the contested work's community is a party too.
        assertTrue(disputes.isPartyTo(disputes.disputeOf(id).arbitratorId, d1));
    }

    function test_raiseClaim_RevertWhen_NotStewardOrWrongBond() public {
        vm.deal(creator, 1 ether);
        vm.prank(creator);
        vm.expectRevert(abi.encodeWithSelector(HeritageDisputes.DisputesNotSteward.selector, C1, creator));
        disputes.raiseClaim{value: BOND}(work, C1, 0, 0, "cid");
        vm.prank(s1);
        vm.expectRevert(abi.encodeWithSelector(HeritageDisputes.DisputesWrongBond.selector, 1, BOND));
        disputes.raiseClaim{value: 1}(work, C1, 0, 0, "cid");
    }

    /// @dev More than 8 escrow tokens never block payments; each is released by its own call.
    function test_pay_TwelveEscrowTokensNeverBlockPayments() public {
        uint256 id = _raiseLineage();
        PlainERC20[] memory tokens = new PlainERC20[](12);
        for (uint256 i; i < 12; ++i) {
            tokens[i] = new PlainERC20();
            tokens[i].mint(payer, 1000);
            vm.startPrank(payer);
            tokens[i].approve(address(router), 1000);
            router.payToken(work, address(tokens[i]), 1000, "junk", 0);
            vm.stopPrank();
        }
        _pay(work, 1_000_000);
        (, uint256 count) = router.holdOf(work);
        assertEq(count, 13);
        _uphold(id);
        for (uint256 i; i < 12; ++i) {
            router.releaseEscrow(work, address(tokens[i]));
            _assertConserved(address(tokens[i]));
        }
        router.releaseEscrow(work, address(0));
        (, count) = router.holdOf(work);
        assertEq(count, 0);
        _assertConserved(address(0));
    }

    // ------------------------------------------------------------------ withdrawal (k-of-n, signatures)

    function test_approveWithdrawal_KOfNWithdrawsAndTheBondGoesToTheOwner() public {
        uint256 id = _raiseLineage();
        vm.prank(s1);
        assertFalse(disputes.approveWithdrawal(id));
        vm.prank(s2);
        assertTrue(disputes.approveWithdrawal(id));
        _assertStatus(id, HeritageDisputes.Status.Withdrawn);
        assertEq(disputes.bondOf(owner), BOND);
        vm.prank(owner);
        disputes.withdrawBond(owner);
        assertEq(owner.balance, BOND);
    }

    function test_approveWithdrawal_ApprovalsOfARemovedStewardNoLongerCount() public {
        uint256 id = _raiseLineage();
        vm.prank(s3);
        disputes.approveWithdrawal(id);
        registry.removeSteward(C1, s3);
        vm.prank(s1);
        assertFalse(disputes.approveWithdrawal(id));
    }

    function test_approveWithdrawalBySig_AndStaleSignatureForAnotherDisputeFails() public {
        uint256 id = _raiseLineage();
        uint256 deadline = block.timestamp + 1 days;
        bytes memory sig1 = _sig(KEY_S1, disputes.withdrawalDigest(id, s1, deadline));
        bytes memory sig2 = _sig(KEY_S2, disputes.withdrawalDigest(id, s2, deadline));
        // Signed for dispute `id`, presented for another dispute on another work: refused.
        uint256 other = _derive(owner, root1, 200_000, 0, 0);
        vm.prank(s2);
        uint256 id2 = disputes.raiseClaim{value: BOND}(other, C1, 0, 0, "cid");
        vm.expectRevert(abi.encodeWithSelector(HeritageDisputes.DisputesInvalidSignature.selector, s1, deadline));
        disputes.approveWithdrawalBySig(id2, s1, deadline, sig1);
        disputes.approveWithdrawalBySig(id, s1, deadline, sig1);
        // Replay refused (nonce consumed).
        vm.expectRevert(abi.encodeWithSelector(HeritageDisputes.DisputesInvalidSignature.selector, s1, deadline));
        disputes.approveWithdrawalBySig(id, s1, deadline, sig1);
        // A cancelled nonce voids an unused signature.
        vm.prank(s2);
        disputes.cancelNonce();
        vm.expectRevert(abi.encodeWithSelector(HeritageDisputes.DisputesInvalidSignature.selector, s2, deadline));
        disputes.approveWithdrawalBySig(id, s2, deadline, sig2);
    }

    // ------------------------------------------------------------------ receivers (issue 19, item 5)

    function test_receiver_MarketplaceCallRoutesAtOnce() public {
        address receiver = router.receiverOf(work);
        assertEq(router.deployReceiver(work), receiver);
        assertEq(RoyaltyReceiver(payable(receiver)).workId(), work);
        MarketplaceLike market = new MarketplaceLike();
        vm.prank(payer);
        market.payByCall{value: 1_000_000}(receiver);
        assertEq(receiver.balance, 0);
        assertEq(router.balanceOf(address(0), owner), 699_999);
        _assertConserved(address(0));
    }

    /// @dev Old: ETH pushed to the royalty receiver (the router) reverted a marketplace sale.
    function test_receiver_TransferWith2300GasIsKeptThenFlushed() public {
        address payable receiver = payable(router.deployReceiver(work));
        MarketplaceLike market = new MarketplaceLike();
        vm.prank(payer);
        market.payByTransfer{value: 1_000_000}(receiver);
        assertEq(receiver.balance, 1_000_000);
        RoyaltyReceiver(receiver).flush(address(0));
        assertEq(receiver.balance, 0);
        assertEq(router.balanceOf(address(0), owner), 699_999);
    }

    function test_receiver_EtherSentBeforeDeploymentIsFlushed() public {
        address payable receiver = payable(router.receiverOf(work));
        vm.prank(payer);
        (bool ok,) = receiver.call{value: 5000}("");
        assertTrue(ok);
        router.deployReceiver(work);
        RoyaltyReceiver(receiver).flush(address(0));
        assertEq(router.owedOf(address(0)), 5000);
    }

    /// @dev Old: an ERC-20 royalty (WETH) landed on the router credited to nobody.
    function test_receiver_FlushRoutesErc20sIncludingHostileOnes() public {
        address payable receiver = payable(router.deployReceiver(work));
        PlainERC20 weth = new PlainERC20();
        FeeOnTransferToken fee = new FeeOnTransferToken();
        NoReturnToken usdt = new NoReturnToken();
        weth.mint(receiver, 1_000_000);
        fee.mint(receiver, 1_000_000);
        usdt.mint(receiver, 1_000_000);
        RoyaltyReceiver(receiver).flush(address(weth));
        RoyaltyReceiver(receiver).flush(address(fee));
        RoyaltyReceiver(receiver).flush(address(usdt));
        assertEq(router.balanceOf(address(weth), owner), 699_999);
        assertEq(router.owedOf(address(fee)), 990_000);
        assertEq(router.balanceOf(address(usdt), owner), 699_999);
        assertEq(weth.balanceOf(receiver) + usdt.balanceOf(receiver), 0);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyReceiver.ReceiverNothingToFlush.selector, work, address(weth)));
        RoyaltyReceiver(receiver).flush(address(weth));
    }

    /// @dev Hostile path: a recipient withdraws to a receiver; the receiver's routing re-enters the
    ///      router (nonReentrant) and fails, so it keeps the ETH for `flush` and the withdrawal succeeds.
    function test_receiver_KeepsEtherWhenTheRouterIsBusy() public {
        address payable receiver = payable(router.deployReceiver(work));
        _pay(work, 1_000_000);
        vm.prank(owner);
        router.withdrawTo(address(0), receiver);
        assertEq(receiver.balance, 699_999);
        RoyaltyReceiver(receiver).flush(address(0));
        assertEq(receiver.balance, 0);
        _assertConserved(address(0));
    }

    /// @dev A royalty for a work that cannot be paid (pending) is kept, not lost, and not refused.
    function test_receiver_KeepsEtherForAnUnpayableWork() public {
        address payable receiver = payable(router.deployReceiver(work));
        vm.prank(address(registry));
        router.setStatus(work, WorkStatus.Pending);
        vm.prank(payer);
        (bool ok,) = receiver.call{value: 1000}("");
        assertTrue(ok);
        assertEq(receiver.balance, 1000);
        vm.expectRevert(
            abi.encodeWithSelector(RoyaltyRouter.RouterWorkNotPayable.selector, work, WorkStatus.Pending)
        );
        RoyaltyReceiver(receiver).flush(address(0));
        vm.prank(address(registry));
        router.setStatus(work, WorkStatus.Active);
        RoyaltyReceiver(receiver).flush(address(0));
        assertEq(receiver.balance, 0);
    }

    function test_deployReceiver_IsIdempotentAndRefusesUnknownWorks() public {
        address receiver = router.deployReceiver(work);
        assertEq(router.deployReceiver(work), receiver);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterUnknownWork.selector, 99));
        router.deployReceiver(99);
    }

    function test_vote_RevertWhen_NotMemberOrTwice() public {
        uint256 caseId = disputes.disputeOf(_raiseLineage()).arbitratorId;
        vm.prank(creator);
        vm.expectRevert(abi.encodeWithSelector(CommitteeArbitrator.ArbitratorNotMember.selector, creator));
        committee.vote(caseId, 1);
        vm.prank(m1);
        committee.vote(caseId, 2);
        vm.prank(m1);
        vm.expectRevert(abi.encodeWithSelector(CommitteeArbitrator.ArbitratorAlreadyVoted.selector, caseId, m1));
        committee.vote(caseId, 1);
        vm.prank(m2);
        vm.expectRevert(abi.encodeWithSelector(CommitteeArbitrator.ArbitratorInvalidChoice.selector, caseId, 3));
        committee.vote(caseId, 3);
    }

    /// @dev A member who becomes a party after voting no longer counts: the majority is re-counted.
    function test_vote_AMemberWhoBecameAPartyStopsCounting() public {
        uint256 id = _raiseLineage();
        uint256 caseId = disputes.disputeOf(id).arbitratorId;
        _voteUphold(caseId, m1);
        registry.transfer(work, m1); // m1 now owns the disputed work
        _voteUphold(caseId, m2); // 1 of 2 eligible (m2, m3): not a majority
        _assertStatus(id, HeritageDisputes.Status.Open);
        _voteUphold(caseId, m3);
        _assertStatus(id, HeritageDisputes.Status.Upheld);
    }

    /// @dev A bond owed to a contract that refuses ETH stays claimable to another address.
    function test_withdrawBond_RevertWhen_ZeroAddressAndKeepsTheBond() public {
        uint256 id = _raiseLineage();
        vm.warp(disputes.disputeOf(id).deadline + 1);
        disputes.expire(id);
        vm.prank(s1);
        vm.expectRevert(abi.encodeWithSelector(HeritageDisputes.DisputesTransferFailed.selector, address(0), BOND));
        disputes.withdrawBond(address(0));
        assertEq(disputes.bondOf(s1), BOND);
        vm.prank(s1);
        disputes.withdrawBond(t1);
        assertEq(t1.balance, BOND);
    }

    function test_routeSurplus_TokensSentToTheRouterAreRouted() public {
        PlainERC20 weth = new PlainERC20();
        weth.mint(address(router), 1_000_000);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterNoSurplus.selector, address(0)));
        router.routeSurplus(address(0), work);
        router.routeSurplus(address(weth), work);
        assertEq(router.balanceOf(address(weth), owner), 699_999);
        assertEq(router.owedOf(address(weth)), 1_000_000);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterNoSurplus.selector, address(weth)));
        router.routeSurplus(address(weth), work);
    }

    // ------------------------------------------------------------------ gas bound (issue 19, item 4)

    function test_setSplit_RevertWhen_OverTheCapFixedAtConfiguration() public {
        vm.prank(address(registry));
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterSplitOverCap.selector, work, 5, 4));
        router.setSplit(work, _many(5));
    }

    function test_configureDerivative_RevertWhen_RouteCreditsOverTheBound() public {
        // A: 8 heritage parents of 32 recipients + its own cap 4 = 260 credits.
        uint256[] memory parents = new uint256[](8);
        uint32[] memory ppms = new uint32[](8);
        for (uint256 i; i < 8; ++i) {
            (parents[i], ppms[i]) = (registry.addHeritage(C1, _many(32)), 10_000);
        }
        uint256 a = registry.addDerivative(creator, parents, ppms, _one(creator), new uint32[](0), new uint32[](0));
        // B: A + 7 more such parents + 4 = 488.
        parents[0] = a;
        for (uint256 i = 1; i < 8; ++i) {
            parents[i] = registry.addHeritage(C1, _many(32));
        }
        uint256 b = registry.addDerivative(creator, parents, ppms, _one(creator), new uint32[](0), new uint32[](0));
        (, uint256 credits) = router.creditsOf(b);
        assertEq(credits, 488);
        uint256[] memory two = new uint256[](2);
        uint32[] memory twoPpms = new uint32[](2);
        (two[0], two[1], twoPpms[0], twoPpms[1]) = (b, registry.addHeritage(C1, _many(20)), 10_000, 10_000);
        // 488 + 20 + 4 = 512: exactly the bound, accepted.
        uint256 c = registry.addDerivative(creator, two, twoPpms, _one(creator), new uint32[](0), new uint32[](0));
        (, credits) = router.creditsOf(c);
        assertEq(credits, MAX_ROUTE_CREDITS);
        // 488 + 32 + 4 = 524: refused.
        two[1] = registry.addHeritage(C1, _many(32));
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterRouteCreditsTooMany.selector, 524, 512));
        registry.addDerivative(creator, two, twoPpms, _one(creator), new uint32[](0), new uint32[](0));
    }

    // ------------------------------------------------------------------ helpers

    function _raiseLineage() internal returns (uint256 id) {
        vm.prank(s1);
        id = disputes.raiseClaim{value: BOND}(work, C1, 0, 0, "bafy-evidence");
    }

    function _uphold(uint256 id) internal {
        uint256 caseId = disputes.disputeOf(id).arbitratorId;
        _voteUphold(caseId, m1);
        _voteUphold(caseId, m2);
    }

    function _pay(uint256 w, uint256 amount) internal {
        vm.prank(payer);
        router.pay{value: amount}(w, "u", 1);
    }

    /// @dev What `root1` (1 ppm of `work`) receives of a payment of `amount` to `work`.
    function _routed(uint256 amount, uint32 ppm) internal pure returns (uint256) {
        return amount * ppm / 1_000_000;
    }

    function _assertConserved(address token) internal view {
        uint256 held = token == address(0) ? address(router).balance : PlainERC20(token).balanceOf(address(router));
        assertEq(held, router.owedOf(token));
    }

    function _derive(address registrant, uint256 p1, uint32 ppm1, uint256 p2, uint32 ppm2)
        internal
        returns (uint256)
    {
        uint256 n = p2 == 0 ? 1 : 2;
        uint256[] memory parents = new uint256[](n);
        uint32[] memory ppms = new uint32[](n);
        (parents[0], ppms[0]) = (p1, ppm1);
        if (n == 2) (parents[1], ppms[1]) = (p2, ppm2);
        uint32[] memory roots = new uint32[](n);
        uint32[] memory rootPpms = new uint32[](n);
        (uint32[] memory r1, uint32[] memory rp1) = registry.rootSharesOf(p1);
        roots[0] = r1[0];
        rootPpms[0] = uint32(uint256(rp1[0]) * ppm1 / 1_000_000);
        if (n == 2) (roots[1], rootPpms[1]) = (uint32(p2), ppm2);
        return registry.addDerivative(registrant, parents, ppms, _one(registrant), roots, rootPpms);
    }

    function _one(address account) internal pure returns (Recipient[] memory s) {
        s = new Recipient[](1);
        s[0] = Recipient(account, 1_000_000);
    }

    function _many(uint256 n) internal pure returns (Recipient[] memory s) {
        s = new Recipient[](n);
        uint32 each = uint32(1_000_000 / n);
        for (uint256 i; i < n; ++i) {
            s[i] = Recipient(address(uint160(0x1000 + i)), each);
        }
        s[0].ppm += uint32(1_000_000 - each * n);
    }

    /// @dev Committee member `member` votes to uphold case `caseId`.
    function _voteUphold(uint256 caseId, address member) internal {
        vm.prank(member);
        committee.vote(caseId, 1);
    }

    function _assertStatus(uint256 id, HeritageDisputes.Status status) internal view {
        assertEq(uint256(disputes.disputeOf(id).status), uint256(status));
    }
}
