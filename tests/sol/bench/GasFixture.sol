// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Fixture} from "../utils/Fixture.sol";
import {Recipient, HeritageParams, DerivativeParams} from "../../../contracts/libraries/HeritageTypes.sol";

/// @title The registrations both gas benchmarks measure, each as one call and one snapshot
/// @notice GasBench (router table) and GasGovernanceBench (governance table) measure the same
///         registrations on different set-ups; the calls and their snapshots are written here once.
abstract contract GasFixture is Fixture {
    /// @dev Community B's registration: three stewards, k = 2.
    function _measureRegisterCommunity(string memory name) internal {
        address[] memory stewards = new address[](3);
        (stewards[0], stewards[1], stewards[2]) = (a1, a2, a3);
        registry.registerCommunity("Andean panpipe ensembles", stewards, 2, treasuryB);
        vm.snapshotGasLastCall(name);
    }

    function _measureRegisterHeritage(address steward, HeritageParams memory p, string memory name) internal {
        vm.prank(steward);
        registry.registerHeritageWork(p);
        vm.snapshotGasLastCall(name);
    }

    function _measureRegisterDerivative(DerivativeParams memory p, string memory name) internal {
        vm.prank(creator);
        registry.registerDerivative(p);
        vm.snapshotGasLastCall(name);
    }

    /// @dev A derivative of eight new heritage works of community A (floor 2 %, 2.5 % each),
    ///      parent `i` registered with the split `splitOf(i)`.
    function _measureEightParents(
        function(uint256) internal view returns (Recipient[] memory) splitOf,
        string memory name
    ) internal {
        uint256[] memory parents = new uint256[](8);
        uint32[] memory ppms = new uint32[](8);
        for (uint256 i; i < 8; ++i) {
            parents[i] = _registerHeritageOf(communityA, a1, _open(20_000), splitOf(i));
            ppms[i] = 25_000;
        }
        _measureRegisterDerivative(_derivativeParams(parents, ppms, _splitN(2, 4)), name);
    }
}
