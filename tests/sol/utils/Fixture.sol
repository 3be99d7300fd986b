// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "./Test.sol";
import {HeritageRegistry} from "../../../contracts/HeritageRegistry.sol";
import {RoyaltyRouter} from "../../../contracts/RoyaltyRouter.sol";
import {IRoyaltyRouter} from "../../../contracts/interfaces/IRoyaltyRouter.sol";
import {
    Protocol, Recipient, HeritageParams, DerivativeParams, WorkStatus
} from "../../../contracts/libraries/HeritageTypes.sol";

/// @title A deployed registry and router with two communities, and helpers to build works
/// @notice Community A: stewards a1, a2, a3 (2 of 3), treasury treasuryA.
///         Community B: steward b1 (1 of 1), treasury treasuryB.
abstract contract Fixture is Test {
    uint256 internal constant KEY_A1 = 0xA1;
    uint256 internal constant KEY_A2 = 0xA2;
    uint256 internal constant KEY_A3 = 0xA3;
    uint256 internal constant KEY_B1 = 0xB1;
    uint96 internal constant ROYALTY_BPS = 500;

    RoyaltyRouter internal router;
    HeritageRegistry internal registry;
    address internal a1;
    address internal a2;
    address internal a3;
    address internal b1;
    address internal treasuryA;
    address internal treasuryB;
    address internal creator;
    address internal payer;
    uint256 internal communityA;
    uint256 internal communityB;
    uint256 private _cidSeed;

    function setUp() public virtual {
        router = new RoyaltyRouter();
        registry = new HeritageRegistry(IRoyaltyRouter(address(router)), ROYALTY_BPS);
        router.bindRegistry(address(registry));
        a1 = vm.addr(KEY_A1);
        a2 = vm.addr(KEY_A2);
        a3 = vm.addr(KEY_A3);
        b1 = vm.addr(KEY_B1);
        treasuryA = makeAddr("treasuryA");
        treasuryB = makeAddr("treasuryB");
        creator = makeAddr("creator");
        payer = makeAddr("payer");
        vm.deal(payer, 1_000_000 ether);

        address[] memory stewardsA = new address[](3);
        (stewardsA[0], stewardsA[1], stewardsA[2]) = (a1, a2, a3);
        communityA = registry.registerCommunity("Han folk singers of Shaanxi", stewardsA, 2, treasuryA);
        address[] memory stewardsB = new address[](1);
        stewardsB[0] = b1;
        communityB = registry.registerCommunity("Daur song keepers", stewardsB, 1, treasuryB);
    }

    // ------------------------------------------------------------------ builders

    /// @notice A fresh binary CIDv1 (raw, sha2-256) that no other call returns.
    function _cid() internal returns (bytes memory) {
        return _cidFor(++_cidSeed);
    }

    function _cidFor(uint256 seed) internal pure returns (bytes memory) {
        return abi.encodePacked(uint8(0x01), uint8(0x55), uint8(0x12), uint8(0x20), keccak256(abi.encode(seed)));
    }

    function _open(uint32 floorPpm) internal pure returns (Protocol memory p) {
        p = Protocol(true, false, true, true, true, false, floorPpm, 0, 1);
    }

    function _split(address account) internal pure returns (Recipient[] memory s) {
        s = new Recipient[](1);
        s[0] = Recipient(account, 1_000_000);
    }

    /// @notice `n` distinct recipients sharing 1,000,000 ppm (the first takes the remainder).
    function _splitN(uint256 n, uint256 salt) internal pure returns (Recipient[] memory s) {
        s = new Recipient[](n);
        uint32 each = uint32(1_000_000 / n);
        for (uint256 i; i < n; ++i) {
            s[i] = Recipient(address(uint160(uint256(keccak256(abi.encode(salt, i))))), each);
        }
        s[0].ppm += uint32(1_000_000 - each * n);
    }

    function _heritageParams(uint256 communityId, Protocol memory protocol, Recipient[] memory split)
        internal
        returns (HeritageParams memory)
    {
        return HeritageParams(communityId, _cid(), _cid(), protocol, split);
    }

    function _registerHeritage(Protocol memory protocol) internal returns (uint256) {
        return _registerHeritageOf(communityA, a1, protocol, _split(treasuryA));
    }

    function _registerHeritageOf(uint256 communityId, address steward, Protocol memory protocol, Recipient[] memory split)
        internal
        returns (uint256 workId)
    {
        HeritageParams memory p = _heritageParams(communityId, protocol, split);
        vm.prank(steward);
        workId = registry.registerHeritageWork(p);
    }

    function _derivativeParams(uint256[] memory parents, uint32[] memory ppms, Recipient[] memory split)
        internal
        returns (DerivativeParams memory)
    {
        return DerivativeParams(_cid(), _cid(), parents, ppms, split, "", bytes32(0), false);
    }

    function _registerDerivative(uint256[] memory parents, uint32[] memory ppms) internal returns (uint256 workId) {
        DerivativeParams memory p = _derivativeParams(parents, ppms, _split(creator));
        vm.prank(creator);
        workId = registry.registerDerivative(p);
    }

    function _one(uint256 parent) internal pure returns (uint256[] memory parents) {
        parents = new uint256[](1);
        parents[0] = parent;
    }

    function _ppm(uint32 share) internal pure returns (uint32[] memory ppms) {
        ppms = new uint32[](1);
        ppms[0] = share;
    }

    function _sig(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }
}
