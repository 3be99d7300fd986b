// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {DerivativeFixture} from "../utils/DerivativeFixture.sol";
import {Pairs} from "../utils/Pairs.sol";
import {RoyaltyRouter} from "../../../contracts/RoyaltyRouter.sol";
import {RegistryCore} from "../../../contracts/RegistryCore.sol";
import {
    Protocol, Recipient, HeritageParams, DerivativeParams, WorkStatus
} from "../../../contracts/libraries/HeritageTypes.sol";
import {PlainERC20} from "../mocks/PlainERC20.sol";
import {FeeOnTransferToken} from "../mocks/HostileTokens.sol";
import {RevertingReceiver} from "../mocks/HostileReceivers.sol";

/// @title RoyaltyRouter, one external function and one revert path at a time
/// @notice Works are registered through the real registry wherever the registry can reach a
///         path; paths the registry guards against (a work configured twice, ...) are driven on
///         a fresh router bound to this test contract. This test contract is also the router's
///         disputes contract (v2: escrow is held and ended by HeritageDisputes, tested with the
///         arbitrator in Disputes.t.sol; here the router's side alone).
contract RouterTest is DerivativeFixture {
    address internal alice;
    address internal bob;
    address internal carol;
    address internal dave;

    bytes32 internal constant REF = bytes32("stream-42");
    uint64 internal constant WHEN = 1_700_000_000;

    function setUp() public override {
        super.setUp();
        alice = makeAddr("alice");
        bob = makeAddr("bob");
        carol = makeAddr("carol");
        dave = makeAddr("dave");
        router.bindDisputes(address(this));
    }

    /// @dev The router asks its disputes contract about derivatives of held works: never held here.
    function descendantRegistered(uint256, uint256, address) external pure returns (bool) {
        return false;
    }

    // ------------------------------------------------------------------ builders

    function _heritage(address account) internal returns (uint256) {
        return _registerHeritageOf(communityA, a1, _open(0), _split(account));
    }

    function _heritageWith(Protocol memory protocol, Recipient[] memory split) internal returns (uint256) {
        return _registerHeritageOf(communityA, a1, protocol, split);
    }

    /// @notice Registers a derivative expecting `revertData` from the router.
    function _deriveExpectingRevert(
        uint256[] memory parents,
        uint32[] memory ppms,
        Recipient[] memory split,
        bytes memory revertData
    ) internal {
        DerivativeParams memory p = _derivativeParams(parents, ppms, split);
        vm.prank(creator);
        vm.expectRevert(revertData);
        registry.registerDerivative(p);
    }

    function _nextId() internal view returns (uint256) {
        return registry.workCount() + 1;
    }

    function _split2(address x, uint32 px, address y, uint32 py) internal pure returns (Recipient[] memory s) {
        s = new Recipient[](2);
        s[0] = Recipient(x, px);
        s[1] = Recipient(y, py);
    }

    function _split3(address x, uint32 px, address y, uint32 py, address z, uint32 pz)
        internal
        pure
        returns (Recipient[] memory s)
    {
        s = new Recipient[](3);
        s[0] = Recipient(x, px);
        s[1] = Recipient(y, py);
        s[2] = Recipient(z, pz);
    }

    /// @notice `n` heritage works of community A, each paying its own fresh account.
    function _heritages(uint256 n) internal returns (uint256[] memory ids) {
        ids = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            ids[i] = _heritage(address(uint160(0xA000 + i)));
        }
    }

    function _equalPpms(uint256 n, uint32 each) internal pure returns (uint32[] memory ppms) {
        ppms = new uint32[](n);
        for (uint256 i; i < n; ++i) {
            ppms[i] = each;
        }
    }

    function _concat(uint256[] memory head, uint256[] memory tail, uint256 tailCount)
        internal
        pure
        returns (uint256[] memory out)
    {
        out = new uint256[](head.length + tailCount);
        for (uint256 i; i < head.length; ++i) {
            out[i] = head[i];
        }
        for (uint256 i; i < tailCount; ++i) {
            out[head.length + i] = tail[i];
        }
    }

    function _payEth(uint256 workId, uint256 amount) internal {
        vm.prank(payer);
        router.pay{value: amount}(workId, REF, WHEN);
    }

    function _payToken(PlainERC20 t, uint256 workId, uint256 amount) internal {
        t.mint(payer, amount);
        vm.startPrank(payer);
        t.approve(address(router), amount);
        router.payToken(workId, address(t), amount, REF, WHEN);
        vm.stopPrank();
    }

    function _pendingDerivative() internal returns (uint256 h, uint256 d) {
        Protocol memory consent = _open(0);
        consent.consentRequired = true;
        h = _heritageWith(consent, _split(treasuryA));
        d = _derive(_one(h), _ppm(200_000), _split(bob));
    }

    /// @dev Two of community A's stewards (its threshold) reject derivative `d`.
    function _rejectBy(uint256 d, address first, address second) internal {
        vm.prank(first);
        gov.rejectDerivative(d, communityA);
        vm.prank(second);
        gov.rejectDerivative(d, communityA);
    }

    function _restricted() internal returns (uint256 id) {
        vm.prank(a1);
        id = gov.registerRestrictedWork(communityA, keccak256("salt|cid"), "", 1 << 14, 1, new bytes32[](0));
    }

    /// @notice A fresh router whose registry is this test contract, for paths the real registry
    ///         never takes.
    function _rawRouter() internal returns (RoyaltyRouter r) {
        r = new RoyaltyRouter();
        r.bindRegistry(address(this));
    }

    /// @notice Heritage work h (split: alice) and its derivative d (20% upstream, split bob 60% /
    ///         carol 40%), with d's own share held by dispute 7.
    function _disputed() internal returns (uint256 h, uint256 d) {
        h = _heritage(alice);
        d = _derive(_one(h), _ppm(200_000), _split2(bob, 600_000, carol, 400_000));
        router.holdEscrow(d, 7);
    }

    /// @dev Upheld: the whole escrow to treasuryA (award PPM); dismissed: all to the split.
    function _resolve(uint256 d, bool upheld) internal {
        router.endHold(d, upheld ? treasuryA : address(0), upheld ? 1_000_000 : 0);
    }

    // ------------------------------------------------------------------ bindRegistry

    function test_bindRegistry_BindsOnceAndEmits() public {
        RoyaltyRouter fresh = new RoyaltyRouter();
        assertEq(fresh.registry(), address(0));
        vm.expectEmit(true, false, false, true, address(fresh));
        emit RoyaltyRouter.RegistryBound(address(registry));
        fresh.bindRegistry(address(registry));
        assertEq(fresh.registry(), address(registry));
    }

    function test_bindRegistry_RevertWhen_CallerNotBinder() public {
        RoyaltyRouter fresh = new RoyaltyRouter();
        vm.prank(creator);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterNotBinder.selector, creator));
        fresh.bindRegistry(address(registry));
        assertEq(fresh.registry(), address(0));
    }

    function test_bindRegistry_RevertWhen_AlreadyBound() public {
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterAlreadyBound.selector, address(registry)));
        router.bindRegistry(creator);
        assertEq(router.registry(), address(registry));
    }

    function test_bindRegistry_RevertWhen_ZeroRegistry() public {
        RoyaltyRouter fresh = new RoyaltyRouter();
        vm.expectRevert(RoyaltyRouter.RouterZeroRegistry.selector);
        fresh.bindRegistry(address(0));
    }

    // ------------------------------------------------------------------ onlyRegistry

    function test_configureHeritage_RevertWhen_CallerNotRegistry() public {
        vm.prank(a1); // a steward, but not the registry
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterNotRegistry.selector, a1));
        router.configureHeritage(1, _split(a1), false);
    }

    function test_configureDerivative_RevertWhen_CallerNotRegistry() public {
        uint256 h = _heritage(alice);
        vm.prank(creator);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterNotRegistry.selector, creator));
        router.configureDerivative(h + 1, creator, _one(h), _ppm(100_000), _split(creator), false);
    }

    function test_setStatus_RevertWhen_CallerNotRegistry() public {
        (, uint256 d) = _pendingDerivative();
        vm.prank(creator);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterNotRegistry.selector, creator));
        router.setStatus(d, WorkStatus.Active);
        assertEq(uint256(router.statusOf(d)), uint256(WorkStatus.Pending));
    }

    function test_setSplit_RevertWhen_CallerNotRegistry() public {
        uint256 h = _heritage(alice);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterNotRegistry.selector, alice));
        router.setSplit(h, _split(bob));
    }

    function test_holdEscrow_RevertWhen_CallerNotDisputes() public {
        uint256 h = _heritage(alice);
        uint256 d = _derive(_one(h), _ppm(100_000), _split(bob));
        vm.prank(address(registry));
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterNotDisputes.selector, address(registry)));
        router.holdEscrow(d, 1);
    }

    function test_endHold_RevertWhen_CallerNotDisputes() public {
        (, uint256 d) = _disputed();
        _payEth(d, 1000);
        vm.prank(a1);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterNotDisputes.selector, a1));
        router.endHold(d, a1, 1_000_000);
        assertEq(router.escrowOf(d, address(0)), 800);
    }

    function test_bindDisputes_RevertWhen_AlreadyBoundOrNotBinder() public {
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterAlreadyBound.selector, address(this)));
        router.bindDisputes(creator);
        RoyaltyRouter fresh = new RoyaltyRouter();
        vm.prank(creator);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterNotBinder.selector, creator));
        fresh.bindDisputes(creator);
    }

    // ------------------------------------------------------------------ configureHeritage

    function test_configureHeritage_RecordsNodeAndEmits() public {
        uint256 id = _nextId();
        Recipient[] memory split = _split2(alice, 700_000, bob, 300_000);
        HeritageParams memory params = _heritageParams(communityA, _open(0), split);
        vm.prank(a1); // v2: a split beside the treasury needs community A's 2 of 3; this is the first
        assertEq(registry.registerHeritageWork(params), 0);
        vm.expectEmit(true, false, false, true, address(router));
        emit RoyaltyRouter.WorkConfigured(id, WorkStatus.Active, 0, 1);
        vm.expectEmit(true, false, false, true, address(router));
        emit RoyaltyRouter.SplitSet(id, split);
        vm.prank(a2);
        uint256 h = registry.registerHeritageWork(params);
        assertEq(h, id);
        (WorkStatus status, uint256 depth, uint256 routeSize, uint256 upstream, uint256 disputedBy) = router.nodeOf(h);
        assertEq(uint256(status), uint256(WorkStatus.Active));
        assertEq(depth, 0);
        assertEq(routeSize, 1);
        assertEq(upstream, 0);
        assertEq(disputedBy, 0);
        (uint256[] memory parents,) = router.parentsOf(h);
        assertEq(parents.length, 0);
        Recipient[] memory stored = router.splitOf(h);
        assertEq(stored.length, 2);
        assertEq(stored[0].account, alice);
        assertEq(stored[0].ppm, 700_000);
        assertEq(stored[1].account, bob);
        assertEq(stored[1].ppm, 300_000);
    }

    function test_configureHeritage_RestrictedWorkHasNoTable() public {
        uint256 id = _nextId();
        vm.expectEmit(true, false, false, true, address(router));
        emit RoyaltyRouter.WorkConfigured(id, WorkStatus.Restricted, 0, 1);
        uint256 r = _restricted();
        assertEq(uint256(router.statusOf(r)), uint256(WorkStatus.Restricted));
        assertEq(router.routeTableOf(r), address(0));
        assertEq(router.splitOf(r).length, 0);
        (uint256[] memory parents,) = router.parentsOf(r);
        assertEq(parents.length, 0);
    }

    function test_configureHeritage_RevertWhen_SplitInvalid() public {
        Recipient[][] memory bad = new Recipient[][](6);
        bad[0] = _split2(alice, 500_000, bob, 499_999); // sums to 999,999
        bad[1] = _split2(alice, 500_000, bob, 500_001); // sums to 1,000,001
        bad[2] = new Recipient[](0); // empty
        bad[3] = _splitN(33, 1); // too many recipients
        bad[4] = _split2(address(0), 500_000, bob, 500_000); // zero account
        bad[5] = _split2(alice, 1_000_000, bob, 0); // zero share
        for (uint256 i; i < bad.length; ++i) {
            uint256 id = _nextId();
            HeritageParams memory params = _heritageParams(communityA, _open(0), bad[i]);
            vm.prank(a1); // v2: the first approval only records; the router sees the split at the second
            assertEq(registry.registerHeritageWork(params), 0);
            vm.prank(a2);
            vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterInvalidSplit.selector, id));
            registry.registerHeritageWork(params);
        }
        assertEq(registry.workCount(), 0);
    }

    function test_configureHeritage_RevertWhen_WorkExists() public {
        RoyaltyRouter raw = _rawRouter();
        raw.configureHeritage(1, _split(alice), false);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterWorkExists.selector, 1));
        raw.configureHeritage(1, _split(bob), false);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterWorkExists.selector, 1));
        raw.configureHeritage(1, new Recipient[](0), true);
        assertEq(raw.splitOf(1)[0].account, alice);
    }

    // ------------------------------------------------------------------ configureDerivative

    function test_configureDerivative_RecordsNodeAndEmits() public {
        uint256 hA = _heritage(alice);
        uint256 hB = _registerHeritageOf(communityB, b1, _open(0), _split(treasuryB));
        uint256 d1 = _derive(_one(hA), _ppm(300_000), _split(bob));
        uint256 id = _nextId();
        uint256[] memory parents = Pairs.uints(d1, hB);
        uint32[] memory ppms = Pairs.ppms(100_000, 50_000);
        Recipient[] memory split = _split(carol);
        vm.expectEmit(true, false, false, true, address(router));
        emit RoyaltyRouter.WorkConfigured(id, WorkStatus.Active, 2, 4);
        vm.expectEmit(true, false, false, true, address(router));
        emit RoyaltyRouter.LineageSet(id, parents, ppms);
        vm.expectEmit(true, false, false, true, address(router));
        emit RoyaltyRouter.SplitSet(id, split);
        uint256 d2 = _derive(parents, ppms, split);
        assertEq(d2, id);

        (WorkStatus status, uint256 depth, uint256 routeSize, uint256 upstream, uint256 disputedBy) = router.nodeOf(d2);
        assertEq(uint256(status), uint256(WorkStatus.Active));
        assertEq(depth, 2);
        assertEq(routeSize, 4); // d2, d1, hA, hB
        assertEq(upstream, 150_000);
        assertEq(disputedBy, 0);
        assertEq(router.depthOf(d2), 2);
        assertEq(router.depthOf(d1), 1);
        assertEq(uint256(router.statusOf(d2)), uint256(WorkStatus.Active));
        (uint256[] memory gotParents, uint32[] memory gotPpms) = router.parentsOf(d2);
        assertEq(gotParents.length, 2);
        assertEq(gotParents[0], d1);
        assertEq(gotParents[1], hB);
        assertEq(gotPpms[0], 100_000);
        assertEq(gotPpms[1], 50_000);
    }

    function test_configureDerivative_PendingWhenConsentRequired() public {
        (, uint256 d) = _pendingDerivative();
        assertEq(uint256(router.statusOf(d)), uint256(WorkStatus.Pending));
    }

    function test_configureDerivative_EightParentsAccepted() public {
        uint256[] memory hs = _heritages(8);
        uint256 d = _derive(hs, _equalPpms(8, 10_000), _split(bob));
        (, uint256 depth, uint256 routeSize, uint256 upstream,) = router.nodeOf(d);
        assertEq(depth, 1);
        assertEq(routeSize, 9);
        assertEq(upstream, 80_000);
    }

    function test_configureDerivative_RevertWhen_NineParents() public {
        uint256[] memory hs = _heritages(9);
        _deriveExpectingRevert(
            hs,
            _equalPpms(9, 10_000),
            _split(bob),
            abi.encodeWithSelector(RoyaltyRouter.RouterTooManyParents.selector, 9, 8)
        );
    }

    function test_configureDerivative_RevertWhen_DuplicateParent() public {
        uint256 h = _heritage(alice);
        uint256 other = _heritage(bob);
        uint256[] memory parents = new uint256[](3);
        (parents[0], parents[1], parents[2]) = (h, other, h);
        _deriveExpectingRevert(
            parents,
            _equalPpms(3, 100_000),
            _split(carol),
            abi.encodeWithSelector(RoyaltyRouter.RouterDuplicateParent.selector, h)
        );
    }

    function test_configureDerivative_RevertWhen_DepthNine() public {
        uint256 w = _heritage(alice);
        for (uint256 depth = 1; depth <= 8; ++depth) {
            w = _derive(_one(w), _ppm(100_000), _split(bob));
            assertEq(router.depthOf(w), depth);
        }
        _deriveExpectingRevert(
            _one(w),
            _ppm(100_000),
            _split(bob),
            abi.encodeWithSelector(RoyaltyRouter.RouterLineageTooDeep.selector, 9, 8)
        );
    }

    function test_configureDerivative_DepthIsLongestPath() public {
        uint256 h = _heritage(alice);
        uint256 w = h;
        for (uint256 i; i < 3; ++i) {
            w = _derive(_one(w), _ppm(100_000), _split(bob));
        }
        uint256 d = _derive(Pairs.uints(h, w), Pairs.ppms(100_000, 100_000), _split(carol));
        assertEq(router.depthOf(d), 4);
    }

    /// @dev Route sizes: B1 = [h1..h8] 9; B2 = [B1, h1..h7] 17; B3 = [B1, B2, h1..h6] 33;
    ///      [B1, B2, B3, h1..h4] 64 (accepted); [B1, B2, B3, h1..h5] 65 (refused).
    function test_configureDerivative_RevertWhen_RouteAbove64() public {
        uint256[] memory hs = _heritages(8);
        uint256 b1w = _derive(hs, _equalPpms(8, 1_000), _split(bob));
        uint256 b2w = _derive(_concat(_one(b1w), hs, 7), _equalPpms(8, 1_000), _split(bob));
        uint256 b3w = _derive(_concat(Pairs.uints(b1w, b2w), hs, 6), _equalPpms(8, 1_000), _split(bob));
        uint256[] memory three = new uint256[](3);
        (three[0], three[1], three[2]) = (b1w, b2w, b3w);
        (, , uint256 size3,,) = router.nodeOf(b3w);
        assertEq(size3, 33);

        uint256 ok = _derive(_concat(three, hs, 4), _equalPpms(7, 1_000), _split(carol));
        (, , uint256 size,,) = router.nodeOf(ok);
        assertEq(size, 64);

        _deriveExpectingRevert(
            _concat(three, hs, 5),
            _equalPpms(8, 1_000),
            _split(carol),
            abi.encodeWithSelector(RoyaltyRouter.RouterRouteTooLarge.selector, 65, 64)
        );

        // The largest route still pays out every wei.
        _payEth(ok, 1 ether + 12_345);
        uint256 total = router.balanceOf(address(0), bob) + router.balanceOf(address(0), carol);
        for (uint256 i; i < hs.length; ++i) {
            total += router.balanceOf(address(0), address(uint160(0xA000 + i)));
        }
        assertEq(total, 1 ether + 12_345);
    }

    function test_configureDerivative_RevertWhen_SplitInvalid() public {
        uint256 h = _heritage(alice);
        Recipient[][] memory bad = new Recipient[][](6);
        bad[0] = _split2(bob, 500_000, carol, 499_999);
        bad[1] = _split2(bob, 500_000, carol, 500_001);
        bad[2] = new Recipient[](0);
        bad[3] = _splitN(33, 2);
        bad[4] = _split2(bob, 500_000, address(0), 500_000);
        bad[5] = _split2(bob, 0, carol, 1_000_000);
        for (uint256 i; i < bad.length; ++i) {
            _deriveExpectingRevert(
                _one(h),
                _ppm(100_000),
                bad[i],
                abi.encodeWithSelector(RoyaltyRouter.RouterInvalidSplit.selector, _nextId())
            );
        }
    }

    function test_configureDerivative_ThirtyTwoRecipientsAccepted() public {
        uint256 h = _heritage(alice);
        Recipient[] memory split = _splitN(32, 3);
        uint256 d = _derive(_one(h), _ppm(100_000), split);
        Recipient[] memory stored = router.splitOf(d);
        assertEq(stored.length, 32);
        for (uint256 j; j < 32; ++j) {
            assertEq(stored[j].account, split[j].account);
            assertEq(stored[j].ppm, split[j].ppm);
        }
    }

    function test_configureDerivative_RevertWhen_LineageInvalid() public {
        uint256 h1 = _heritage(alice);
        uint256 h2 = _heritage(bob);
        uint256 id = _nextId();
        bytes memory invalid = abi.encodeWithSelector(RoyaltyRouter.RouterInvalidLineage.selector, id);
        _deriveExpectingRevert(Pairs.uints(h1, h2), Pairs.ppms(100_000, 0), _split(carol), invalid); // a zero share
        _deriveExpectingRevert(Pairs.uints(h1, h2), _ppm(100_000), _split(carol), invalid); // fewer shares
        _deriveExpectingRevert(_one(h1), Pairs.ppms(100_000, 100_000), _split(carol), invalid); // more shares
        _deriveExpectingRevert(Pairs.uints(h1, h2), Pairs.ppms(600_000, 400_001), _split(carol), invalid); // above PPM
        _deriveExpectingRevert(new uint256[](0), new uint32[](0), _split(carol), invalid); // no parent
    }

    function test_configureDerivative_AllUpstreamAccepted() public {
        uint256 h1 = _heritage(alice);
        uint256 h2 = _heritage(bob);
        uint256 d = _derive(Pairs.uints(h1, h2), Pairs.ppms(600_000, 400_000), _split(carol));
        _payEth(d, 1001);
        assertEq(router.balanceOf(address(0), alice), 600);
        assertEq(router.balanceOf(address(0), bob), 400);
        assertEq(router.balanceOf(address(0), carol), 1); // the rounding remainder stays with the work
    }

    function test_configureDerivative_RevertWhen_ParentPending() public {
        (, uint256 pending) = _pendingDerivative();
        _deriveExpectingRevert(
            _one(pending),
            _ppm(100_000),
            _split(carol),
            abi.encodeWithSelector(RoyaltyRouter.RouterParentNotActive.selector, pending, WorkStatus.Pending)
        );
    }

    function test_configureDerivative_RevertWhen_ParentRejected() public {
        (, uint256 d) = _pendingDerivative();
        _rejectBy(d, a1, a2);
        _deriveExpectingRevert(
            _one(d),
            _ppm(100_000),
            _split(carol),
            abi.encodeWithSelector(RoyaltyRouter.RouterParentNotActive.selector, d, WorkStatus.Rejected)
        );
    }

    function test_configureDerivative_RevertWhen_ParentRestrictedOrUnknown() public {
        RoyaltyRouter raw = _rawRouter();
        raw.configureHeritage(1, new Recipient[](0), true);
        vm.expectRevert(
            abi.encodeWithSelector(RoyaltyRouter.RouterParentNotActive.selector, 1, WorkStatus.Restricted)
        );
        raw.configureDerivative(2, creator, _one(1), _ppm(100_000), _split(bob), false);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterParentNotActive.selector, 99, WorkStatus.None));
        raw.configureDerivative(2, creator, _one(99), _ppm(100_000), _split(bob), false);
    }

    function test_configureDerivative_RevertWhen_WorkExists() public {
        RoyaltyRouter raw = _rawRouter();
        raw.configureHeritage(1, _split(alice), false);
        raw.configureDerivative(2, creator, _one(1), _ppm(100_000), _split(bob), false);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterWorkExists.selector, 2));
        raw.configureDerivative(2, creator, _one(1), _ppm(100_000), _split(carol), false);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterWorkExists.selector, 1));
        raw.configureDerivative(1, creator, _one(2), _ppm(100_000), _split(carol), false);
    }

    // ------------------------------------------------------------------ setStatus

    function test_setStatus_ConsentActivatesAndEmits() public {
        (, uint256 d) = _pendingDerivative();
        vm.prank(a1);
        gov.approveDerivative(d, communityA);
        assertEq(uint256(router.statusOf(d)), uint256(WorkStatus.Pending));
        vm.expectEmit(true, false, false, true, address(router));
        emit RoyaltyRouter.StatusChanged(d, WorkStatus.Active);
        vm.prank(a2);
        gov.approveDerivative(d, communityA);
        assertEq(uint256(router.statusOf(d)), uint256(WorkStatus.Active));
        _payEth(d, 1000);
        assertEq(router.balanceOf(address(0), treasuryA), 200);
        assertEq(router.balanceOf(address(0), bob), 800);
    }

    function test_setStatus_RejectionEmits() public {
        (, uint256 d) = _pendingDerivative();
        vm.prank(a1);
        gov.rejectDerivative(d, communityA);
        vm.expectEmit(true, false, false, true, address(router));
        emit RoyaltyRouter.StatusChanged(d, WorkStatus.Rejected);
        vm.prank(a2);
        gov.rejectDerivative(d, communityA);
        assertEq(uint256(router.statusOf(d)), uint256(WorkStatus.Rejected));
    }

    function test_setStatus_RevertWhen_UnknownWork() public {
        RoyaltyRouter raw = _rawRouter();
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterUnknownWork.selector, 7));
        raw.setStatus(7, WorkStatus.Active);
    }

    // ------------------------------------------------------------------ setSplit

    function test_setSplit_ReplacesSplitAndKeepsLineage() public {
        uint256 h = _heritage(treasuryA);
        uint256 d = _derive(_one(h), _ppm(250_000), _split(creator));
        address oldTable = router.routeTableOf(d);
        Recipient[] memory split = _split2(alice, 500_000, bob, 500_000);
        vm.expectEmit(true, false, false, true, address(router));
        emit RoyaltyRouter.SplitSet(d, split);
        vm.prank(creator); // the derivative's owner
        gov.setSplit(d, split);

        assertTrue(router.routeTableOf(d) != oldTable, "a new table is written");
        (uint256[] memory parents, uint32[] memory ppms) = router.parentsOf(d);
        assertEq(parents.length, 1);
        assertEq(parents[0], h);
        assertEq(ppms[0], 250_000);
        _payEth(d, 1001);
        assertEq(router.balanceOf(address(0), treasuryA), 250);
        assertEq(router.balanceOf(address(0), bob), 375); // floor(751 / 2)
        assertEq(router.balanceOf(address(0), alice), 376); // recipient 0 takes the remainder
        assertEq(router.balanceOf(address(0), creator), 0);
    }

    function test_setSplit_RevertWhen_SplitInvalid() public {
        uint256 h = _heritage(alice);
        vm.prank(a1); // v2: a heritage split change applies at the second approval
        assertFalse(gov.setSplit(h, _split2(bob, 1, carol, 1)));
        vm.prank(a2);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterInvalidSplit.selector, h));
        gov.setSplit(h, _split2(bob, 1, carol, 1));
        assertEq(router.splitOf(h)[0].account, alice);
    }

    function test_setSplit_RevertWhen_WorkRestricted() public {
        uint256 r = _restricted();
        vm.prank(a1);
        // v2: the governance refuses a split for a restricted work before the router is asked.
        vm.expectRevert(abi.encodeWithSelector(RegistryCore.RegistryRestrictedMismatch.selector, r));
        gov.setSplit(r, _split(alice));
    }

    function test_setSplit_RevertWhen_UnknownWork() public {
        RoyaltyRouter raw = _rawRouter();
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterUnknownWork.selector, 3));
        raw.setSplit(3, _split(alice));
    }

    // ------------------------------------------------------------------ pay

    function test_pay_CreditsSplitByRoundingRule() public {
        uint256 h = _heritageWith(_open(0), _split3(alice, 333_334, bob, 333_333, carol, 333_333));
        _payEth(h, 100);
        assertEq(router.balanceOf(address(0), bob), 33);
        assertEq(router.balanceOf(address(0), carol), 33);
        assertEq(router.balanceOf(address(0), alice), 34); // floor share 33 + the 1 wei remainder
        _payEth(h, 2);
        assertEq(router.balanceOf(address(0), bob), 33);
        assertEq(router.balanceOf(address(0), carol), 33);
        assertEq(router.balanceOf(address(0), alice), 36);
        assertEq(address(router).balance, 102);
    }

    function test_pay_EmitsPaid() public {
        uint256 h = _heritage(alice);
        vm.expectEmit(true, true, true, true, address(router));
        emit RoyaltyRouter.Paid(h, address(0), payer, 1 ether, REF, WHEN);
        _payEth(h, 1 ether);
    }

    function test_pay_CascadesUpTheLineage() public {
        uint256 h = _heritage(alice);
        uint256 d1 = _derive(_one(h), _ppm(300_000), _split(bob));
        uint256 d2 = _derive(_one(d1), _ppm(200_000), _split(carol));
        _payEth(d2, 999);
        // d1 gets floor(999 * 0.2) = 199 and sends floor(199 * 0.3) = 59 on to h.
        assertEq(router.balanceOf(address(0), alice), 59);
        assertEq(router.balanceOf(address(0), bob), 140);
        assertEq(router.balanceOf(address(0), carol), 800);
    }

    function test_pay_EachParentGetsItsFloorAndTheWorkKeepsTheRest() public {
        uint256 hA = _heritage(alice);
        uint256 hB = _registerHeritageOf(communityB, b1, _open(0), _split(bob));
        uint256 d = _derive(Pairs.uints(hA, hB), Pairs.ppms(333_333, 166_667), _split(carol));
        _payEth(d, 10);
        assertEq(router.balanceOf(address(0), alice), 3); // floor(3.33333)
        assertEq(router.balanceOf(address(0), bob), 1); // floor(1.66667)
        assertEq(router.balanceOf(address(0), carol), 6);
    }

    function test_pay_ShareRoundingToZeroSkipsParent() public {
        uint256 h = _heritage(alice);
        uint256 d = _derive(_one(h), _ppm(250_000), _split(bob));
        _payEth(d, 3);
        assertEq(router.balanceOf(address(0), alice), 0);
        assertEq(router.balanceOf(address(0), bob), 3);
    }

    function test_pay_SharedAncestorPaidOncePerPath() public {
        uint256 h = _heritage(alice);
        uint256 d1 = _derive(_one(h), _ppm(500_000), _split(bob));
        uint256 d2 = _derive(Pairs.uints(h, d1), Pairs.ppms(100_000, 200_000), _split(carol));
        (, , uint256 routeSize,,) = router.nodeOf(d2);
        assertEq(routeSize, 4); // d2, h, d1, h again
        _payEth(d2, 1000);
        assertEq(router.balanceOf(address(0), alice), 100 + 100);
        assertEq(router.balanceOf(address(0), bob), 100);
        assertEq(router.balanceOf(address(0), carol), 700);
    }

    function test_pay_AcceptsMaxPayment() public {
        uint256 h = _heritage(alice);
        uint256 d = _derive(_one(h), _ppm(999_999), _split2(bob, 1, carol, 999_999));
        uint256 max = router.MAX_PAYMENT();
        assertEq(max, type(uint256).max / 1_000_000);
        vm.deal(payer, max);
        _payEth(d, max);
        uint256 toH = max * 999_999 / 1_000_000;
        uint256 own = max - toH;
        uint256 toCarol = own * 999_999 / 1_000_000;
        assertEq(router.balanceOf(address(0), alice), toH);
        assertEq(router.balanceOf(address(0), carol), toCarol);
        assertEq(router.balanceOf(address(0), bob), own - toCarol);
    }

    function test_pay_RevertWhen_AmountZero() public {
        uint256 h = _heritage(alice);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterInvalidAmount.selector, 0));
        router.pay{value: 0}(h, REF, WHEN);
    }

    function test_pay_RevertWhen_AmountAboveMaxPayment() public {
        uint256 h = _heritage(alice);
        uint256 tooMuch = router.MAX_PAYMENT() + 1;
        vm.deal(payer, tooMuch);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterInvalidAmount.selector, tooMuch));
        router.pay{value: tooMuch}(h, REF, WHEN);
    }

    /// @dev The router answers an unknown work with RouterWorkNotPayable(id, None), not
    ///      RouterUnknownWork (which it keeps for the registry-only functions).
    function test_pay_RevertWhen_UnknownWork() public {
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterWorkNotPayable.selector, 999, WorkStatus.None));
        router.pay{value: 1 ether}(999, REF, WHEN);
    }

    function test_pay_RevertWhen_WorkPending() public {
        (, uint256 d) = _pendingDerivative();
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterWorkNotPayable.selector, d, WorkStatus.Pending));
        router.pay{value: 1 ether}(d, REF, WHEN);
    }

    function test_pay_RevertWhen_WorkRejected() public {
        (, uint256 d) = _pendingDerivative();
        _rejectBy(d, a1, a3);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterWorkNotPayable.selector, d, WorkStatus.Rejected));
        router.pay{value: 1 ether}(d, REF, WHEN);
    }

    function test_pay_RevertWhen_WorkRestricted() public {
        uint256 r = _restricted();
        vm.prank(payer);
        vm.expectRevert(
            abi.encodeWithSelector(RoyaltyRouter.RouterWorkNotPayable.selector, r, WorkStatus.Restricted)
        );
        router.pay{value: 1 ether}(r, REF, WHEN);
    }

    // ------------------------------------------------------------------ payBatch

    function _batch(uint256 h, uint256 d)
        internal
        pure
        returns (uint256[] memory ids, uint256[] memory amounts, bytes32[] memory refs, uint64[] memory times)
    {
        ids = new uint256[](3);
        (ids[0], ids[1], ids[2]) = (h, d, h);
        amounts = new uint256[](3);
        (amounts[0], amounts[1], amounts[2]) = (100, 1000, 7);
        refs = new bytes32[](3);
        (refs[0], refs[1], refs[2]) = (bytes32("u1"), bytes32("u2"), bytes32("u3"));
        times = new uint64[](3);
        (times[0], times[1], times[2]) = (11, 22, 33);
    }

    function test_payBatch_CreditsMixedWorksAndEmitsEach() public {
        uint256 h = _heritage(alice);
        uint256 d = _derive(_one(h), _ppm(100_000), _split(bob));
        (uint256[] memory ids, uint256[] memory amounts, bytes32[] memory refs, uint64[] memory times) = _batch(h, d);
        for (uint256 i; i < 3; ++i) {
            vm.expectEmit(true, true, true, true, address(router));
            emit RoyaltyRouter.Paid(ids[i], address(0), payer, amounts[i], refs[i], times[i]);
        }
        vm.prank(payer);
        router.payBatch{value: 1107}(ids, amounts, refs, times);
        assertEq(router.balanceOf(address(0), alice), 100 + 100 + 7);
        assertEq(router.balanceOf(address(0), bob), 900);
        assertEq(address(router).balance, 1107);
    }

    function test_payBatch_EmptyBatchDoesNothing() public {
        vm.prank(payer);
        router.payBatch(new uint256[](0), new uint256[](0), new bytes32[](0), new uint64[](0));
        assertEq(address(router).balance, 0);
    }

    function test_payBatch_RevertWhen_LengthMismatch() public {
        uint256 h = _heritage(alice);
        (uint256[] memory ids, uint256[] memory amounts, bytes32[] memory refs, uint64[] memory times) = _batch(h, h);
        uint256[] memory twoAmounts = Pairs.uints(100, 1000);
        bytes32[] memory twoRefs = new bytes32[](2);
        uint64[] memory twoTimes = new uint64[](2);
        vm.startPrank(payer);
        vm.expectRevert(RoyaltyRouter.RouterBatchLengthMismatch.selector);
        router.payBatch{value: 1100}(ids, twoAmounts, refs, times);
        vm.expectRevert(RoyaltyRouter.RouterBatchLengthMismatch.selector);
        router.payBatch{value: 1107}(ids, amounts, twoRefs, times);
        vm.expectRevert(RoyaltyRouter.RouterBatchLengthMismatch.selector);
        router.payBatch{value: 1107}(ids, amounts, refs, twoTimes);
        vm.stopPrank();
    }

    function test_payBatch_RevertWhen_ValueMismatch() public {
        uint256 h = _heritage(alice);
        (uint256[] memory ids, uint256[] memory amounts, bytes32[] memory refs, uint64[] memory times) = _batch(h, h);
        vm.startPrank(payer);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterValueMismatch.selector, 1106, 1107));
        router.payBatch{value: 1106}(ids, amounts, refs, times);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterValueMismatch.selector, 1108, 1107));
        router.payBatch{value: 1108}(ids, amounts, refs, times);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterValueMismatch.selector, 1, 0));
        router.payBatch{value: 1}(new uint256[](0), new uint256[](0), new bytes32[](0), new uint64[](0));
        vm.stopPrank();
        assertEq(router.balanceOf(address(0), alice), 0);
    }

    function test_payBatch_RevertWhen_AmountZero() public {
        uint256 h = _heritage(alice);
        (uint256[] memory ids, uint256[] memory amounts, bytes32[] memory refs, uint64[] memory times) = _batch(h, h);
        amounts[1] = 0;
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterInvalidAmount.selector, 0));
        router.payBatch{value: 107}(ids, amounts, refs, times);
    }

    function test_payBatch_RevertWhen_AnyWorkNotPayable() public {
        uint256 h = _heritage(alice);
        (, uint256 pending) = _pendingDerivative();
        (uint256[] memory ids, uint256[] memory amounts, bytes32[] memory refs, uint64[] memory times) =
            _batch(h, pending);
        vm.prank(payer);
        vm.expectRevert(
            abi.encodeWithSelector(RoyaltyRouter.RouterWorkNotPayable.selector, pending, WorkStatus.Pending)
        );
        router.payBatch{value: 1107}(ids, amounts, refs, times);
        assertEq(router.balanceOf(address(0), alice), 0);
    }

    // ------------------------------------------------------------------ payToken

    function test_payToken_CreditsErc20ThroughLineage() public {
        PlainERC20 t = new PlainERC20();
        uint256 h = _heritage(alice);
        uint256 d = _derive(_one(h), _ppm(250_000), _split2(bob, 500_000, carol, 500_000));
        t.mint(payer, 1001);
        vm.startPrank(payer);
        t.approve(address(router), 1001);
        vm.expectEmit(true, true, true, true, address(router));
        emit RoyaltyRouter.Paid(d, address(t), payer, 1001, REF, WHEN);
        router.payToken(d, address(t), 1001, REF, WHEN);
        vm.stopPrank();
        assertEq(router.balanceOf(address(t), alice), 250);
        assertEq(router.balanceOf(address(t), carol), 375);
        assertEq(router.balanceOf(address(t), bob), 376);
        assertEq(router.balanceOf(address(0), bob), 0, "no ETH credit");
        assertEq(t.balanceOf(address(router)), 1001);
        assertEq(t.balanceOf(payer), 0);
    }

    function test_payToken_FeeOnTransferCreditsAmountReceived() public {
        FeeOnTransferToken t = new FeeOnTransferToken();
        uint256 h = _heritage(alice);
        uint256 d = _derive(_one(h), _ppm(250_000), _split(bob));
        t.mint(payer, 1000);
        vm.startPrank(payer);
        t.approve(address(router), 1000);
        vm.expectEmit(true, true, true, true, address(router));
        emit RoyaltyRouter.Paid(d, address(t), payer, 990, REF, WHEN); // 1% stayed with the token
        router.payToken(d, address(t), 1000, REF, WHEN);
        vm.stopPrank();
        assertEq(router.balanceOf(address(t), alice), 247); // floor(990 * 0.25)
        assertEq(router.balanceOf(address(t), bob), 743);
        assertEq(t.balanceOf(address(router)), 990);
    }

    function test_payToken_RevertWhen_TokenIsEth() public {
        uint256 h = _heritage(alice);
        vm.prank(payer);
        vm.expectRevert(RoyaltyRouter.RouterWrongEntryPoint.selector);
        router.payToken(h, address(0), 1 ether, REF, WHEN);
    }

    function test_payToken_RevertWhen_AmountZeroOrAboveMax() public {
        PlainERC20 t = new PlainERC20();
        uint256 h = _heritage(alice);
        uint256 tooMuch = router.MAX_PAYMENT() + 1;
        vm.startPrank(payer);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterInvalidAmount.selector, 0));
        router.payToken(h, address(t), 0, REF, WHEN);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterInvalidAmount.selector, tooMuch));
        router.payToken(h, address(t), tooMuch, REF, WHEN);
        vm.stopPrank();
    }

    function test_payToken_RevertWhen_WorkNotPayable() public {
        PlainERC20 t = new PlainERC20();
        (, uint256 d) = _pendingDerivative();
        t.mint(payer, 1000);
        vm.startPrank(payer);
        t.approve(address(router), 1000);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterWorkNotPayable.selector, d, WorkStatus.Pending));
        router.payToken(d, address(t), 1000, REF, WHEN);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterWorkNotPayable.selector, 999, WorkStatus.None));
        router.payToken(999, address(t), 1000, REF, WHEN);
        vm.stopPrank();
        assertEq(t.balanceOf(payer), 1000);
    }

    // ------------------------------------------------------------------ withdraw / withdrawTo

    function test_withdraw_SendsEthAndZeroesBalance() public {
        uint256 h = _heritageWith(_open(0), _split2(alice, 600_000, bob, 400_000));
        _payEth(h, 1 ether);
        vm.expectEmit(true, true, false, true, address(router));
        emit RoyaltyRouter.Withdrawn(alice, address(0), alice, 0.6 ether);
        vm.prank(alice);
        uint256 got = router.withdraw(address(0));
        assertEq(got, 0.6 ether);
        assertEq(alice.balance, 0.6 ether);
        assertEq(router.balanceOf(address(0), alice), 0);
        assertEq(router.balanceOf(address(0), bob), 0.4 ether, "others keep their balance");
        assertEq(address(router).balance, 0.4 ether);
    }

    function test_withdraw_SendsTokenAndZeroesBalance() public {
        PlainERC20 t = new PlainERC20();
        uint256 h = _heritage(alice);
        _payToken(t, h, 5e18);
        _payEth(h, 1 ether);
        vm.prank(alice);
        uint256 got = router.withdraw(address(t));
        assertEq(got, 5e18);
        assertEq(t.balanceOf(alice), 5e18);
        assertEq(t.balanceOf(address(router)), 0);
        assertEq(router.balanceOf(address(t), alice), 0);
        assertEq(router.balanceOf(address(0), alice), 1 ether, "the ETH balance is separate");
    }

    function test_withdraw_RevertWhen_NothingToWithdraw() public {
        PlainERC20 t = new PlainERC20();
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterNothingToWithdraw.selector, alice, address(0)));
        router.withdraw(address(0));
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterNothingToWithdraw.selector, alice, address(t)));
        router.withdraw(address(t));
        vm.stopPrank();
    }

    function test_withdraw_RevertWhen_AlreadyWithdrawn() public {
        uint256 h = _heritage(alice);
        _payEth(h, 1 ether);
        vm.startPrank(alice);
        router.withdraw(address(0));
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterNothingToWithdraw.selector, alice, address(0)));
        router.withdraw(address(0));
        vm.stopPrank();
        assertEq(alice.balance, 1 ether);
    }

    function test_withdraw_RevertWhen_ReceiverRefusesEth() public {
        RevertingReceiver r = new RevertingReceiver(router);
        uint256 h = _heritage(address(r));
        _payEth(h, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterTransferFailed.selector, address(r), 1 ether));
        r.withdraw();
        assertEq(router.balanceOf(address(0), address(r)), 1 ether);
    }

    function test_withdrawTo_SendsEthToAnotherAddress() public {
        RevertingReceiver r = new RevertingReceiver(router);
        uint256 h = _heritage(address(r));
        _payEth(h, 1 ether);
        vm.expectEmit(true, true, false, true, address(router));
        emit RoyaltyRouter.Withdrawn(address(r), address(0), carol, 1 ether);
        r.withdrawTo(carol);
        assertEq(carol.balance, 1 ether);
        assertEq(router.balanceOf(address(0), address(r)), 0);
        assertEq(router.balanceOf(address(0), carol), 0, "no credit moves to the receiver");
    }

    function test_withdrawTo_SendsTokenToAnotherAddress() public {
        PlainERC20 t = new PlainERC20();
        uint256 h = _heritage(alice);
        _payToken(t, h, 777);
        vm.prank(alice);
        uint256 got = router.withdrawTo(address(t), dave);
        assertEq(got, 777);
        assertEq(t.balanceOf(dave), 777);
        assertEq(t.balanceOf(alice), 0);
        assertEq(router.balanceOf(address(t), alice), 0);
    }

    function test_withdrawTo_RevertWhen_NothingToWithdraw() public {
        uint256 h = _heritage(alice);
        _payEth(h, 1 ether);
        vm.prank(bob); // bob names alice as the receiver but has nothing himself
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterNothingToWithdraw.selector, bob, address(0)));
        router.withdrawTo(address(0), alice);
        assertEq(router.balanceOf(address(0), alice), 1 ether);
    }

    // ------------------------------------------------------------------ receive

    function test_receive_RevertWhen_PlainEthTransfer() public {
        vm.prank(payer);
        (bool ok, bytes memory ret) = address(router).call{value: 1 ether}("");
        assertFalse(ok);
        assertEq(ret, abi.encodeWithSelector(RoyaltyRouter.RouterUnattributedPayment.selector));
        assertEq(address(router).balance, 0);
    }

    function test_fallback_RevertWhen_UnknownSelector() public {
        vm.prank(payer);
        (bool ok, bytes memory ret) = address(router).call{value: 1 ether}(hex"deadbeef");
        assertFalse(ok);
        assertEq(ret.length, 0);
    }

    // ------------------------------------------------------------------ escrow holds (v2)
    // v1 opened and closed disputes from the registry and released ETH and 8 tokens on close;
    // v2 holds escrow for HeritageDisputes and releases every token (ETH included) by its own
    // `releaseEscrow` call, so a close costs O(1) and no number of junk tokens blocks anything.

    function test_holdEscrow_RecordsDisputeAndEmits() public {
        uint256 h = _heritage(alice);
        uint256 d = _derive(_one(h), _ppm(200_000), _split(bob));
        vm.expectEmit(true, true, false, true, address(router));
        emit RoyaltyRouter.EscrowHeld(d, 9);
        router.holdEscrow(d, 9);
        (, , , , uint256 heldBy) = router.nodeOf(d);
        assertEq(heldBy, 9);
    }

    function test_holdEscrow_RevertWhen_UnknownWorkOrBadId() public {
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterUnknownWork.selector, 5));
        router.holdEscrow(5, 1);
        uint256 h = _heritage(alice);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterInvalidHold.selector, 0, 0));
        router.holdEscrow(h, 0);
        uint256 tooBig = uint256(type(uint24).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterInvalidHold.selector, tooBig, 0));
        router.holdEscrow(h, tooBig);
    }

    function test_holdEscrow_RevertWhen_AlreadyHeld() public {
        (, uint256 d) = _disputed();
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterAlreadyHeld.selector, d, 7));
        router.holdEscrow(d, 8);
    }

    function test_endHold_RevertWhen_NotHeldOrBadAward() public {
        uint256 h = _heritage(alice);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterNotHeld.selector, h));
        router.endHold(h, treasuryA, 0);
        (, uint256 d) = _disputed();
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterInvalidHold.selector, 7, 1_000_001));
        router.endHold(d, treasuryA, 1_000_001);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterInvalidHold.selector, 7, 1));
        router.endHold(d, address(0), 1);
    }

    function test_pay_EscrowsOwnShareWhileHeld() public {
        (, uint256 d) = _disputed();
        _payEth(d, 1001);
        assertEq(router.balanceOf(address(0), alice), 200, "the parent's share still flows");
        assertEq(router.escrowOf(d, address(0)), 801);
        assertEq(router.balanceOf(address(0), bob), 0);
        assertEq(router.balanceOf(address(0), carol), 0);
        assertEq(address(router).balance, 1001);
        assertEq(router.owedOf(address(0)), 1001);
    }

    function test_pay_HeldAncestorEscrowsOnlyItsOwnShare() public {
        (, uint256 d) = _disputed();
        uint256 child = _derive(_one(d), _ppm(500_000), _split(dave));
        _payEth(child, 1000);
        assertEq(router.balanceOf(address(0), dave), 500, "the child is not held");
        assertEq(router.escrowOf(child, address(0)), 0);
        assertEq(router.escrowOf(d, address(0)), 400);
        assertEq(router.balanceOf(address(0), alice), 100);
    }

    function test_releaseEscrow_UpheldCreditsTheAwardToTheBeneficiary() public {
        PlainERC20 t = new PlainERC20();
        (, uint256 d) = _disputed();
        _payEth(d, 1001);
        _payToken(t, d, 500);
        vm.expectEmit(true, true, true, true, address(router));
        emit RoyaltyRouter.HoldEnded(d, 7, treasuryA, 1_000_000);
        _resolve(d, true);
        vm.expectEmit(true, true, false, true, address(router));
        emit RoyaltyRouter.EscrowReleased(d, address(0), 801, 801);
        router.releaseEscrow(d, address(0));
        router.releaseEscrow(d, address(t));
        assertEq(router.balanceOf(address(0), treasuryA), 801);
        assertEq(router.balanceOf(address(t), treasuryA), 400);
        assertEq(router.escrowOf(d, address(0)) + router.escrowOf(d, address(t)), 0);
        assertEq(router.balanceOf(address(0), bob) + router.balanceOf(address(0), carol), 0);
        (, , , , uint256 heldBy) = router.nodeOf(d);
        assertEq(heldBy, 0);
        // After the hold, the work's own share goes to its split again.
        _payEth(d, 1000);
        assertEq(router.balanceOf(address(0), carol), 320);
        assertEq(router.balanceOf(address(0), bob), 480);
        assertEq(router.escrowOf(d, address(0)), 0);
    }

    /// @dev A partial award: floor(escrow x award / PPM) to the beneficiary, the rest to the split by rule.
    function test_releaseEscrow_PartialAwardSplitsTheRestByRule() public {
        (, uint256 d) = _disputed();
        _payEth(d, 1001); // 801 escrowed
        router.endHold(d, treasuryA, 333_333);
        router.releaseEscrow(d, address(0));
        assertEq(router.balanceOf(address(0), treasuryA), 266); // floor(801 * 0.333333)
        assertEq(router.balanceOf(address(0), carol), 214); // floor(535 * 0.4)
        assertEq(router.balanceOf(address(0), bob), 321); // the rest of 535
    }

    function test_releaseEscrow_DismissedCreditsEscrowToSplitByRule() public {
        (, uint256 d) = _disputed();
        _payEth(d, 1001); // 801 escrowed
        _payEth(d, 7); // 1 to the parent, 6 escrowed
        assertEq(router.escrowOf(d, address(0)), 807);
        _resolve(d, false);
        vm.expectEmit(true, true, false, true, address(router));
        emit RoyaltyRouter.EscrowReleased(d, address(0), 807, 0);
        router.releaseEscrow(d, address(0));
        assertEq(router.balanceOf(address(0), carol), 322); // floor(807 * 0.4)
        assertEq(router.balanceOf(address(0), bob), 485); // recipient 0: the rest
        assertEq(router.balanceOf(address(0), treasuryA), 0);
        assertEq(router.escrowOf(d, address(0)), 0);
        assertEq(router.balanceOf(address(0), alice), 201);
    }

    function test_holdEscrow_RevertWhen_EscrowOfAnEarlierHoldUnreleased() public {
        (, uint256 d) = _disputed();
        PlainERC20[] memory tokens = new PlainERC20[](9);
        for (uint256 i; i < 9; ++i) {
            tokens[i] = new PlainERC20();
            _payToken(tokens[i], d, 1000);
        }
        _payEth(d, 1000);
        _resolve(d, true);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterEscrowUnreleased.selector, d, 10));
        router.holdEscrow(d, 8);
        for (uint256 i; i < 9; ++i) {
            vm.prank(makeAddr("anyone"));
            assertEq(router.releaseEscrow(d, address(tokens[i])), 800);
            assertEq(router.balanceOf(address(tokens[i]), treasuryA), 800, "by the stored verdict");
        }
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterNothingToRelease.selector, d, address(tokens[8])));
        router.releaseEscrow(d, address(tokens[8]));
        router.releaseEscrow(d, address(0));
        router.holdEscrow(d, 8); // all released: a new hold may begin
        (uint256 heldBy, uint256 count) = router.holdOf(d);
        assertEq(heldBy, 8);
        assertEq(count, 0);
    }

    function test_releaseEscrow_RevertWhen_Held() public {
        (, uint256 d) = _disputed();
        _payEth(d, 1000);
        vm.expectRevert(abi.encodeWithSelector(RoyaltyRouter.RouterAlreadyHeld.selector, d, 7));
        router.releaseEscrow(d, address(0));
    }

    /// @notice Regression: junk tokens paid into a disputed work once filled its escrow list and
    ///         blocked every payment through it in any other token, its undisputed descendants'
    ///         included. v2 keeps no list at all: a count, and one release call per token.
    function test_pay_JunkEscrowTokensNeverBlockPaymentsThroughAHeldWork() public {
        (, uint256 d) = _disputed();
        uint256 child = _derive(_one(d), _ppm(500_000), _split(dave)); // child is not held
        address griefer = makeAddr("griefer");
        for (uint256 i; i < 12; ++i) {
            PlainERC20 junk = new PlainERC20();
            junk.mint(griefer, 1);
            vm.startPrank(griefer);
            junk.approve(address(router), 1);
            router.payToken(d, address(junk), 1, REF, WHEN); // 1 wei: all of it is d's own share
            vm.stopPrank();
        }
        vm.prank(payer);
        router.pay{value: 1 ether}(child, REF, WHEN);
        assertEq(router.balanceOf(address(0), dave), 0.5 ether, "the unheld child is paid");
        assertEq(router.escrowOf(d, address(0)), 0.4 ether, "d's own share of its half is escrowed");
        PlainERC20 real = new PlainERC20();
        _payToken(real, child, 1000);
        assertEq(router.balanceOf(address(real), dave), 500);
    }

    function test_pay_HoldEscrowsNothingWhenOwnShareIsZero() public {
        uint256 h = _heritage(alice);
        uint256 d = _derive(_one(h), _ppm(1_000_000), _split(bob));
        router.holdEscrow(d, 1);
        _payEth(d, 1000);
        assertEq(router.balanceOf(address(0), alice), 1000);
        assertEq(router.escrowOf(d, address(0)), 0);
    }

    // ------------------------------------------------------------------ views

    function test_registry_IsTheBoundRegistry() public view {
        assertEq(router.registry(), address(registry));
        assertEq(address(registry.router()), address(router));
    }

    function test_views_UnknownWorkIsEmpty() public view {
        assertEq(uint256(router.statusOf(42)), uint256(WorkStatus.None));
        assertEq(router.depthOf(42), 0);
        (WorkStatus status, uint256 depth, uint256 routeSize, uint256 upstream, uint256 heldBy) = router.nodeOf(42);
        assertEq(uint256(status), 0);
        assertEq(depth + routeSize + upstream + heldBy, 0);
        (uint256[] memory parents, uint32[] memory ppms) = router.parentsOf(42);
        assertEq(parents.length + ppms.length, 0);
        assertEq(router.splitOf(42).length, 0);
        assertEq(router.routeTableOf(42), address(0));
        assertEq(router.escrowOf(42, address(0)), 0);
        assertEq(router.balanceOf(address(0), alice), 0);
    }

    function test_routeTableOf_HoldsPackedParentsAndSplit() public {
        uint256 h = _heritage(alice);
        uint256 d = _derive(_one(h), _ppm(250_000), _split2(bob, 600_000, carol, 400_000));
        bytes memory expected = abi.encodePacked(
            uint8(0), // STOP: the table cannot be called into
            uint8(1),
            uint32(h),
            uint32(250_000),
            bob,
            uint32(600_000),
            carol,
            uint32(400_000)
        );
        assertEq(router.routeTableOf(d).code, expected);
        assertEq(router.routeTableOf(h).code, abi.encodePacked(uint8(0), uint8(0), alice, uint32(1_000_000)));
    }

    function test_balanceOf_IsPerToken() public {
        PlainERC20 t = new PlainERC20();
        uint256 h = _heritage(alice);
        _payEth(h, 3);
        _payToken(t, h, 5);
        assertEq(router.balanceOf(address(0), alice), 3);
        assertEq(router.balanceOf(address(t), alice), 5);
        assertEq(router.balanceOf(address(t), bob), 0);
    }

    function test_escrowOf_IsPerWorkAndToken() public {
        (uint256 h, uint256 d) = _disputed();
        PlainERC20 t = new PlainERC20();
        _payToken(t, d, 10);
        assertEq(router.escrowOf(d, address(t)), 8);
        assertEq(router.escrowOf(d, address(0)), 0);
        assertEq(router.escrowOf(h, address(t)), 0);
    }
}
