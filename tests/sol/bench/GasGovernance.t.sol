// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Fixture} from "../utils/Fixture.sol";
import {Protocol, Recipient, HeritageParams, DerivativeParams} from "../../../contracts/libraries/HeritageTypes.sol";

/// @title Gas benchmark of the registry-side actions in contracts/README.md's governance gas table
/// @notice Run under the gas profile (`FOUNDRY_PROFILE=gas forge test --match-path
///         tests/sol/bench/GasGovernance.t.sol`): every call is its own transaction (cold
///         accounts and slots, as on a real chain) and each figure is written by
///         vm.snapshotGasLastCall to snapshots/GasGovernanceBench.json. "Cold" registers the
///         registry's first work (its counters go from zero); "warm" registers one more when
///         works exist already (the usual case).
contract GasGovernanceBench is Fixture {
    function _heritageTreasury() internal returns (HeritageParams memory) {
        return _heritageParams(communityA, _open(100_000), _split(treasuryA));
    }

    function test_gas_registerCommunity() public {
        address[] memory stewards = new address[](3);
        (stewards[0], stewards[1], stewards[2]) = (a1, a2, a3);
        registry.registerCommunity("Andean panpipe ensembles", stewards, 2, treasuryB);
        vm.snapshotGasLastCall("registerCommunity (3 stewards, k = 2)");
    }

    function test_gas_commitRegistration() public {
        registry.commitRegistration(keccak256("a commitment"));
        vm.snapshotGasLastCall("commitRegistration");
    }

    function test_gas_registerHeritageWork_cold() public {
        HeritageParams memory p = _heritageTreasury();
        vm.prank(a1);
        registry.registerHeritageWork(p);
        vm.snapshotGasLastCall("registerHeritageWork cold (first work, treasury split)");
    }

    function test_gas_registerHeritageWork_warm() public {
        _registerHeritageOf(communityA, a1, _open(100_000), _split(treasuryA));
        HeritageParams memory p = _heritageTreasury();
        vm.prank(a1);
        registry.registerHeritageWork(p);
        vm.snapshotGasLastCall("registerHeritageWork warm (treasury split)");
    }

    function test_gas_registerHeritageWork_kOfN() public {
        _registerHeritageOf(communityA, a1, _open(100_000), _split(treasuryA));
        HeritageParams memory p = _heritageParams(communityA, _open(100_000), _splitN(3, 2));
        vm.prank(a1);
        registry.registerHeritageWork(p);
        vm.snapshotGasLastCall("registerHeritageWork k-of-n, first approval (3-recipient split)");
        vm.prank(a2);
        registry.registerHeritageWork(p);
        vm.snapshotGasLastCall("registerHeritageWork k-of-n, k-th approval registers");
    }

    function test_gas_registerDerivative_1parent() public {
        uint256 h = _registerHeritageOf(communityA, a1, _open(100_000), _split(treasuryA));
        DerivativeParams memory p = _derivativeParams(_one(h), _ppm(200_000), _splitN(2, 3));
        vm.prank(creator);
        registry.registerDerivative(p);
        vm.snapshotGasLastCall("registerDerivative (1 parent)");
    }

    function test_gas_registerDerivative_8parents() public {
        uint256[] memory parents = new uint256[](8);
        uint32[] memory ppms = new uint32[](8);
        for (uint256 i; i < 8; ++i) {
            parents[i] = _registerHeritageOf(communityA, a1, _open(20_000), _split(treasuryA));
            ppms[i] = 25_000;
        }
        DerivativeParams memory p = _derivativeParams(parents, ppms, _splitN(2, 4));
        vm.prank(creator);
        registry.registerDerivative(p);
        vm.snapshotGasLastCall("registerDerivative (8 parents, 8 roots)");
    }

    function test_gas_kOfNApproval_setSplit() public {
        uint256 h = _registerHeritageOf(communityA, a1, _open(100_000), _split(treasuryA));
        Recipient[] memory next = _splitN(3, 5);
        vm.prank(a1);
        gov.setSplit(h, next);
        vm.snapshotGasLastCall("k-of-n approval (setSplit, first of 2)");
        vm.prank(a2);
        gov.setSplit(h, next);
        vm.snapshotGasLastCall("k-of-n approval (setSplit, k-th applies)");
    }

    function test_gas_setProtocol_tightening() public {
        uint256 h = _registerHeritageOf(communityA, a1, _open(100_000), _split(treasuryA));
        vm.prank(a1);
        gov.setProtocol(h, _open(200_000));
        vm.snapshotGasLastCall("setProtocol tightening (one steward, applies)");
    }
}
