// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "./Test.sol";
import {HeritageRegistry} from "../../../contracts/HeritageRegistry.sol";
import {RoyaltyRouter} from "../../../contracts/RoyaltyRouter.sol";
import {ProtocolRules} from "../../../contracts/ProtocolRules.sol";
import {HeritageGovernance} from "../../../contracts/HeritageGovernance.sol";
import {IRoyaltyRouter} from "../../../contracts/interfaces/IRoyaltyRouter.sol";
import {
    Protocol,
    Recipient,
    HeritageParams,
    DerivativeParams
} from "../../../contracts/libraries/HeritageTypes.sol";

/// @dev The one cheatcode Vm.sol does not declare.
interface VmStore {
    function store(address target, bytes32 slot, bytes32 value) external;
}

/// @title A deployed registry and router with two communities, and helpers to build works
/// @notice Community A: stewards a1, a2, a3 (2 of 3), treasury treasuryA.
///         Community B: steward b1 (1 of 1), treasury treasuryB.
abstract contract Fixture is Test {
    uint256 internal constant KEY_A1 = 0xA1;
    uint256 internal constant KEY_A2 = 0xA2;
    uint256 internal constant KEY_A3 = 0xA3;
    uint256 internal constant KEY_B1 = 0xB1;
    uint96 internal constant ROYALTY_BPS = 500;
    /// @dev Storage slot of HeritageRegistry._commitments (`forge inspect HeritageRegistry storageLayout`).
    uint256 internal constant COMMITMENTS_SLOT = 23;
    VmStore internal constant VM_STORE = VmStore(address(uint160(uint256(keccak256("hevm cheat code")))));

    RoyaltyRouter internal router;
    ProtocolRules internal rules;
    /// @dev The registry's address typed as its governance half (called through the registry).
    HeritageGovernance internal gov;
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
        rules = new ProtocolRules();
        HeritageGovernance governance = new HeritageGovernance(IRoyaltyRouter(address(router)), rules, ROYALTY_BPS);
        registry = new HeritageRegistry(IRoyaltyRouter(address(router)), rules, governance, ROYALTY_BPS);
        gov = HeritageGovernance(address(registry));
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
        p = Protocol(true, false, true, true, true, false, floorPpm, 0, 1, 0);
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
        bytes memory cid = _cid();
        _preCommit(cid);
        return HeritageParams(communityId, cid, _cid(), protocol, split, _saltOf(cid));
    }

    function _registerHeritage(Protocol memory protocol) internal returns (uint256) {
        return _registerHeritageOf(communityA, a1, protocol, _split(treasuryA));
    }

    function _registerHeritageOf(
        uint256 communityId,
        address steward,
        Protocol memory protocol,
        Recipient[] memory split
    ) internal returns (uint256 workId) {
        HeritageParams memory p = _heritageParams(communityId, protocol, split);
        vm.prank(steward);
        workId = registry.registerHeritageWork(p);
        // v2: a split other than [(treasury, 100 %)] in community A (2 of 3) waits for a second
        // steward; the builder gives it, so callers get a registered work (tests of the pending
        // step call registerHeritageWork themselves).
        if (workId == 0 && communityId == communityA) {
            vm.prank(steward == a2 ? a3 : a2);
            workId = registry.registerHeritageWork(p);
        }
    }

    function _derivativeParams(uint256[] memory parents, uint32[] memory ppms, Recipient[] memory split)
        internal
        returns (DerivativeParams memory)
    {
        bytes memory cid = _cid();
        _preCommit(cid);
        return DerivativeParams(cid, _cid(), parents, ppms, split, "", bytes32(0), false, _saltOf(cid));
    }

    function _registerDerivative(uint256[] memory parents, uint32[] memory ppms) internal returns (uint256 workId) {
        DerivativeParams memory p = _derivativeParams(parents, ppms, _split(creator));
        vm.prank(creator);
        workId = registry.registerDerivative(p);
    }

    // ------------------------------------------------------------------ commitments

    /// @notice The salt the builders use for a CID.
    function _saltOf(bytes memory cid) internal pure returns (bytes32) {
        return keccak256(abi.encode("salt", cid));
    }

    function _commitmentOf(address registrant, bytes memory cid, bytes32 salt) internal pure returns (bytes32) {
        return keccak256(abi.encode(registrant, keccak256(cid), salt));
    }

    /// @notice Record, as if made in an earlier block, the commitments of the fixture's likely
    ///         registrants (stewards and the creator) to `cid` with `_saltOf(cid)`. Written to
    ///         storage directly so that builders make no call (a preceding `expectRevert` is
    ///         meant for the registration); the commit path itself is tested in Claims tests.
    function _preCommit(bytes memory cid) internal {
        _storeCommitment(cid, a1);
        _storeCommitment(cid, a2);
        _storeCommitment(cid, a3);
        _storeCommitment(cid, b1);
        _storeCommitment(cid, creator);
    }

    function _storeCommitment(bytes memory cid, address registrant) internal {
        bytes32 commitment = _commitmentOf(registrant, cid, _saltOf(cid));
        bytes32 slot = keccak256(abi.encode(commitment, COMMITMENTS_SLOT));
        uint256 made = block.number == 0 ? 0 : block.number - 1;
        VM_STORE.store(address(registry), slot, bytes32(made << 64 | block.timestamp));
    }
}
