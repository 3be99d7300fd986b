// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Fixture} from "../utils/Fixture.sol";
import {Pairs} from "../utils/Pairs.sol";
import {StewardTyped} from "../utils/StewardTyped.sol";
import {RegistryCore} from "../../../contracts/RegistryCore.sol";
import {ProtocolRules} from "../../../contracts/ProtocolRules.sol";
import {HeritageGovernance} from "../../../contracts/HeritageGovernance.sol";
import {CommunityStewardship} from "../../../contracts/CommunityStewardship.sol";
import {StewardSignatures} from "../../../contracts/StewardSignatures.sol";
import {StudyAttestations} from "../../../contracts/StudyAttestations.sol";
import {IWorkRegistry} from "../../../contracts/interfaces/IWorkRegistry.sol";
import {Labels} from "../../../contracts/libraries/Labels.sol";
import {
    PPM,
    Protocol,
    Recipient,
    HeritageParams,
    DerivativeParams,
    WorkStatus
} from "../../../contracts/libraries/HeritageTypes.sol";

/// @dev Exposes the Labels library's date and window functions.
contract LabelsHarness {
    function monthDay(uint256 t) external pure returns (uint256, uint256) {
        return Labels.monthDay(t);
    }

    function inSeason(uint32 s, uint256 t) external pure returns (bool) {
        return Labels.inSeason(s, t);
    }

    function seasonWithin(uint32 inner, uint32 outer) external pure returns (bool) {
        return Labels.seasonWithin(inner, outer);
    }
}

/// @title The v2 attacks of issue 19 as regression tests, and the v2 rules around them
/// @notice Fixture: community A = {a1, a2, a3}, 2 of 3; community B = {b1}, 1 of 1.
contract RegistryV2Test is Fixture {
    LabelsHarness internal labels;

    function setUp() public override {
        super.setUp();
        labels = new LabelsHarness();
    }

    function _season(uint256 sm, uint256 sd, uint256 em, uint256 ed) internal pure returns (uint32) {
        return uint32(sm << 24 | sd << 16 | em << 8 | ed);
    }

    // ------------------------------------------------------------------ lone steward (issue 19, item 2)

    /// @dev v1: a1 alone turned consent off, registered a 1 ppm commercial derivative, turned
    ///      consent back on and set the split to self. Each step now fails for a lone steward.
    function test_loneSteward_CannotLoosenRegisterCheaplyOrTakeTheSplit() public {
        Protocol memory strict = _open(300_000);
        strict.consentRequired = true;
        strict.commercialAllowed = false;
        uint256 h = _registerHeritageOf(communityA, a1, strict, _split(treasuryA));

        Protocol memory loose = _open(0);
        vm.prank(a1);
        assertFalse(gov.setProtocol(h, loose), "loosening needs k = 2");
        assertTrue(registry.protocolOf(h).consentRequired, "consent still required");
        assertEq(registry.protocolOf(h).floorPpm, 300_000);

        DerivativeParams memory p = _derivativeParams(_one(h), _ppm(1), _split(a1));
        p.commercial = true;
        vm.expectRevert(abi.encodeWithSelector(ProtocolRules.RegistryCommercialUseNotAllowed.selector, h));
        vm.prank(a1);
        registry.registerDerivative(p);
        p.commercial = false;
        vm.expectRevert(abi.encodeWithSelector(ProtocolRules.RegistryFloorNotMet.selector, h, 1, 300_000));
        vm.prank(a1);
        registry.registerDerivative(p);

        vm.prank(a1);
        assertFalse(gov.setSplit(h, _split(a1)), "a heritage split needs k = 2");
        vm.prank(a1);
        vm.expectRevert(
            abi.encodeWithSelector(
                CommunityStewardship.RegistryAlreadyApproved.selector,
                communityA,
                keccak256(abi.encode("SET_SPLIT", h, uint256(0), _split(a1))),
                a1
            )
        );
        gov.setSplit(h, _split(a1));
        vm.prank(payer);
        router.pay{value: 1 ether}(h, bytes32("u"), 1);
        assertEq(router.balanceOf(address(0), treasuryA), 1 ether, "the treasury still gets everything");
    }

    function test_setProtocol_TighteningAppliesOnOneSteward() public {
        uint256 h = _registerHeritageOf(communityA, a1, _open(100_000), _split(treasuryA));
        Protocol memory tighter = _open(200_000);
        tighter.mlAllowed = false;
        tighter.consentRequired = true;
        tighter.labels = 1 << 16; // TK Non-Commercial: needs commercial off
        vm.prank(a2);
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.RegistryLabelForbidsCommercial.selector, uint64(1 << 16)));
        gov.setProtocol(h, tighter);
        tighter.commercialAllowed = false;
        vm.prank(a2);
        assertTrue(gov.setProtocol(h, tighter));
        assertEq(registry.protocolOf(h).floorPpm, 200_000);
    }

    function test_setProtocol_ApprovalsBeforeAChangeNeverCountAfterIt() public {
        uint256 h = _registerHeritageOf(communityA, a1, _open(100_000), _split(treasuryA));
        vm.prank(a1);
        assertFalse(gov.setProtocol(h, _open(0))); // loosening: approval 1 of 2
        vm.prank(a3);
        assertTrue(gov.setProtocol(h, _open(150_000))); // tightening applies at once
        vm.prank(a2);
        assertFalse(gov.setProtocol(h, _open(0)), "a1's approval was for the old protocol");
        assertEq(registry.protocolOf(h).floorPpm, 150_000);
    }

    function test_setProtocolBySig_TwoSignaturesLoosen() public {
        uint256 h = _registerHeritageOf(communityA, a1, _open(100_000), _split(treasuryA));
        Protocol memory loose = _open(0);
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory s1 = _sig(KEY_A1, _setProtocolDigest(h, communityA, loose, 0, deadline));
        bytes memory s2 = _sig(KEY_A2, _setProtocolDigest(h, communityA, loose, 0, deadline));
        assertFalse(gov.setProtocolBySig(h, loose, a1, deadline, s1));
        vm.expectRevert(abi.encodeWithSelector(StewardSignatures.RegistryInvalidSignature.selector, a1));
        gov.setProtocolBySig(h, loose, a1, deadline, s1); // replay: nonce consumed
        assertTrue(gov.setProtocolBySig(h, loose, a2, deadline, s2));
        assertEq(registry.protocolOf(h).floorPpm, 0);
    }

    function test_cancelNonce_VoidsAnUnsubmittedSignature() public {
        uint256 h = _registerHeritageOf(communityA, a1, _open(100_000), _split(treasuryA));
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory s1 = _sig(KEY_A1, _setProtocolDigest(h, communityA, _open(0), 0, deadline));
        vm.expectEmit(true, true, true, true, address(registry));
        emit StewardSignatures.NonceCancelled(a1, 0);
        vm.prank(a1);
        registry.cancelNonce();
        vm.expectRevert(abi.encodeWithSelector(StewardSignatures.RegistryInvalidSignature.selector, a1));
        gov.setProtocolBySig(h, _open(0), a1, deadline, s1);
    }

    function _setProtocolDigest(uint256 workId, uint256 communityId, Protocol memory p, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        return StewardTyped.setProtocolDigest(block.chainid, address(registry), workId, communityId, p, nonce, deadline);
    }

    // ------------------------------------------------------------------ k-of-n heritage registration

    function test_registerHeritageWork_NonTreasurySplitNeedsK() public {
        HeritageParams memory p = _heritageParams(communityA, _open(0), _splitN(2, 9));
        vm.prank(a1);
        assertEq(registry.registerHeritageWork(p), 0);
        assertEq(registry.workCount(), 0);
        (uint256 holder,) = registry.claimOf(keccak256(p.contentCid));
        assertEq(holder, communityA, "the content is held while approvals gather");
        vm.prank(a3);
        assertEq(registry.registerHeritageWork(p), 1);
    }

    function test_setSplitBySig_TwoSignaturesChangeTheSplit() public {
        uint256 h = _registerHeritageOf(communityA, a1, _open(0), _split(treasuryA));
        Recipient[] memory next = _splitN(2, 3);
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory s1 = _sig(KEY_A1, _setSplitDigest(h, communityA, next, 0, deadline));
        bytes memory s3 = _sig(KEY_A3, _setSplitDigest(h, communityA, next, 0, deadline));
        assertFalse(gov.setSplitBySig(h, next, a1, deadline, s1));
        assertTrue(gov.setSplitBySig(h, next, a3, deadline, s3));
        assertEq(router.splitOf(h)[1].account, next[1].account);
    }

    function test_setSplitBySig_RevertWhen_SignedForAnotherWork() public {
        uint256 h1 = _registerHeritageOf(communityA, a1, _open(0), _split(treasuryA));
        uint256 h2 = _registerHeritageOf(communityA, a1, _open(0), _split(treasuryA));
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory forH1 = _sig(KEY_A1, _setSplitDigest(h1, communityA, _split(a1), 0, deadline));
        vm.expectRevert(abi.encodeWithSelector(StewardSignatures.RegistryInvalidSignature.selector, a1));
        gov.setSplitBySig(h2, _split(a1), a1, deadline, forH1);
    }

    function test_rejectDerivativeBySig_BindsWorkAndCommunity() public {
        Protocol memory p = _open(0);
        p.consentRequired = true;
        uint256 h = _registerHeritageOf(communityB, b1, p, _split(treasuryB));
        uint256 d1 = _registerDerivative(_one(h), _ppm(100));
        uint256 d2 = _registerDerivative(_one(h), _ppm(100));
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory forD1 = _sig(KEY_B1, _rejectDigest(d1, communityB, 0, deadline));
        vm.expectRevert(abi.encodeWithSelector(StewardSignatures.RegistryInvalidSignature.selector, b1));
        gov.rejectDerivativeBySig(d2, communityB, b1, deadline, forD1);
        assertTrue(gov.rejectDerivativeBySig(d1, communityB, b1, deadline, forD1));
        assertEq(uint256(router.statusOf(d1)), uint256(WorkStatus.Rejected));
        assertEq(uint256(router.statusOf(d2)), uint256(WorkStatus.Pending));
    }

    function test_registerHeritageWorkBySig_NonTreasurySplitNeedsKSignatures() public {
        HeritageParams memory p = _heritageParams(communityA, _open(0), _splitN(3, 8));
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory s1 = _sig(KEY_A1, registry.registerHeritageDigest(p, 0, deadline));
        bytes memory s2 = _sig(KEY_A2, registry.registerHeritageDigest(p, 0, deadline));
        assertEq(registry.registerHeritageWorkBySig(p, a1, deadline, s1), 0);
        assertEq(registry.registerHeritageWorkBySig(p, a2, deadline, s2), 1);
        assertEq(router.splitOf(1).length, 3);
    }

    /// @dev The stated bound: each root's credit from a payment of `amount` is at least
    ///      floor × amount / PPM − 64 wei, over two generations and two roots.
    function testFuzz_floor_CreditMeetsFloorWithinTheRoundingBound(
        uint32 floorA,
        uint32 s1,
        uint32 s2,
        uint32 s3,
        uint96 amount
    ) public {
        floorA = uint32(bound(floorA, 1, 200_000));
        s1 = uint32(bound(s1, 1, 600_000));
        s2 = uint32(bound(s2, 1, PPM - s1));
        s3 = uint32(bound(s3, 1, PPM));
        amount = uint96(bound(amount, 1, type(uint96).max));
        uint256 hA = _registerHeritageOf(communityB, b1, _open(0), _split(treasuryB));
        vm.prank(b1);
        gov.setProtocol(hA, _open(floorA)); // tightening: one steward
        uint256 hB = _registerHeritageOf(communityA, a1, _open(0), _split(treasuryA));
        DerivativeParams memory p = _derivativeParams(Pairs.uints(hA, hB), Pairs.ppms(s1, s2), _split(creator));
        vm.prank(creator);
        try registry.registerDerivative(p) returns (uint256 d) {
            DerivativeParams memory q = _derivativeParams(_one(d), _ppm(s3), _split(creator));
            vm.prank(creator);
            try registry.registerDerivative(q) returns (uint256 g) {
                vm.deal(payer, amount);
                vm.prank(payer);
                router.pay{value: amount}(g, bytes32("u"), 1);
                uint256 credit = router.balanceOf(address(0), treasuryB);
                assertGe(credit + 64, uint256(amount) * floorA / PPM);
            } catch (bytes memory reason) {
                assertEq(bytes4(reason), ProtocolRules.RegistryFloorNotMet.selector);
            }
        } catch (bytes memory reason) {
            assertEq(bytes4(reason), ProtocolRules.RegistryFloorNotMet.selector);
        }
    }

    function _domainSeparator() internal view returns (bytes32) {
        return StewardTyped.domain(block.chainid, address(registry));
    }

    function _setSplitDigest(
        uint256 workId,
        uint256 communityId,
        Recipient[] memory split,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (bytes32) {
        bytes memory packed;
        for (uint256 i; i < split.length; ++i) {
            packed = bytes.concat(
                packed,
                keccak256(
                    abi.encode(keccak256("Recipient(address account,uint32 ppm)"), split[i].account, split[i].ppm)
                )
            );
        }
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256(
                    "SetSplit(uint256 workId,uint256 communityId,Recipient[] split,uint256 nonce,uint256 deadline)Recipient(address account,uint32 ppm)"
                ),
                workId,
                communityId,
                keccak256(packed),
                nonce,
                deadline
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", _domainSeparator(), structHash));
    }

    function _rejectDigest(uint256 workId, uint256 communityId, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("RejectDerivative(uint256 workId,uint256 communityId,uint256 nonce,uint256 deadline)"),
                workId,
                communityId,
                nonce,
                deadline
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", _domainSeparator(), structHash));
    }

    // ------------------------------------------------------------------ claims (issue 19, item 7)

    function test_claims_FrontRunnerCopyingARevealedCidFails() public {
        bytes memory cid = _cidFor(777);
        bytes32 salt = keccak256("creator's salt");
        registry.commitRegistration(_commitmentOf(creator, cid, salt));
        vm.roll(block.number + 1);
        uint256 h = _registerHeritageOf(communityB, b1, _open(0), _split(treasuryB));
        DerivativeParams memory p = DerivativeParams(cid, "", _one(h), _ppm(1), _split(creator), "", 0, false, salt);

        // The attacker sees the reveal in the mempool and copies it, with or without a fresh commitment.
        address attacker = makeAddr("attacker");
        vm.expectRevert(
            abi.encodeWithSelector(RegistryCore.RegistryCommitmentMissing.selector, _commitmentOf(attacker, cid, salt))
        );
        vm.prank(attacker);
        registry.registerDerivative(p);
        registry.commitRegistration(_commitmentOf(attacker, cid, salt));
        vm.expectRevert(
            abi.encodeWithSelector(RegistryCore.RegistryCommitmentTooNew.selector, _commitmentOf(attacker, cid, salt))
        );
        vm.prank(attacker);
        registry.registerDerivative(p);

        vm.prank(creator);
        uint256 d = registry.registerDerivative(p);
        assertEq(registry.ownerOf(d), creator);
    }

    function test_claims_CommitmentExpiresAfterADay() public {
        bytes memory cid = _cidFor(778);
        registry.commitRegistration(_commitmentOf(b1, cid, bytes32("s")));
        vm.roll(block.number + 1);
        vm.warp(block.timestamp + 1 days + 1);
        HeritageParams memory p = HeritageParams(communityB, cid, "", _open(0), _split(treasuryB), bytes32("s"));
        vm.expectRevert(
            abi.encodeWithSelector(
                RegistryCore.RegistryCommitmentExpired.selector, _commitmentOf(b1, cid, bytes32("s"))
            )
        );
        vm.prank(b1);
        registry.registerHeritageWork(p);
    }

    function test_claims_PendingHeritageRegistrationHoldsItsContent() public {
        HeritageParams memory p = _heritageParams(communityA, _open(0), _splitN(2, 9));
        vm.prank(a1);
        registry.registerHeritageWork(p); // approval 1 of 2 reveals the CID
        HeritageParams memory stolen = HeritageParams(communityB, p.contentCid, "", _open(0), _split(treasuryB), p.salt);
        vm.expectRevert(
            abi.encodeWithSelector(RegistryCore.RegistryContentClaimed.selector, keccak256(p.contentCid), communityA)
        );
        vm.prank(b1);
        registry.registerHeritageWork(stolen);
    }

    function test_registerRestrictedWork_ReservedBytesNeverRegisterPublicly() public {
        bytes memory leaked = _cidFor(999);
        bytes32[] memory keys = new bytes32[](1);
        keys[0] = keccak256(leaked);
        vm.prank(a1);
        uint256 r = gov.registerRestrictedWork(communityA, keccak256("salted"), "", 1 << 14, 1, keys);
        assertTrue(registry.isRestricted(r));
        _storeCommitment(leaked, b1);
        HeritageParams memory p = HeritageParams(communityB, leaked, "", _open(0), _split(treasuryB), _saltOf(leaked));
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.RegistryContentAlreadyRegistered.selector, keys[0], r));
        vm.prank(b1);
        registry.registerHeritageWork(p);
    }

    function test_registerRestrictedWork_RevertWhen_TooManyReservedKeys() public {
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.RegistryTooManyReservedKeys.selector, 9, 8));
        vm.prank(a1);
        gov.registerRestrictedWork(communityA, keccak256("salted"), "", 0, 1, new bytes32[](9));
    }

    // ------------------------------------------------------------------ labels (issue 19, item 8)

    function test_labels_SecretSacredNeedsRestricted() public {
        _expectLabelsRefused(
            1 << 14, 0, abi.encodeWithSelector(RegistryCore.RegistryLabelNeedsRestricted.selector, uint64(1 << 14))
        );
    }

    function test_labels_BcNonCommercialForbidsCommercial() public {
        _expectLabelsRefused(
            uint64(1) << 40,
            0,
            abi.encodeWithSelector(RegistryCore.RegistryLabelForbidsCommercial.selector, uint64(1) << 40)
        );
    }

    function test_labels_SeasonalNeedsAWindow() public {
        _expectLabelsRefused(
            1 << 8, 0, abi.encodeWithSelector(RegistryCore.RegistryLabelNeedsSeason.selector, uint64(1 << 8))
        );
        uint32 backwards = _season(2, 30, 3, 1);
        _expectLabelsRefused(
            1 << 8, backwards, abi.encodeWithSelector(RegistryCore.RegistryInvalidSeason.selector, backwards)
        );
    }

    /// @dev B's steward registers an open heritage work carrying `labels_` and `season`: refused with `err`.
    function _expectLabelsRefused(uint64 labels_, uint32 season, bytes memory err) internal {
        Protocol memory p = _open(0);
        p.labels = labels_;
        p.season = season;
        HeritageParams memory params = _heritageParams(communityB, p, _split(treasuryB));
        vm.expectRevert(err);
        vm.prank(b1);
        registry.registerHeritageWork(params);
    }

    function test_season_DerivativesAndMlRefusedOutsideTheWindow() public {
        vm.warp(1_765_000_000); // 2025-12-06 05:46:40 UTC
        Protocol memory p = _open(0);
        p.labels = 1 << 8;
        p.season = _season(12, 20, 1, 10); // winter solstice songs, across the year end
        uint256 h = _registerHeritageOf(communityB, b1, p, _split(treasuryB));
        DerivativeParams memory d = _derivativeParams(_one(h), _ppm(10), _split(creator));
        d.modelCid = _cidFor(4242);
        vm.expectRevert(abi.encodeWithSelector(ProtocolRules.RegistryOutOfSeason.selector, h, p.season, 12, 6));
        vm.prank(creator);
        registry.registerDerivative(d);
        vm.warp(1_767_225_600); // 2026-01-01 00:00:00 UTC: inside
        _storeCommitment(d.contentCid, creator);
        vm.prank(creator);
        uint256 id = registry.registerDerivative(d);
        assertEq(uint256(registry.workOf(id).status), uint256(WorkStatus.Active));
    }

    function test_monthDay_KnownDates() public view {
        _assertDay(0, 1, 1); // 1970-01-01
        _assertDay(951_782_400, 2, 29); // 2000-02-29
        _assertDay(951_868_800, 3, 1); // 2000-03-01
        _assertDay(1_709_164_800, 2, 29); // 2024-02-29
        _assertDay(1_735_689_599, 12, 31); // 2024-12-31 23:59:59
        _assertDay(1_735_689_600, 1, 1); // 2025-01-01
        _assertDay(4_107_456_000, 2, 28); // 2100-02-28 (not a leap year)
        _assertDay(4_107_542_400, 3, 1); // 2100-03-01
    }

    function _assertDay(uint256 t, uint256 month, uint256 day) internal view {
        (uint256 m, uint256 d) = labels.monthDay(t);
        assertEq(m, month);
        assertEq(d, day);
    }

    function test_seasonWithin_Windows() public view {
        uint32 winter = _season(12, 1, 2, 28);
        assertTrue(labels.seasonWithin(_season(12, 20, 1, 10), winter));
        assertTrue(labels.seasonWithin(_season(1, 2, 1, 10), winter));
        assertFalse(labels.seasonWithin(_season(11, 30, 1, 10), winter));
        assertFalse(labels.seasonWithin(0, winter), "all year is wider than winter");
        assertTrue(labels.seasonWithin(winter, 0));
        assertFalse(labels.seasonWithin(_season(3, 1, 2, 28), _season(6, 1, 6, 30)));
    }

    // ------------------------------------------------------------------ the governance half

    function test_governance_RefusesDirectCalls() public {
        HeritageGovernance direct = registry.governance();
        vm.expectRevert(HeritageGovernance.RegistryNotDelegated.selector);
        vm.prank(a1);
        direct.setProtocol(1, _open(0));
    }

    function test_governance_PlainEthToTheRegistryIsRefused() public {
        vm.prank(payer);
        (bool ok,) = address(registry).call{value: 1 ether}("");
        assertFalse(ok);
    }

    // ------------------------------------------------------------------ attestations refuse restricted works

    function test_attest_RevertWhen_WorkRestricted() public {
        StudyAttestations attestations = new StudyAttestations(IWorkRegistry(address(registry)));
        vm.prank(a1);
        uint256 r = gov.registerRestrictedWork(communityA, keccak256("salted"), "", 1 << 14, 1, new bytes32[](0));
        uint256[] memory works = new uint256[](1);
        works[0] = r;
        vm.expectRevert(abi.encodeWithSelector(StudyAttestations.StudyAttestationsWorkRestricted.selector, r));
        attestations.attest(_cidFor(5), keccak256("summary"), works);
    }
}
