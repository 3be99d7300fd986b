// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Fixture} from "../utils/Fixture.sol";
import {StudyAttestations} from "../../../contracts/StudyAttestations.sol";
import {IWorkRegistry} from "../../../contracts/interfaces/IWorkRegistry.sol";
import {CidCodec} from "../../../contracts/libraries/CidCodec.sol";

/// @title StudyAttestations: attest, the views, and every revert path
/// @notice Fixture: the registry with communities A and B; setUp registers three heritage works
///         (ids 1-3) and deploys the attestations contract bound to the registry.
contract StudyAttestationsTest is Fixture {
    /// @dev SHA-256 of `{"schema":"heritage-ledger/listening-attestation"}` (a literal: a
    ///      `sha256(...)` constant is a precompile call, which would take the next prank).
    bytes32 internal constant SUMMARY = 0x2bf79260f49a7339f450ab25b2211361b2c83166d4060fbe07488ca15cd23852;

    StudyAttestations internal attestations;
    address internal researcher;
    address internal auditor;

    function setUp() public override {
        super.setUp();
        for (uint256 i; i < 3; ++i) {
            _registerHeritage(_open(0));
        }
        attestations = new StudyAttestations(IWorkRegistry(address(registry)));
        researcher = makeAddr("researcher");
        auditor = makeAddr("auditor");
    }

    // ------------------------------------------------------------------ helpers

    function _works(uint256 a, uint256 b) internal pure returns (uint256[] memory w) {
        w = new uint256[](2);
        (w[0], w[1]) = (a, b);
    }

    function _ascending(uint256 n) internal pure returns (uint256[] memory w) {
        w = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            w[i] = i + 1;
        }
    }

    function _attest(address who, bytes memory cid, uint256[] memory works) internal returns (uint256 id) {
        vm.prank(who);
        id = attestations.attest(cid, SUMMARY, works);
    }

    function _assertIds(uint256[] memory got, uint256[] memory want) internal pure {
        assertEq(got.length, want.length, "number of ids");
        for (uint256 i; i < got.length; ++i) {
            assertEq(got[i], want[i], "id");
        }
    }

    // ------------------------------------------------------------------ constructor

    function test_constructor_RevertWhen_ZeroRegistry() public {
        vm.expectRevert(StudyAttestations.StudyAttestationsZeroRegistry.selector);
        new StudyAttestations(IWorkRegistry(address(0)));
    }

    function test_registry_IsTheOneGiven() public view {
        assertEq(address(attestations.registry()), address(registry));
    }

    // ------------------------------------------------------------------ attest

    function test_attest_RecordsAttesterTimeCidSummaryAndWorks() public {
        vm.warp(1_800_000_000);
        bytes memory cid = _cid();
        uint256[] memory works = _works(1, 3);
        vm.expectEmit(true, true, true, true, address(attestations));
        emit StudyAttestations.StudyAttested(1, researcher, cid, SUMMARY, works);
        uint256 id = _attest(researcher, cid, works);

        assertEq(id, 1);
        assertEq(attestations.attestationCount(), 1);
        StudyAttestations.AttestationView memory v = attestations.attestationOf(id);
        assertEq(v.attester, researcher, "the caller is the attester");
        assertEq(v.timestamp, 1_800_000_000);
        assertEq(v.resultsCid, cid);
        assertEq(v.summaryHash, SUMMARY);
        _assertIds(v.works, works);
    }

    function test_attest_TakesADagPbCid() public {
        bytes memory cid = hex"0170122059948439065f29619ef41280cbb932be52c56d99c5966b65e0111239f098bbef";
        uint256 id = _attest(researcher, cid, _ascending(1));
        assertEq(attestations.attestationOf(id).resultsCid, cid);
    }

    function test_attest_AnyoneMayAttestTheSameResultsAgain() public {
        bytes memory cid = _cid();
        uint256 first = _attest(researcher, cid, _ascending(2));
        uint256 second = _attest(auditor, cid, _ascending(2));
        assertEq(second, first + 1, "ids are sequential");
        assertEq(attestations.attestationOf(first).attester, researcher);
        assertEq(attestations.attestationOf(second).attester, auditor);
    }

    function test_attest_AtTheWorkLimit() public {
        uint256 max = attestations.MAX_ATTESTED_WORKS();
        for (uint256 i = registry.workCount(); i < max; ++i) {
            _registerHeritage(_open(0));
        }
        uint256 id = _attest(researcher, _cid(), _ascending(max));
        assertEq(attestations.attestationOf(id).works.length, max);
        (, uint256 total) = attestations.attestationsOfWork(max, 0, 1);
        assertEq(total, 1);
    }

    function test_attest_RevertWhen_CidEmpty() public {
        vm.expectRevert(abi.encodeWithSelector(CidCodec.CidUnsupported.selector, ""));
        _attest(researcher, "", _ascending(1));
    }

    function test_attest_RevertWhen_CidNotACidV1Sha256() public {
        bytes memory cid = _cid();
        cid[2] = 0x13; // sha2-512 multihash code
        vm.expectRevert(abi.encodeWithSelector(CidCodec.CidUnsupported.selector, cid));
        _attest(researcher, cid, _ascending(1));
    }

    function test_attest_RevertWhen_SummaryHashZero() public {
        bytes memory cid = _cid();
        vm.expectRevert(StudyAttestations.StudyAttestationsZeroSummaryHash.selector);
        vm.prank(researcher);
        attestations.attest(cid, bytes32(0), _ascending(1));
    }

    function test_attest_RevertWhen_NoWorks() public {
        bytes memory cid = _cid();
        vm.expectRevert(StudyAttestations.StudyAttestationsNoWorks.selector);
        _attest(researcher, cid, new uint256[](0));
    }

    function test_attest_RevertWhen_TooManyWorks() public {
        uint256 max = attestations.MAX_ATTESTED_WORKS();
        bytes memory cid = _cid();
        vm.expectRevert(abi.encodeWithSelector(StudyAttestations.StudyAttestationsTooManyWorks.selector, max + 1, max));
        _attest(researcher, cid, _ascending(max + 1));
    }

    function test_attest_RevertWhen_WorkZero() public {
        bytes memory cid = _cid();
        vm.expectRevert(abi.encodeWithSelector(StudyAttestations.StudyAttestationsUnknownWork.selector, 0));
        _attest(researcher, cid, _works(0, 1));
    }

    function test_attest_RevertWhen_WorkNotRegistered() public {
        bytes memory cid = _cid();
        vm.expectRevert(abi.encodeWithSelector(StudyAttestations.StudyAttestationsUnknownWork.selector, 4));
        _attest(researcher, cid, _works(1, 4));
    }

    function test_attest_RevertWhen_WorkTwice() public {
        bytes memory cid = _cid();
        vm.expectRevert(abi.encodeWithSelector(StudyAttestations.StudyAttestationsWorksNotAscending.selector, 2, 2));
        _attest(researcher, cid, _works(2, 2));
    }

    function test_attest_RevertWhen_WorksDescending() public {
        bytes memory cid = _cid();
        vm.expectRevert(abi.encodeWithSelector(StudyAttestations.StudyAttestationsWorksNotAscending.selector, 3, 1));
        _attest(researcher, cid, _works(3, 1));
    }

    function test_attest_RefusedLeavesNothing() public {
        bytes memory cid = _cid();
        vm.prank(researcher);
        try attestations.attest(cid, SUMMARY, _works(1, 9)) {
            fail("an unknown work must be refused");
        } catch {}
        assertEq(attestations.attestationCount(), 0);
        (uint256[] memory ids, uint256 total) = attestations.attestationsOfWork(1, 0, 10);
        assertEq(total, 0);
        assertEq(ids.length, 0);
    }

    // ------------------------------------------------------------------ views

    function test_attestationOf_RevertWhen_Unknown() public {
        vm.expectRevert(abi.encodeWithSelector(StudyAttestations.StudyAttestationsUnknownAttestation.selector, 0));
        attestations.attestationOf(0);
        _attest(researcher, _cid(), _ascending(1));
        vm.expectRevert(abi.encodeWithSelector(StudyAttestations.StudyAttestationsUnknownAttestation.selector, 2));
        attestations.attestationOf(2);
    }

    function test_attestationsOfWork_PagesOldestFirst() public {
        for (uint256 i; i < 5; ++i) {
            _attest(i % 2 == 0 ? researcher : auditor, _cid(), i == 2 ? _works(2, 3) : _works(1, 3));
        }
        uint256[] memory three = new uint256[](3);
        (three[0], three[1], three[2]) = (2, 3, 4);
        (uint256[] memory page, uint256 total) = attestations.attestationsOfWork(3, 1, 3);
        assertEq(total, 5);
        _assertIds(page, three);
        (page, total) = attestations.attestationsOfWork(1, 2, 10);
        assertEq(total, 4, "work 1 is not in attestation 3");
        _assertIds(page, _works(4, 5));
        (page, total) = attestations.attestationsOfWork(2, 0, 10);
        assertEq(total, 1);
        _assertIds(page, _one(3));
        (page, total) = attestations.attestationsOfWork(1, 9, 10);
        assertEq(page.length, 0, "past the end: an empty page");
        assertEq(total, 4);
        (page,) = attestations.attestationsOfWork(3, 0, 0);
        assertEq(page.length, 0, "limit 0: only the total");
        (page, total) = attestations.attestationsOfWork(77, 0, 10);
        assertEq(total, 0, "an unknown work has none");
    }

    function test_attestationsOfWork_CapsThePage() public {
        uint256 cap = attestations.MAX_PAGE();
        for (uint256 i; i < cap + 1; ++i) {
            _attest(researcher, _cid(), _ascending(1));
        }
        (uint256[] memory page, uint256 total) = attestations.attestationsOfWork(1, 0, type(uint256).max);
        assertEq(total, cap + 1);
        assertEq(page.length, cap);
        (page,) = attestations.attestationsOfWork(1, cap, type(uint256).max);
        _assertIds(page, _one(cap + 1));
    }

    // ------------------------------------------------------------------ fuzz

    /// @notice Any ascending subset of the registered works is stored exactly, and each of its
    ///         works lists the attestation; a non-ascending list is refused.
    function testFuzz_attest_StoresAnyAscendingSubset(uint256 mask, bytes32 summary, uint64 time, address who) public {
        vm.assume(summary != bytes32(0));
        for (uint256 i; i < 5; ++i) {
            _registerHeritage(_open(0));
        }
        uint256 count = registry.workCount(); // 8
        mask = bound(mask, 1, (1 << count) - 1);
        uint256 n;
        for (uint256 i; i < count; ++i) {
            if (mask & (1 << i) != 0) ++n;
        }
        uint256[] memory works = new uint256[](n);
        uint256 k;
        for (uint256 i; i < count; ++i) {
            if (mask & (1 << i) != 0) works[k++] = i + 1;
        }
        _attest(auditor, _cid(), _ascending(1)); // an earlier attestation
        bytes memory cid = _cid();
        vm.warp(time);
        vm.prank(who);
        uint256 id = attestations.attest(cid, summary, works);

        StudyAttestations.AttestationView memory v = attestations.attestationOf(id);
        assertEq(v.attester, who);
        assertEq(v.timestamp, time);
        assertEq(v.resultsCid, cid);
        assertEq(v.summaryHash, summary);
        _assertIds(v.works, works);
        for (uint256 w = 1; w <= count; ++w) {
            (uint256[] memory ids, uint256 total) = attestations.attestationsOfWork(w, 0, 10);
            bool linked = mask & (1 << (w - 1)) != 0;
            uint256 expected = (w == 1 ? 1 : 0) + (linked ? 1 : 0);
            assertEq(total, expected, "attestations of a work");
            if (linked) assertEq(ids[ids.length - 1], id, "the new attestation is listed last");
        }
        if (n > 1) {
            (works[0], works[n - 1]) = (works[n - 1], works[0]);
            vm.expectRevert();
            attestations.attest(cid, summary, works);
        }
    }
}
