// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {GasFixture} from "./GasFixture.sol";
import {Recipient, HeritageParams} from "../../../contracts/libraries/HeritageTypes.sol";

/// @title Gas benchmark of the registry-side actions in contracts/README.md's governance gas table
/// @notice Run under the gas profile (`FOUNDRY_PROFILE=gas forge test --match-path
///         tests/sol/bench/GasGovernance.t.sol`): every call is its own transaction (cold
///         accounts and slots, as on a real chain) and each figure is written by
///         vm.snapshotGasLastCall to snapshots/GasGovernanceBench.json. "Cold" registers the
///         registry's first work (its counters go from zero); "warm" registers one more when
///         works exist already (the usual case).
contract GasGovernanceBench is GasFixture {
    function _heritageTreasury() internal returns (HeritageParams memory) {
        return _heritageParams(communityA, _open(100_000), _split(treasuryA));
    }

    function _treasuryOnly(uint256) internal view returns (Recipient[] memory) {
        return _split(treasuryA);
    }

    function test_gas_registerCommunity() public {
        _measureRegisterCommunity("registerCommunity (3 stewards, k = 2)");
    }

    function test_gas_commitRegistration() public {
        registry.commitRegistration(keccak256("a commitment"));
        vm.snapshotGasLastCall("commitRegistration");
    }

    function test_gas_registerHeritageWork_cold() public {
        _measureRegisterHeritage(a1, _heritageTreasury(), "registerHeritageWork cold (first work, treasury split)");
    }

    function test_gas_registerHeritageWork_warm() public {
        _registerHeritageOf(communityA, a1, _open(100_000), _split(treasuryA));
        _measureRegisterHeritage(a1, _heritageTreasury(), "registerHeritageWork warm (treasury split)");
    }

    function test_gas_registerHeritageWork_kOfN() public {
        _registerHeritageOf(communityA, a1, _open(100_000), _split(treasuryA));
        HeritageParams memory p = _heritageParams(communityA, _open(100_000), _splitN(3, 2));
        _measureRegisterHeritage(a1, p, "registerHeritageWork k-of-n, first approval (3-recipient split)");
        _measureRegisterHeritage(a2, p, "registerHeritageWork k-of-n, k-th approval registers");
    }

    function test_gas_registerDerivative_1parent() public {
        uint256 h = _registerHeritageOf(communityA, a1, _open(100_000), _split(treasuryA));
        _measureRegisterDerivative(
            _derivativeParams(_one(h), _ppm(200_000), _splitN(2, 3)), "registerDerivative (1 parent)"
        );
    }

    function test_gas_registerDerivative_8parents() public {
        _measureEightParents(_treasuryOnly, "registerDerivative (8 parents, 8 roots)");
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
