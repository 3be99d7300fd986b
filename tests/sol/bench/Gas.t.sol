// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Fixture} from "../utils/Fixture.sol";
import {Protocol, Recipient, HeritageParams, DerivativeParams} from "../../../contracts/libraries/HeritageTypes.sol";

/// @title Gas benchmark of the actions in contracts/README.md's gas table
/// @notice Run with `scripts/gas` (forge test --isolate, so every call is its own transaction
///         with cold storage, as on a real chain). Each figure is written by
///         vm.snapshotGasLastCall to snapshots/GasBench.json. Payments are measured in the
///         steady state: every recipient already holds a balance from an earlier payment.
contract GasBench is Fixture {
    uint256 internal heritage;

    function setUp() public override {
        super.setUp();
        heritage = _registerHeritageOf(communityA, a1, _open(100_000), _splitN(3, 1));
    }

    function test_gas_registerCommunity() public {
        address[] memory stewards = new address[](3);
        (stewards[0], stewards[1], stewards[2]) = (a1, a2, a3);
        registry.registerCommunity("Andean panpipe ensembles", stewards, 2, treasuryB);
        vm.snapshotGasLastCall("registerCommunity (3 stewards)");
    }

    function test_gas_registerHeritageWork() public {
        HeritageParams memory p = _heritageParams(communityA, _open(100_000), _splitN(3, 2));
        vm.prank(a1);
        registry.registerHeritageWork(p);
        vm.snapshotGasLastCall("registerHeritageWork (3-recipient split)");
    }

    function test_gas_registerDerivative_1parent() public {
        DerivativeParams memory p = _derivativeParams(_one(heritage), _ppm(200_000), _splitN(2, 3));
        vm.prank(creator);
        registry.registerDerivative(p);
        vm.snapshotGasLastCall("registerDerivative (1 parent)");
    }

    function test_gas_registerDerivative_8parents() public {
        uint256[] memory parents = new uint256[](8);
        uint32[] memory ppms = new uint32[](8);
        for (uint256 i; i < 8; ++i) {
            parents[i] = _registerHeritageOf(communityA, a1, _open(20_000), _splitN(3, 10 + i));
            ppms[i] = 25_000;
        }
        DerivativeParams memory p = _derivativeParams(parents, ppms, _splitN(2, 4));
        vm.prank(creator);
        registry.registerDerivative(p);
        vm.snapshotGasLastCall("registerDerivative (8 parents)");
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

    function test_gas_withdraw() public {
        uint256 work = _chain(0, 2);
        vm.prank(payer);
        router.pay{value: 1 ether}(work, bytes32("a"), 1);
        Recipient[] memory split = router.splitOf(work);
        vm.prank(split[1].account);
        router.withdraw(address(0));
        vm.snapshotGasLastCall("withdraw (ETH)");
    }

    /// @dev A chain of `depth` single-parent derivatives over a heritage root; every work in it
    ///      has a split of `recipients` accounts and routes 30% upstream. Returns the leaf.
    function _chain(uint256 depth, uint256 recipients) internal returns (uint256 work) {
        work = _registerHeritageOf(communityA, a1, _open(100_000), _splitN(recipients, 100));
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
}
