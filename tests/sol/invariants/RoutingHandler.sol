// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Vm} from "../utils/Vm.sol";
import {HeritageRegistry} from "../../../contracts/HeritageRegistry.sol";
import {RoyaltyRouter} from "../../../contracts/RoyaltyRouter.sol";
import {
    Protocol, Recipient, HeritageParams, DerivativeParams, WorkStatus, WorkKind
} from "../../../contracts/libraries/HeritageTypes.sol";
import {PlainERC20} from "../mocks/PlainERC20.sol";

/// @title Drives the registry and router through random valid (and some refused) actions,
///        keeping ghost totals for the invariant suite.
contract RoutingHandler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    HeritageRegistry public immutable registry;
    RoyaltyRouter public immutable router;
    PlainERC20 public immutable token;
    uint256 public immutable communityA;
    uint256 public immutable communityB;
    address public immutable stewardA;
    address public immutable stewardB;

    address[] public accounts; // every address that can ever be credited
    uint256[] public works;
    bytes[] public contents;
    mapping(uint256 => bool) public isRestricted;

    // ghosts
    mapping(address token => uint256) public ghostPaid;
    mapping(address token => uint256) public ghostWithdrawn;
    mapping(address token => mapping(address account => uint256)) public ghostCredited;
    mapping(address token => mapping(address account => uint256)) public ghostWithdrawnBy;
    uint256 public ghostForbiddenDerivatives; // derivatives registered although a root forbade it
    uint256 public ghostRefusals;
    uint256 public ghostPayments;
    uint256 private _nonce;

    constructor(
        HeritageRegistry registry_,
        RoyaltyRouter router_,
        PlainERC20 token_,
        uint256 communityA_,
        uint256 communityB_,
        address stewardA_,
        address stewardB_,
        address[] memory accounts_
    ) {
        registry = registry_;
        router = router_;
        token = token_;
        communityA = communityA_;
        communityB = communityB_;
        stewardA = stewardA_;
        stewardB = stewardB_;
        accounts = accounts_;
    }

    receive() external payable {}

    function accountCount() external view returns (uint256) {
        return accounts.length;
    }

    function workCount() external view returns (uint256) {
        return works.length;
    }

    function contentCount() external view returns (uint256) {
        return contents.length;
    }

    // ------------------------------------------------------------------ actions

    function registerHeritage(uint256 seed) external {
        bool inA = seed % 2 == 0;
        Protocol memory p = Protocol(
            seed % 5 != 0, // derivatives allowed 80%
            seed % 7 == 0, // consent required
            true,
            seed % 3 != 0, // ML allowed
            true,
            false,
            uint32((seed >> 8) % 300_001),
            uint64(seed >> 16),
            1
        );
        bytes memory cid = _freshCid();
        HeritageParams memory params = HeritageParams(inA ? communityA : communityB, cid, "", p, _split(seed));
        vm.prank(inA ? stewardA : stewardB);
        works.push(registry.registerHeritageWork(params));
        contents.push(cid);
    }

    function registerRestricted(uint256 seed) external {
        bytes32 commitment = keccak256(abi.encode("salt", seed, _nonce++));
        vm.prank(stewardA);
        uint256 id = registry.registerRestrictedWork(communityA, commitment, "", 1 << 14, 1);
        works.push(id);
        isRestricted[id] = true;
        contents.push(abi.encodePacked(commitment));
    }

    function registerDuplicate(uint256 seed) external {
        if (contents.length == 0) return;
        bytes memory cid = contents[seed % contents.length];
        if (cid.length != 36) return; // a restricted commitment cannot be re-registered through this path
        HeritageParams memory params =
            HeritageParams(communityA, cid, "", Protocol(true, false, true, true, true, false, 0, 0, 1), _split(seed));
        vm.prank(stewardA);
        try registry.registerHeritageWork(params) returns (uint256) {
            revert("a content CID was registered twice");
        } catch {
            ++ghostRefusals;
        }
    }

    function registerDerivative(uint256 seed, uint256 parentCount, bool machine) external {
        if (works.length == 0) return;
        parentCount = 1 + parentCount % 3;
        uint256[] memory parents = new uint256[](parentCount);
        uint32[] memory ppms = new uint32[](parentCount);
        for (uint256 i; i < parentCount; ++i) {
            parents[i] = works[(seed >> (8 * i)) % works.length];
            ppms[i] = uint32(300_000 / parentCount + 1);
        }
        bool allowed = _allowedNow(parents, machine);
        bytes memory model = machine ? _freshCid() : bytes("");
        DerivativeParams memory p = DerivativeParams(_freshCid(), "", parents, ppms, _split(seed >> 3), model, bytes32(seed), false);
        vm.prank(accounts[seed % accounts.length]);
        try registry.registerDerivative(p) returns (uint256 id) {
            if (!allowed) ++ghostForbiddenDerivatives;
            works.push(id);
            contents.push(p.contentCid);
        } catch {
            ++ghostRefusals; // refused: forbidden by a protocol, a parent not active, a limit, duplicates
        }
    }

    function approve(uint256 seed) external {
        if (works.length == 0) return;
        uint256 id = works[seed % works.length];
        if (router.statusOf(id) != WorkStatus.Pending) return;
        if (registry.consentNeeded(id, communityA)) {
            vm.prank(stewardA);
            registry.approveDerivative(id, communityA);
        }
        if (registry.consentNeeded(id, communityB)) {
            vm.prank(stewardB);
            registry.approveDerivative(id, communityB);
        }
    }

    function payEth(uint256 seed, uint256 amount) external {
        uint256 id = _activeWork(seed);
        if (id == 0) return;
        amount = 1 + amount % 1e21;
        _payAndRecord(id, address(0), amount);
    }

    function payToken(uint256 seed, uint256 amount) external {
        uint256 id = _activeWork(seed);
        if (id == 0) return;
        amount = 1 + amount % 1e24;
        token.mint(address(this), amount);
        token.approve(address(router), amount);
        _payAndRecord(id, address(token), amount);
    }

    function withdraw(uint256 seed, bool useToken) external {
        address who = accounts[seed % accounts.length];
        address t = useToken ? address(token) : address(0);
        uint256 balance = router.balanceOf(t, who);
        if (balance == 0) return;
        vm.prank(who);
        router.withdrawTo(t, address(this));
        ghostWithdrawn[t] += balance;
        ghostWithdrawnBy[t][who] += balance;
    }

    function raiseDispute(uint256 seed) external {
        uint256 id = _activeWork(seed);
        if (id == 0 || registry.workOf(id).kind != WorkKind.Derivative || registry.disputeOf(id) != 0) return;
        uint32[] memory roots = registry.rootsOf(id);
        uint256 community = registry.workOf(roots[0]).communityId;
        vm.prank(community == communityA ? stewardA : stewardB);
        registry.raiseDispute(id, community, "");
    }

    function resolveDispute(uint256 seed, bool upheld) external {
        if (works.length == 0) return;
        uint256 id = works[seed % works.length];
        uint256 community = registry.disputeOf(id);
        if (community == 0) return;
        address[] memory before = _balancesSnapshotAccounts();
        uint256[2][] memory snap = _snapshot(before);
        vm.prank(community == communityA ? stewardA : stewardB);
        registry.resolveDispute(id, upheld);
        _recordCredits(before, snap);
    }

    function setSplit(uint256 seed) external {
        uint256 id = _activeWork(seed);
        if (id == 0) return;
        if (registry.workOf(id).kind == WorkKind.Heritage) {
            vm.prank(registry.workOf(id).communityId == communityA ? stewardA : stewardB);
        } else {
            vm.prank(registry.ownerOf(id));
        }
        registry.setSplit(id, _split(seed >> 5));
    }

    function toggleDerivatives(uint256 seed) external {
        if (works.length == 0) return;
        uint256 id = works[seed % works.length];
        if (registry.workOf(id).kind != WorkKind.Heritage || isRestricted[id]) return;
        Protocol memory p = registry.protocolOf(id);
        p.derivativesAllowed = !p.derivativesAllowed;
        vm.prank(registry.workOf(id).communityId == communityA ? stewardA : stewardB);
        registry.setProtocol(id, p);
    }

    // ------------------------------------------------------------------ helpers

    function _payAndRecord(uint256 id, address t, uint256 amount) private {
        address[] memory who = _balancesSnapshotAccounts();
        uint256[2][] memory snap = _snapshot(who);
        if (t == address(0)) {
            vm.deal(address(this), address(this).balance + amount);
            router.pay{value: amount}(id, bytes32(ghostPayments), uint64(block.timestamp));
        } else {
            router.payToken(id, t, amount, bytes32(ghostPayments), uint64(block.timestamp));
        }
        ghostPaid[t] += amount;
        ++ghostPayments;
        _recordCredits(who, snap);
    }

    function _balancesSnapshotAccounts() private view returns (address[] memory) {
        return accounts;
    }

    function _snapshot(address[] memory who) private view returns (uint256[2][] memory snap) {
        snap = new uint256[2][](who.length);
        for (uint256 i; i < who.length; ++i) {
            snap[i] = [router.balanceOf(address(0), who[i]), router.balanceOf(address(token), who[i])];
        }
    }

    function _recordCredits(address[] memory who, uint256[2][] memory snap) private {
        for (uint256 i; i < who.length; ++i) {
            ghostCredited[address(0)][who[i]] += router.balanceOf(address(0), who[i]) - snap[i][0];
            ghostCredited[address(token)][who[i]] += router.balanceOf(address(token), who[i]) - snap[i][1];
        }
    }

    function _activeWork(uint256 seed) private view returns (uint256) {
        uint256 n = works.length;
        for (uint256 k; k < n; ++k) {
            uint256 id = works[(seed % n + k) % n];
            if (router.statusOf(id) == WorkStatus.Active) return id;
        }
        return 0;
    }

    function _allowedNow(uint256[] memory parents, bool machine) private view returns (bool) {
        for (uint256 i; i < parents.length; ++i) {
            if (isRestricted[parents[i]]) return false;
            uint32[] memory roots = registry.rootsOf(parents[i]);
            for (uint256 j; j < roots.length; ++j) {
                Protocol memory p = registry.protocolOf(roots[j]);
                if (p.restricted || !p.derivativesAllowed || (machine && !p.mlAllowed)) return false;
            }
        }
        return true;
    }

    function _freshCid() private returns (bytes memory cid) {
        cid = abi.encodePacked(uint8(0x01), uint8(0x55), uint8(0x12), uint8(0x20), keccak256(abi.encode(_nonce++)));
    }

    /// @dev 1–4 recipients from the pool; shares sum to 1,000,000.
    function _split(uint256 seed) private view returns (Recipient[] memory s) {
        uint256 n = 1 + seed % 4;
        s = new Recipient[](n);
        uint32 left = 1_000_000;
        for (uint256 i; i < n; ++i) {
            uint32 share = i == n - 1 ? left : uint32(1 + (seed >> (8 + 8 * i)) % (left - (n - 1 - i)));
            if (share > left - uint32(n - 1 - i)) share = left - uint32(n - 1 - i);
            s[i] = Recipient(accounts[(seed >> (4 * i)) % accounts.length], share);
            left -= share;
        }
    }
}
