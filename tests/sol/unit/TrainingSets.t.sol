// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Fixture} from "../utils/Fixture.sol";
import {Merkle} from "../utils/Merkle.sol";
import {TrainingSets} from "../../../contracts/TrainingSets.sol";
import {TrainingSetPot} from "../../../contracts/TrainingSetPot.sol";
import {ProtocolRules} from "../../../contracts/ProtocolRules.sol";
import {CidCodec} from "../../../contracts/libraries/CidCodec.sol";
import {ITrainingRegistry} from "../../../contracts/interfaces/ITrainingRegistry.sol";
import {Protocol, Recipient, DerivativeParams} from "../../../contracts/libraries/HeritageTypes.sol";

/// @notice A treasury that tries to withdraw again while it is being paid.
contract ReentrantTreasury {
    TrainingSets public sets;
    uint256 public modelId;
    uint256 public communityId;
    uint256 public reentries;
    bool public reentryFailed;

    function aim(TrainingSets sets_, uint256 modelId_, uint256 communityId_) external {
        (sets, modelId, communityId) = (sets_, modelId_, communityId_);
    }

    function withdraw() external returns (uint256) {
        return sets.withdraw(modelId, communityId);
    }

    receive() external payable {
        ++reentries;
        try sets.withdraw(modelId, communityId) {
            reentryFailed = false;
        } catch {
            reentryFailed = true;
        }
    }
}

/// @title TrainingSets: anchoring, membership proofs, pro-rata shares, pots, attacks
contract TrainingSetsTest is Fixture {
    bytes internal constant MEMBERS = hex"01551220aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    TrainingSets internal sets;
    uint256 internal model;
    /// @dev Training set: works[0..2] of community A, works[3] of community B.
    uint256[] internal works;
    bytes[] internal cids;
    bytes32[] internal leaves;

    function setUp() public override {
        super.setUp();
        sets = new TrainingSets(ITrainingRegistry(address(registry)));
        for (uint256 i; i < 4; ++i) {
            uint256 w = i < 3
                ? _registerHeritage(_open(0))
                : _registerHeritageOf(communityB, b1, _open(0), _split(treasuryB));
            works.push(w);
            cids.push(registry.workOf(w).contentCid);
            leaves.push(sets.leafOf(w, cids[i]));
        }
        model = _registerModel(works[0], creator);
    }

    // ------------------------------------------------------------------ helpers

    function _registerModel(uint256 parent, address owner) internal returns (uint256 id) {
        DerivativeParams memory p = _derivativeParams(_one(parent), _ppm(100_000), _split(owner));
        p.modelCid = p.contentCid;
        p.paramsHash = keccak256("params");
        vm.prank(owner);
        id = registry.registerDerivative(p);
    }

    function _counts(uint256 a, uint256 b) internal view returns (TrainingSets.CommunityCount[] memory c) {
        c = new TrainingSets.CommunityCount[](2);
        c[0] = TrainingSets.CommunityCount(communityA, a);
        c[1] = TrainingSets.CommunityCount(communityB, b);
    }

    function _sample(uint256 i) internal view returns (TrainingSets.Sample memory) {
        return TrainingSets.Sample(works[i], cids[i], Merkle.proof(leaves, i));
    }

    function _samples() internal view returns (TrainingSets.Sample[] memory s) {
        s = new TrainingSets.Sample[](2);
        (s[0], s[1]) = (_sample(0), _sample(3));
    }

    /// @dev The arguments of one `anchor` call, so that each test changes only what it is about.
    struct Anchoring {
        uint256 model;
        bytes32 root;
        bytes members;
        TrainingSets.CommunityCount[] counts;
        uint256 total;
        TrainingSets.Sample[] samples;
    }

    /// @dev The model's set as it stands in `leaves`: 3 works of A, 1 of B, one sample of each.
    function _anchoring() internal view returns (Anchoring memory) {
        return Anchoring(model, Merkle.root(leaves), MEMBERS, _counts(3, 1), 4, _samples());
    }

    function _anchorAs(address sender, Anchoring memory a) internal {
        vm.prank(sender);
        sets.anchor(a.model, a.root, a.members, a.counts, a.total, a.samples);
    }

    function _anchorRevertsWith(address sender, Anchoring memory a, bytes memory err) internal {
        vm.expectRevert(err);
        _anchorAs(sender, a);
    }

    function _anchor() internal {
        _anchorAs(creator, _anchoring());
    }

    // ------------------------------------------------------------------ anchor

    function test_anchor_RecordsRootCountsAndDeploysPot() public {
        _anchor();
        (bytes32 root, uint256 total, uint256 anchoredAt, uint256 arrived, uint256 distributed) = sets.trainingSetOf(model);
        assertEq(root, Merkle.root(leaves));
        assertEq(total, 4);
        assertEq(anchoredAt, block.timestamp);
        assertEq(arrived + distributed, 0);
        (uint256[] memory ids, uint256[] memory counts,) = sets.entriesOf(model);
        assertEq(ids.length, 2);
        assertEq(ids[0], communityA);
        assertEq(counts[0], 3);
        assertEq(ids[1], communityB);
        assertEq(counts[1], 1);
        address pot = sets.potOf(model);
        assertGt(pot.code.length, 0);
        assertEq(TrainingSetPot(pot).sets(), address(sets));
    }

    function test_anchor_RevertWhen_NotModelOwner() public {
        _anchorRevertsWith(
            payer, _anchoring(), abi.encodeWithSelector(TrainingSets.TrainingSetsNotModelOwner.selector, model, payer)
        );
    }

    function test_anchor_RevertWhen_AnchoredAgain() public {
        _anchor();
        Anchoring memory a = _anchoring();
        a.root = keccak256("another set");
        _anchorRevertsWith(creator, a, abi.encodeWithSelector(TrainingSets.TrainingSetsAlreadyAnchored.selector, model));
    }

    function test_anchor_RevertWhen_NotAModel() public {
        uint256 plain = _registerDerivative(_one(works[0]), _ppm(100_000));
        Anchoring memory a = _anchoring();
        a.model = plain;
        _anchorRevertsWith(creator, a, abi.encodeWithSelector(TrainingSets.TrainingSetsNotAModel.selector, plain));
    }

    function test_anchor_RevertWhen_CountsDoNotSumToTotal() public {
        Anchoring memory a = _anchoring();
        a.total = 5;
        _anchorRevertsWith(creator, a, abi.encodeWithSelector(TrainingSets.TrainingSetsCountMismatch.selector, 4, 5));
    }

    function test_anchor_RevertWhen_ACommunityIsListedTwice() public {
        Anchoring memory a = _anchoring();
        a.counts[1].communityId = communityA;
        _anchorRevertsWith(
            creator,
            a,
            abi.encodeWithSelector(TrainingSets.TrainingSetsCommunitiesNotAscending.selector, communityA, communityA)
        );
    }

    function test_anchor_RevertWhen_MembersCidIsNotACid() public {
        Anchoring memory a = _anchoring();
        a.members = bytes("not a cid");
        _anchorRevertsWith(creator, a, abi.encodeWithSelector(CidCodec.CidUnsupported.selector, bytes("not a cid")));
    }

    function test_anchor_RevertWhen_ZeroCount() public {
        Anchoring memory a = _anchoring();
        a.counts = _counts(4, 0);
        _anchorRevertsWith(creator, a, abi.encodeWithSelector(TrainingSets.TrainingSetsBadCount.selector, communityB, 0));
    }

    function test_anchor_RevertWhen_ASampleForbidsMachineLearning() public {
        Protocol memory noMl = _open(0);
        noMl.mlAllowed = false;
        uint256 forbidden = _registerHeritageOf(communityB, b1, noMl, _split(treasuryB));
        works[3] = forbidden;
        cids[3] = registry.workOf(forbidden).contentCid;
        leaves[3] = sets.leafOf(forbidden, cids[3]);
        _anchorRevertsWith(
            creator,
            _anchoring(),
            abi.encodeWithSelector(ProtocolRules.RegistryMachineLearningNotAllowed.selector, forbidden)
        );
    }

    function test_anchor_RevertWhen_ASampleIsNotInTheSet() public {
        Anchoring memory a = _anchoring();
        a.samples[1].proof = Merkle.proof(leaves, 2); // the proof of another leaf
        _anchorRevertsWith(creator, a, abi.encodeWithSelector(TrainingSets.TrainingSetsBadProof.selector, works[3]));
    }

    function test_anchor_RevertWhen_ASampleIsOfAnotherCommunity() public {
        Anchoring memory a = _anchoring();
        a.samples[1] = _sample(1); // a work of A shown for B
        _anchorRevertsWith(
            creator,
            a,
            abi.encodeWithSelector(
                TrainingSets.TrainingSetsSampleNotOfCommunity.selector, works[1], communityB, communityA
            )
        );
    }

    function test_anchor_RevertWhen_ASampleCidIsNotTheWorks() public {
        leaves[3] = sets.leafOf(works[3], cids[0]);
        cids[3] = cids[0];
        _anchorRevertsWith(
            creator,
            _anchoring(),
            abi.encodeWithSelector(TrainingSets.TrainingSetsCidMismatch.selector, works[3], works[0])
        );
    }

    // ------------------------------------------------------------------ membership

    function test_isMember_ProvesEachMemberAndNoOther() public {
        _anchor();
        for (uint256 i; i < 4; ++i) {
            assertTrue(sets.isMember(model, works[i], cids[i], Merkle.proof(leaves, i)));
        }
        assertFalse(sets.isMember(model, works[1], cids[0], Merkle.proof(leaves, 0)));
        assertFalse(sets.isMember(model, works[1], cids[1], Merkle.proof(leaves, 0)));
    }

    function test_isMember_RevertWhen_NotAnchored() public {
        bytes32[] memory proof = Merkle.proof(leaves, 0);
        bytes memory cid = cids[0];
        vm.expectRevert(abi.encodeWithSelector(TrainingSets.TrainingSetsNotAnchored.selector, model));
        sets.isMember(model, works[0], cid, proof);
    }

    // ------------------------------------------------------------------ money

    function test_deposit_SplitsByCountsAndCarriesTheRemainder() public {
        _anchor();
        vm.prank(payer);
        sets.deposit{value: 10}(model); // 8 distributed (2 × total), carry 2
        assertEq(sets.owedOf(model, communityA), 6);
        assertEq(sets.owedOf(model, communityB), 2);
        vm.prank(payer);
        sets.deposit{value: 3}(model); // arrived 13: 12 distributed, carry 1
        assertEq(sets.owedOf(model, communityA), 9);
        assertEq(sets.owedOf(model, communityB), 3);
        (,,, uint256 arrived, uint256 distributed) = sets.trainingSetOf(model);
        assertEq(arrived, 13);
        assertEq(distributed, 12);
    }

    function testFuzz_deposit_NoWeiLostAndExactlyByCounts(uint64 first, uint64 second) public {
        vm.assume(uint256(first) + second > 0);
        _anchor();
        vm.startPrank(payer);
        if (first > 0) sets.deposit{value: first}(model);
        if (second > 0) sets.deposit{value: second}(model);
        vm.stopPrank();
        uint256 total = uint256(first) + second;
        uint256 a = sets.owedOf(model, communityA);
        uint256 b = sets.owedOf(model, communityB);
        assertEq(a, 3 * b, "exactly by counts");
        assertEq(a + b + total % 4, total, "no wei lost");
        assertEq(address(sets).balance, total);
    }

    function test_deposit_RevertWhen_NotAnchoredOrZero() public {
        vm.expectRevert(abi.encodeWithSelector(TrainingSets.TrainingSetsNotAnchored.selector, model));
        vm.prank(payer);
        sets.deposit{value: 1}(model);
        _anchor();
        vm.expectRevert(abi.encodeWithSelector(TrainingSets.TrainingSetsZeroDeposit.selector, model));
        vm.prank(payer);
        sets.deposit(model);
    }

    function test_receive_RevertWhen_PlainEther() public {
        vm.prank(payer);
        (bool ok,) = address(sets).call{value: 1 ether}("");
        assertFalse(ok);
    }

    function test_withdraw_PaysEachTreasuryItsShareOnce() public {
        _anchor();
        vm.prank(payer);
        sets.deposit{value: 1 ether}(model);
        vm.prank(treasuryA);
        assertEq(sets.withdraw(model, communityA), 0.75 ether);
        vm.prank(treasuryB);
        assertEq(sets.withdraw(model, communityB), 0.25 ether);
        assertEq(treasuryA.balance, 0.75 ether);
        assertEq(treasuryB.balance, 0.25 ether);
        vm.prank(treasuryA);
        assertEq(sets.withdraw(model, communityA), 0);
        assertEq(address(sets).balance, 0);
    }

    function test_withdraw_RevertWhen_NotTheTreasury() public {
        _anchor();
        vm.prank(payer);
        sets.deposit{value: 1 ether}(model);
        vm.expectRevert(abi.encodeWithSelector(TrainingSets.TrainingSetsNotTreasury.selector, communityA, creator));
        vm.prank(creator);
        sets.withdraw(model, communityA);
    }

    function test_withdraw_RevertWhen_CommunityNotInTheSet() public {
        _anchor();
        address[] memory stewards = new address[](1);
        stewards[0] = a1;
        uint256 c = registry.registerCommunity("outsiders", stewards, 1, payer);
        vm.expectRevert(abi.encodeWithSelector(TrainingSets.TrainingSetsNotInSet.selector, model, c));
        vm.prank(payer);
        sets.withdraw(model, c);
    }

    function test_withdraw_ReentrantTreasuryGetsItsShareOnly() public {
        ReentrantTreasury hostile = new ReentrantTreasury();
        address[] memory stewards = new address[](1);
        stewards[0] = b1;
        vm.prank(b1);
        registry.approveCommunityChange(communityB, stewards, 1, address(hostile));
        _anchor();
        hostile.aim(sets, model, communityB);
        vm.prank(payer);
        sets.deposit{value: 4 ether}(model);
        assertEq(hostile.withdraw(), 1 ether);
        assertEq(hostile.reentries(), 1);
        assertTrue(hostile.reentryFailed());
        assertEq(address(hostile).balance, 1 ether);
        assertEq(address(sets).balance, 3 ether);
        assertEq(sets.owedOf(model, communityA), 3 ether);
    }

    function test_sweep_MovesThePotsRouterCreditsIntoTheSet() public {
        _anchor();
        Recipient[] memory split = new Recipient[](2);
        split[0] = Recipient(creator, 700_000);
        split[1] = Recipient(sets.potOf(model), 300_000);
        vm.prank(creator);
        gov.setSplit(model, split);
        vm.prank(payer);
        router.pay{value: 1 ether}(model, bytes32("stream"), uint64(block.timestamp));
        // 10 % upstream to the parent; of the 0.9 ether kept, 30 % to the pot
        assertEq(sets.sweep(model), 0.27 ether);
        assertEq(sets.owedOf(model, communityA), 0.2025 ether);
        assertEq(sets.owedOf(model, communityB), 0.0675 ether);
        assertEq(sets.sweep(model), 0);
    }

    function test_pull_RevertWhen_NotItsSets() public {
        _anchor();
        TrainingSetPot pot = TrainingSetPot(sets.potOf(model));
        vm.expectRevert(abi.encodeWithSelector(TrainingSetPot.TrainingSetPotNotSets.selector, payer));
        vm.prank(payer);
        pot.pull();
    }

    // ------------------------------------------------------------------ scale (gas figures)

    /// @notice 1,000 works of 16 communities (more than MAX_ROOTS): one real sample per community,
    ///         the other leaves stand for works the contract never reads.
    function test_anchor_AThousandWorksOfSixteenCommunities() public {
        uint256 n = 16;
        bytes32[] memory big = new bytes32[](1000);
        uint256[] memory sampleWorks = new uint256[](n);
        TrainingSets.CommunityCount[] memory c = new TrainingSets.CommunityCount[](n);
        address[] memory stewards = new address[](1);
        stewards[0] = b1;
        for (uint256 i; i < n; ++i) {
            uint256 community = registry.registerCommunity("set member", stewards, 1, treasuryB);
            sampleWorks[i] = _registerHeritageOf(community, b1, _open(0), _split(treasuryB));
            big[i] = sets.leafOf(sampleWorks[i], registry.workOf(sampleWorks[i]).contentCid);
            c[i] = TrainingSets.CommunityCount(community, i == 0 ? 1000 - 62 * (n - 1) : 62);
        }
        for (uint256 i = n; i < 1000; ++i) {
            big[i] = keccak256(abi.encode("another member", i));
        }
        TrainingSets.Sample[] memory s = new TrainingSets.Sample[](n);
        for (uint256 i; i < n; ++i) {
            s[i] = TrainingSets.Sample(sampleWorks[i], registry.workOf(sampleWorks[i]).contentCid, Merkle.proof(big, i));
        }
        bytes32 root = Merkle.root(big);
        vm.prank(creator);
        sets.anchor(model, root, MEMBERS, c, 1000, s);
        vm.prank(payer);
        sets.deposit{value: 1 ether}(model);
        assertEq(sets.owedOf(model, c[1].communityId), 0.062 ether);
        vm.prank(treasuryB);
        assertEq(sets.withdraw(model, c[0].communityId), 0.07 ether);
    }
}
