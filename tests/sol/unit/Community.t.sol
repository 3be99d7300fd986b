// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Fixture} from "../utils/Fixture.sol";
import {CommunityStewardship} from "../../../contracts/CommunityStewardship.sol";
import {MAX_STEWARDS} from "../../../contracts/libraries/HeritageTypes.sol";

/// @title Communities: registration, k-of-n steward changes, epochs and the views
/// @notice Fixture: community A = {a1, a2, a3}, 2 of 3, treasuryA; community B = {b1}, 1 of 1.
contract CommunityTest is Fixture {
    address internal outsider;

    function setUp() public override {
        super.setUp();
        outsider = makeAddr("outsider");
    }

    // ------------------------------------------------------------------ helpers

    function _addrs(address x) internal pure returns (address[] memory s) {
        s = new address[](1);
        s[0] = x;
    }

    function _addrs(address x, address y) internal pure returns (address[] memory s) {
        s = new address[](2);
        (s[0], s[1]) = (x, y);
    }

    function _addrs(address x, address y, address z) internal pure returns (address[] memory s) {
        s = new address[](3);
        (s[0], s[1], s[2]) = (x, y, z);
    }

    /// @dev `n` distinct non-zero steward addresses.
    function _stewards(uint256 n) internal pure returns (address[] memory s) {
        s = new address[](n);
        for (uint256 i; i < n; ++i) {
            s[i] = address(uint160(0x5000 + i));
        }
    }

    /// @dev The approval subject of a community change, computed here as the README describes it.
    function _changeSubject(address[] memory stewards, uint16 threshold, address treasury)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode("COMMUNITY_CHANGE", stewards, threshold, treasury));
    }

    function _assertStewards(uint256 communityId, address[] memory expected) internal view {
        (, address[] memory stewards,,,) = registry.communityOf(communityId);
        assertEq(stewards.length, expected.length, "steward count");
        for (uint256 i; i < expected.length; ++i) {
            assertEq(stewards[i], expected[i]);
            assertTrue(registry.isSteward(communityId, expected[i]), "listed steward must be a steward");
        }
    }

    // ------------------------------------------------------------------ registerCommunity

    function test_registerCommunity_StoresEverything() public {
        address[] memory stewards = _addrs(outsider, creator);
        address treasury = makeAddr("treasuryC");
        vm.prank(payer); // anyone may register a community
        uint256 id = registry.registerCommunity("Sami joik keepers", stewards, 2, treasury);

        assertEq(id, 3, "ids are sequential from 1");
        assertEq(registry.communityCount(), 3);
        (string memory name, address[] memory got, uint256 k, address t, uint256 epoch) = registry.communityOf(id);
        assertEq(name, "Sami joik keepers");
        assertEq(got.length, 2);
        assertEq(got[0], outsider);
        assertEq(got[1], creator);
        assertEq(k, 2);
        assertEq(t, treasury);
        assertEq(epoch, 0);
        assertTrue(registry.isSteward(id, outsider));
        assertTrue(registry.isSteward(id, creator));
        assertFalse(registry.isSteward(id, payer));
        assertFalse(registry.isSteward(communityA, outsider), "stewardship is per community");
    }

    function test_registerCommunity_EmitsCommunityRegistered() public {
        address[] memory stewards = _addrs(outsider);
        vm.expectEmit(true, true, true, true, address(registry));
        emit CommunityStewardship.CommunityRegistered(3, "C", stewards, 1, treasuryB);
        registry.registerCommunity("C", stewards, 1, treasuryB);
    }

    function test_registerCommunity_AcceptsMaxStewardsAndUnanimity() public {
        address[] memory stewards = _stewards(MAX_STEWARDS);
        uint256 id = registry.registerCommunity("Large council", stewards, uint16(MAX_STEWARDS), treasuryA);
        (, address[] memory got, uint256 k,,) = registry.communityOf(id);
        assertEq(got.length, 16);
        assertEq(k, 16);
        assertTrue(registry.isSteward(id, stewards[15]));
    }

    function test_registerCommunity_SameStewardsMayServeSeveralCommunities() public {
        uint256 id = registry.registerCommunity("Second home", _addrs(a1), 1, treasuryB);
        assertTrue(registry.isSteward(id, a1));
        assertTrue(registry.isSteward(communityA, a1));
    }

    function testFuzz_registerCommunity_AnyValidSize(uint256 n, uint256 k) public {
        n = bound(n, 1, MAX_STEWARDS);
        k = bound(k, 1, n);
        uint256 id = registry.registerCommunity("Fuzzed", _stewards(n), uint16(k), treasuryA);
        (, address[] memory got, uint256 threshold,,) = registry.communityOf(id);
        assertEq(got.length, n);
        assertEq(threshold, k);
    }

    function test_registerCommunity_RevertWhen_NameEmpty() public {
        vm.expectRevert(CommunityStewardship.RegistryEmptyName.selector);
        registry.registerCommunity("", _addrs(outsider), 1, treasuryA);
        assertEq(registry.communityCount(), 2, "a failed registration must not use an id");
    }

    function test_registerCommunity_RevertWhen_NoStewards() public {
        vm.expectRevert(CommunityStewardship.RegistryInvalidStewards.selector);
        registry.registerCommunity("C", new address[](0), 1, treasuryA);
    }

    function test_registerCommunity_RevertWhen_StewardDuplicated() public {
        vm.expectRevert(CommunityStewardship.RegistryInvalidStewards.selector);
        registry.registerCommunity("C", _addrs(outsider, creator, outsider), 2, treasuryA);
    }

    function test_registerCommunity_RevertWhen_StewardIsZeroAddress() public {
        vm.expectRevert(CommunityStewardship.RegistryInvalidStewards.selector);
        registry.registerCommunity("C", _addrs(outsider, address(0)), 1, treasuryA);
    }

    function test_registerCommunity_RevertWhen_MoreThanMaxStewards() public {
        vm.expectRevert(CommunityStewardship.RegistryInvalidStewards.selector);
        registry.registerCommunity("C", _stewards(MAX_STEWARDS + 1), 1, treasuryA);
    }

    function test_registerCommunity_RevertWhen_ThresholdZero() public {
        vm.expectRevert(abi.encodeWithSelector(CommunityStewardship.RegistryInvalidThreshold.selector, 0, 3));
        registry.registerCommunity("C", _stewards(3), 0, treasuryA);
    }

    function test_registerCommunity_RevertWhen_ThresholdAboveStewardCount() public {
        vm.expectRevert(abi.encodeWithSelector(CommunityStewardship.RegistryInvalidThreshold.selector, 4, 3));
        registry.registerCommunity("C", _stewards(3), 4, treasuryA);
    }

    function testFuzz_registerCommunity_RevertWhen_ThresholdAboveStewardCount(uint256 n, uint16 k) public {
        n = bound(n, 1, MAX_STEWARDS);
        k = uint16(bound(k, n + 1, type(uint16).max));
        vm.expectRevert(abi.encodeWithSelector(CommunityStewardship.RegistryInvalidThreshold.selector, k, n));
        registry.registerCommunity("C", _stewards(n), k, treasuryA);
    }

    function test_registerCommunity_RevertWhen_TreasuryZero() public {
        vm.expectRevert(CommunityStewardship.RegistryZeroTreasury.selector);
        registry.registerCommunity("C", _addrs(outsider), 1, address(0));
    }

    // ------------------------------------------------------------------ approveCommunityChange

    function test_approveCommunityChange_AppliesOnlyAtThreshold() public {
        address[] memory next = _addrs(a1, outsider);
        address newTreasury = makeAddr("newTreasury");
        bytes32 subject = _changeSubject(next, 1, newTreasury);

        vm.prank(a1);
        assertFalse(registry.approveCommunityChange(communityA, next, 1, newTreasury));
        assertEq(registry.approvalsOf(communityA, subject), 1);
        (,, uint256 k, address t, uint256 epoch) = registry.communityOf(communityA);
        assertEq(k, 2, "one approval of two changes nothing");
        assertEq(t, treasuryA);
        assertEq(epoch, 0);
        assertTrue(registry.isSteward(communityA, a3));
        assertFalse(registry.isSteward(communityA, outsider));

        vm.prank(a2);
        assertTrue(registry.approveCommunityChange(communityA, next, 1, newTreasury));
        (,, k, t, epoch) = registry.communityOf(communityA);
        assertEq(k, 1);
        assertEq(t, newTreasury);
        assertEq(epoch, 1);
        _assertStewards(communityA, next);
        assertFalse(registry.isSteward(communityA, a2), "a removed steward is no longer one");
        assertFalse(registry.isSteward(communityA, a3));
        assertEq(registry.approvalsOf(communityA, subject), 0, "counts are per epoch");
    }

    function test_approveCommunityChange_EmitsApprovalRecordedAndCommunityChanged() public {
        address[] memory next = _addrs(a1, a2);
        bytes32 subject = _changeSubject(next, 2, treasuryB);

        vm.expectEmit(true, true, true, true, address(registry));
        emit CommunityStewardship.ApprovalRecorded(communityA, subject, a1, 1);
        vm.prank(a1);
        registry.approveCommunityChange(communityA, next, 2, treasuryB);

        vm.expectEmit(true, true, true, true, address(registry));
        emit CommunityStewardship.ApprovalRecorded(communityA, subject, a3, 2);
        vm.expectEmit(true, true, true, true, address(registry));
        emit CommunityStewardship.CommunityChanged(communityA, next, 2, treasuryB, 1);
        vm.prank(a3);
        registry.approveCommunityChange(communityA, next, 2, treasuryB);
    }

    function test_approveCommunityChange_DifferentProposalsCountSeparately() public {
        vm.prank(a1);
        registry.approveCommunityChange(communityA, _addrs(a1, a2), 2, treasuryA);
        vm.prank(a2);
        bool applied = registry.approveCommunityChange(communityA, _addrs(a1, a2), 1, treasuryA);
        assertFalse(applied, "a different threshold is a different proposal");
        vm.prank(a3);
        applied = registry.approveCommunityChange(communityA, _addrs(a1, a2), 2, makeAddr("other"));
        assertFalse(applied, "a different treasury is a different proposal");
        (,, uint256 k,, uint256 epoch) = registry.communityOf(communityA);
        assertEq(k, 2);
        assertEq(epoch, 0);
        assertEq(registry.approvalsOf(communityA, _changeSubject(_addrs(a1, a2), 2, treasuryA)), 1);
    }

    function test_approveCommunityChange_EpochChangeInvalidatesOldApprovals() public {
        address[] memory same = _addrs(a1, a2, a3);
        address[] memory proposalX = _addrs(a1, a2);
        // a1 approves X under epoch 0.
        vm.prank(a1);
        registry.approveCommunityChange(communityA, proposalX, 1, treasuryA);
        // Meanwhile a2 and a3 apply Y (same stewards, new treasury): epoch 1.
        vm.prank(a2);
        registry.approveCommunityChange(communityA, same, 2, treasuryB);
        vm.prank(a3);
        assertTrue(registry.approveCommunityChange(communityA, same, 2, treasuryB));

        bytes32 subjectX = _changeSubject(proposalX, 1, treasuryA);
        assertEq(registry.approvalsOf(communityA, subjectX), 0, "a1's epoch-0 approval no longer counts");
        // a2's approval of X would complete it if a1's old approval still counted.
        vm.prank(a2);
        assertFalse(registry.approveCommunityChange(communityA, proposalX, 1, treasuryA));
        assertTrue(registry.isSteward(communityA, a3));
        // a1 may approve X again in the new epoch, and that completes it.
        vm.prank(a1);
        assertTrue(registry.approveCommunityChange(communityA, proposalX, 1, treasuryA));
        (,, uint256 k, address t, uint256 epoch) = registry.communityOf(communityA);
        assertEq(k, 1);
        assertEq(t, treasuryA);
        assertEq(epoch, 2);
        assertFalse(registry.isSteward(communityA, a3));
    }

    function test_approveCommunityChange_NewThresholdGovernsNextChange() public {
        address[] memory all = _addrs(a1, a2, a3);
        vm.prank(a1);
        registry.approveCommunityChange(communityA, all, 3, treasuryA);
        vm.prank(a2);
        registry.approveCommunityChange(communityA, all, 3, treasuryA);

        address[] memory next = _addrs(a1);
        vm.prank(a1);
        assertFalse(registry.approveCommunityChange(communityA, next, 1, treasuryA));
        vm.prank(a2);
        assertFalse(registry.approveCommunityChange(communityA, next, 1, treasuryA), "2 of 3 is not enough now");
        vm.prank(a3);
        assertTrue(registry.approveCommunityChange(communityA, next, 1, treasuryA));
        _assertStewards(communityA, next);
    }

    function test_approveCommunityChange_ThresholdOneAppliesAtOnce() public {
        address[] memory next = _addrs(outsider, creator);
        vm.prank(b1);
        assertTrue(registry.approveCommunityChange(communityB, next, 2, treasuryA));
        _assertStewards(communityB, next);
        assertFalse(registry.isSteward(communityB, b1));
        (,, uint256 k, address t, uint256 epoch) = registry.communityOf(communityB);
        assertEq(k, 2);
        assertEq(t, treasuryA);
        assertEq(epoch, 1);
        // Community A is untouched.
        (,, k, t, epoch) = registry.communityOf(communityA);
        assertEq(k, 2);
        assertEq(t, treasuryA);
        assertEq(epoch, 0);
    }

    function test_approveCommunityChange_NewTreasuryReceivesNewWorks() public {
        address newTreasury = makeAddr("newTreasury");
        vm.prank(b1);
        registry.approveCommunityChange(communityB, _addrs(b1), 1, newTreasury);
        uint256 h = _registerHeritageOf(communityB, b1, _open(0), _split(newTreasury));
        assertEq(registry.ownerOf(h), newTreasury);
    }

    function test_approveCommunityChange_RevertWhen_RemovedStewardApproves() public {
        vm.prank(b1);
        registry.approveCommunityChange(communityB, _addrs(outsider), 1, treasuryB);
        vm.expectRevert(abi.encodeWithSelector(CommunityStewardship.RegistryNotSteward.selector, communityB, b1));
        vm.prank(b1);
        registry.approveCommunityChange(communityB, _addrs(b1), 1, treasuryB);
    }

    function test_approveCommunityChange_RevertWhen_NotSteward() public {
        vm.expectRevert(abi.encodeWithSelector(CommunityStewardship.RegistryNotSteward.selector, communityA, b1));
        vm.prank(b1);
        registry.approveCommunityChange(communityA, _addrs(b1), 1, treasuryB);
    }

    function test_approveCommunityChange_RevertWhen_AlreadyApproved() public {
        address[] memory next = _addrs(a1);
        bytes32 subject = _changeSubject(next, 1, treasuryA);
        vm.prank(a1);
        registry.approveCommunityChange(communityA, next, 1, treasuryA);
        vm.expectRevert(
            abi.encodeWithSelector(CommunityStewardship.RegistryAlreadyApproved.selector, communityA, subject, a1)
        );
        vm.prank(a1);
        registry.approveCommunityChange(communityA, next, 1, treasuryA);
        assertEq(registry.approvalsOf(communityA, subject), 1);
    }

    function test_approveCommunityChange_RevertWhen_UnknownCommunity() public {
        vm.expectRevert(abi.encodeWithSelector(CommunityStewardship.RegistryUnknownCommunity.selector, 99));
        vm.prank(a1);
        registry.approveCommunityChange(99, _addrs(a1), 1, treasuryA);
    }

    function test_approveCommunityChange_RevertWhen_NewStewardsEmpty() public {
        vm.expectRevert(CommunityStewardship.RegistryInvalidStewards.selector);
        vm.prank(b1);
        registry.approveCommunityChange(communityB, new address[](0), 1, treasuryB);
    }

    function test_approveCommunityChange_RevertWhen_NewStewardsDuplicated() public {
        vm.expectRevert(CommunityStewardship.RegistryInvalidStewards.selector);
        vm.prank(b1);
        registry.approveCommunityChange(communityB, _addrs(b1, b1), 1, treasuryB);
    }

    function test_approveCommunityChange_RevertWhen_NewThresholdAboveCount() public {
        vm.expectRevert(abi.encodeWithSelector(CommunityStewardship.RegistryInvalidThreshold.selector, 2, 1));
        vm.prank(b1);
        registry.approveCommunityChange(communityB, _addrs(b1), 2, treasuryB);
    }

    function test_approveCommunityChange_RevertWhen_NewTreasuryZero() public {
        vm.expectRevert(CommunityStewardship.RegistryZeroTreasury.selector);
        vm.prank(b1);
        registry.approveCommunityChange(communityB, _addrs(b1), 1, address(0));
        // The failed change left the community as it was.
        (,, uint256 k, address t, uint256 epoch) = registry.communityOf(communityB);
        assertEq(k, 1);
        assertEq(t, treasuryB);
        assertEq(epoch, 0);
    }

    // ------------------------------------------------------------------ views

    function test_communityCount_CountsFixtureCommunities() public view {
        assertEq(registry.communityCount(), 2);
        assertEq(communityA, 1);
        assertEq(communityB, 2);
    }

    function test_communityOf_ReturnsFixtureCommunity() public view {
        (string memory name, address[] memory stewards, uint256 k, address t, uint256 epoch) =
            registry.communityOf(communityB);
        assertEq(name, "Daur song keepers");
        assertEq(stewards.length, 1);
        assertEq(stewards[0], b1);
        assertEq(k, 1);
        assertEq(t, treasuryB);
        assertEq(epoch, 0);
    }

    function test_communityOf_RevertWhen_UnknownCommunity() public {
        vm.expectRevert(abi.encodeWithSelector(CommunityStewardship.RegistryUnknownCommunity.selector, 0));
        registry.communityOf(0);
        vm.expectRevert(abi.encodeWithSelector(CommunityStewardship.RegistryUnknownCommunity.selector, 3));
        registry.communityOf(3);
    }

    function test_isSteward_FalseForUnknownCommunityAndStrangers() public view {
        assertFalse(registry.isSteward(99, a1));
        assertFalse(registry.isSteward(communityA, b1));
        assertFalse(registry.isSteward(communityA, address(0)));
        assertTrue(registry.isSteward(communityA, a2));
    }

    function test_approvalsOf_ZeroForUnknownSubject() public view {
        assertEq(registry.approvalsOf(communityA, keccak256("nothing")), 0);
        assertEq(registry.approvalsOf(99, keccak256("nothing")), 0);
    }
}
