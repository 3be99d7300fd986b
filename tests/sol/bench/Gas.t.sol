// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {GasFixture} from "./GasFixture.sol";
import {Test} from "../utils/Test.sol";
import {RoyaltyRouter, MAX_ROUTE_CREDITS} from "../../../contracts/RoyaltyRouter.sol";
import {Protocol, Recipient, HeritageParams, DerivativeParams} from "../../../contracts/libraries/HeritageTypes.sol";

/// @title Gas benchmark of the actions in contracts/README.md's gas table
/// @notice Run with `scripts/gas` (forge test --isolate, so every call is its own transaction
///         with cold storage, as on a real chain). Each figure is written by
///         vm.snapshotGasLastCall to snapshots/GasBench.json. Payments are measured warm (every
///         recipient already holds a balance from an earlier payment) and cold (every recipient
///         credited for the first time: a zero balance slot, as for a fresh address or one that
///         withdrew, costs 22,100 gas to credit).
contract GasBench is GasFixture {
    uint256 internal heritage;

    function setUp() public override {
        super.setUp();
        heritage = _registerHeritageOf(communityA, a1, _open(100_000), _splitN(3, 1));
    }

    function test_gas_registerCommunity() public {
        _measureRegisterCommunity("registerCommunity (3 stewards)");
    }

    function test_gas_registerHeritageWork() public {
        // v2: in community A (2 of 3) a non-treasury split waits for a second approval; community
        // B (1 of 1) registers at once, the like-for-like figure (k-of-n rows: GasGovernance.t.sol).
        HeritageParams memory p = _heritageParams(communityB, _open(100_000), _splitN(3, 2));
        _measureRegisterHeritage(b1, p, "registerHeritageWork (3-recipient split)");
    }

    function test_gas_registerDerivative_1parent() public {
        _measureRegisterDerivative(
            _derivativeParams(_one(heritage), _ppm(200_000), _splitN(2, 3)), "registerDerivative (1 parent)"
        );
    }

    function _threeWay(uint256 i) internal pure returns (Recipient[] memory) {
        return _splitN(3, 10 + i);
    }

    function test_gas_registerDerivative_8parents() public {
        _measureEightParents(_threeWay, "registerDerivative (8 parents)");
    }

    function test_gas_pay_depth1_2recipients() public {
        _measurePay(1, 2);
    }

    function test_gas_pay_depth1_32recipients() public {
        _measurePay(1, 32);
    }

    function test_gas_pay_depth3_2recipients() public {
        _measurePay(3, 2);
    }

    function test_gas_pay_depth3_32recipients() public {
        _measurePay(3, 32);
    }

    function test_gas_pay_depth8_2recipients() public {
        _measurePay(8, 2);
    }

    function test_gas_pay_depth8_32recipients() public {
        _measurePay(8, 32);
    }

    function test_gas_pay_depth1_2recipients_cold() public {
        _measurePayCold(1, 2);
    }

    function test_gas_pay_depth1_32recipients_cold() public {
        _measurePayCold(1, 32);
    }

    function test_gas_pay_depth3_2recipients_cold() public {
        _measurePayCold(3, 2);
    }

    function test_gas_pay_depth3_32recipients_cold() public {
        _measurePayCold(3, 32);
    }

    function test_gas_pay_depth8_2recipients_cold() public {
        _measurePayCold(8, 2);
    }

    function test_gas_pay_depth8_32recipients_cold() public {
        _measurePayCold(8, 32);
    }

    /// @dev Recipients who withdrew hold a zero slot again: the next credit is as cold as a fresh one.
    function test_gas_pay_depth3_32recipients_afterWithdrawals() public {
        uint256 work = _chain(3, 32);
        vm.prank(payer);
        router.pay{value: 1 ether}(work, bytes32("warm-up"), 1);
        for (uint256 w = work - 3; w <= work; ++w) {
            Recipient[] memory split = router.splitOf(w);
            for (uint256 j; j < split.length; ++j) {
                vm.prank(split[j].account);
                router.withdraw(address(0));
            }
        }
        vm.prank(payer);
        router.pay{value: 1 ether}(work, bytes32("usage"), 2);
        vm.snapshotGasLastCall("pay (depth 3, 32 recipients per split, all withdrew before)");
    }

    function test_gas_withdraw() public {
        uint256 work = _chain(0, 2);
        vm.prank(payer);
        router.pay{value: 1 ether}(work, bytes32("a"), 1);
        Recipient[] memory split = router.splitOf(work);
        vm.prank(split[1].account);
        router.withdraw(address(0));
        vm.snapshotGasLastCall("withdraw (ETH)");
    }

    function test_gas_deployReceiver() public {
        uint256 work = _chain(1, 2);
        router.deployReceiver(work);
        vm.snapshotGasLastCall("deployReceiver");
    }

    /// @dev A marketplace sending a royalty to the receiver with full gas: routed at once.
    function test_gas_receiverRoutesARoyalty() public {
        uint256 work = _chain(1, 2);
        address receiver = router.deployReceiver(work);
        vm.prank(payer);
        (bool ok,) = receiver.call{value: 1 ether}("");
        assertTrue(ok);
        vm.prank(payer);
        (ok,) = receiver.call{value: 1 ether}("");
        vm.snapshotGasLastCall("royalty sent to a receiver (depth 1, 2 recipients, warm)");
    }

    function test_gas_releaseEscrow() public {
        router.bindDisputes(address(this));
        uint256 work = _chain(1, 2);
        router.holdEscrow(work, 1);
        vm.prank(payer);
        router.pay{value: 1 ether}(work, bytes32("a"), 1);
        router.endHold(work, treasuryA, 500_000);
        router.releaseEscrow(work, address(0));
        vm.snapshotGasLastCall("releaseEscrow (ETH, half awarded, 2 fresh recipients)");
    }

    function descendantRegistered(uint256, uint256, address) external pure returns (bool) {
        return false;
    }

    /// @dev A chain of `depth` single-parent derivatives over a heritage root; every work in it
    ///      has a split of `recipients` accounts and routes 30% upstream. Returns the leaf.
    function _chain(uint256 depth, uint256 recipients) internal returns (uint256 work) {
        // v2 floors bind every generation (effective share = product along the path): at 30%
        // per generation no positive root floor survives depth 8, so the chain's root has none.
        work = _registerHeritageOf(communityA, a1, _open(0), _splitN(recipients, 100));
        for (uint256 d = 1; d <= depth; ++d) {
            DerivativeParams memory p = _derivativeParams(_one(work), _ppm(300_000), _splitN(recipients, 100 + d));
            vm.prank(creator);
            work = registry.registerDerivative(p);
        }
    }

    function _measurePay(uint256 depth, uint256 recipients) internal {
        uint256 work = _chain(depth, recipients);
        vm.prank(payer);
        router.pay{value: 1 ether}(work, bytes32("warm-up"), 1);
        vm.prank(payer);
        router.pay{value: 1 ether}(work, bytes32("usage"), 2);
        vm.snapshotGasLastCall(
            string.concat("pay (depth ", vm.toString(depth), ", ", vm.toString(recipients), " recipients per split)")
        );
    }

    function _measurePayCold(uint256 depth, uint256 recipients) internal {
        uint256 work = _chain(depth, recipients);
        vm.prank(payer);
        router.pay{value: 1 ether}(work, bytes32("usage"), 2);
        vm.snapshotGasLastCall(
            string.concat(
                "pay cold (depth ", vm.toString(depth), ", ", vm.toString(recipients), " fresh recipients per split)"
            )
        );
    }
}

/// @title The proven worst case of `pay`: the largest route the router accepts, every slot cold
/// @notice The test contract is the router's registry and disputes contract, so that the route is
///         bounded by the router's own limits only (the registry adds more: MAX_ROOTS, floors).
///         The route: 64 distinct works (MAX_ROUTE_NODES), a leaf with 8 parents, each the end of a
///         chain (7 chains of 8 works, 1 of 7; depth 8 = MAX_LINEAGE_DEPTH), every split 8 fresh
///         recipients, so the route makes 64 x 8 = 512 = MAX_ROUTE_CREDITS credits, each to a zero
///         balance slot (22,100 gas). Every share is non-zero at 1 ether, so every credit happens.
contract GasWorstCase is Test {
    uint256 internal constant BLOCK_HALF = 15_000_000;
    RoyaltyRouter internal router;
    uint256 internal leaf;
    uint256 internal nextId;
    address internal payer = address(0xBA1E);

    function setUp() public {
        router = new RoyaltyRouter();
        router.bindRegistry(address(this));
        router.bindDisputes(address(this));
        vm.deal(payer, 100 ether);
        uint256[] memory parents = new uint256[](8);
        uint32[] memory ppms = new uint32[](8);
        for (uint256 c; c < 8; ++c) {
            parents[c] = _chainOf(c < 7 ? 8 : 7);
            ppms[c] = 100_000;
        }
        leaf = ++nextId;
        router.configureDerivative(leaf, address(this), parents, ppms, _fresh(leaf), false);
        (, uint256 credits) = router.creditsOf(leaf);
        (,, uint256 routeSize,,) = router.nodeOf(leaf);
        assertEq(credits, MAX_ROUTE_CREDITS);
        assertEq(routeSize, 64);
    }

    /// @notice ETH, every one of the 512 credits to a zero slot: the bound the README states.
    function test_gas_pay_worstCaseCold() public {
        vm.prank(payer);
        router.pay{value: 1 ether}(leaf, bytes32("worst"), 1);
        uint256 used = vm.snapshotGasLastCall("pay worst case cold (64 works, 512 fresh credits, ETH)");
        assertLt(used, BLOCK_HALF);
    }

    /// @notice The same route with every work held in escrow by a dispute: each work writes two
    ///         cold slots (its escrow and its escrow-token count) instead of its 8 credits.
    function test_gas_pay_worstCaseAllHeld() public {
        for (uint256 w = 1; w <= leaf; ++w) {
            router.holdEscrow(w, w);
        }
        vm.prank(payer);
        router.pay{value: 1 ether}(leaf, bytes32("worst-held"), 1);
        uint256 used = vm.snapshotGasLastCall("pay worst case, every work held in escrow (64 works, ETH)");
        assertLt(used, BLOCK_HALF);
    }

    /// @dev A chain of `length` works, the first a heritage root; returns its last work.
    function _chainOf(uint256 length) internal returns (uint256 work) {
        work = ++nextId;
        router.configureHeritage(work, _fresh(work), false);
        for (uint256 d = 1; d < length; ++d) {
            uint256[] memory parents = new uint256[](1);
            parents[0] = work;
            uint32[] memory ppms = new uint32[](1);
            ppms[0] = 100_000;
            work = ++nextId;
            router.configureDerivative(work, address(this), parents, ppms, _fresh(work), false);
        }
    }

    function _fresh(uint256 salt) internal pure returns (Recipient[] memory s) {
        s = new Recipient[](8);
        for (uint256 i; i < 8; ++i) {
            s[i] = Recipient(address(uint160(uint256(keccak256(abi.encode("worst", salt, i))))), 125_000);
        }
    }

    /// @dev The router asks the disputes contract about derivatives of held works; none are held here.
    function descendantRegistered(uint256, uint256, address) external pure returns (bool) {
        return false;
    }
}
