// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Vm} from "../utils/Vm.sol";
import {HeritageRegistry} from "../../../contracts/HeritageRegistry.sol";
import {RoyaltyRouter} from "../../../contracts/RoyaltyRouter.sol";
import {HeritageGovernance} from "../../../contracts/HeritageGovernance.sol";
import {
    Protocol, Recipient, HeritageParams, DerivativeParams, WorkStatus, WorkKind
} from "../../../contracts/libraries/HeritageTypes.sol";
import {PlainERC20} from "../mocks/PlainERC20.sol";
import {FeeOnTransferToken, NoReturnToken} from "../mocks/HostileTokens.sol";
import {RevertingReceiver} from "../mocks/HostileReceivers.sol";
import {RoyaltyReceiver} from "../../../contracts/RoyaltyReceiver.sol";

/// @title Drives the registry and router through random valid (and some refused) actions,
///        keeping ghost totals for the invariant suite.
/// @notice It is also the router's disputes contract: it holds works in escrow and ends holds
///         with random awards, pays junk tokens into held works (more than 8 escrow tokens), pays
///         with fee-on-transfer and no-return tokens, pays through royalty receivers by call and by
///         2,300-gas transfer, and withdraws to a reverting receiver.
contract RoutingHandler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    HeritageRegistry public immutable registry;
    /// @dev The registry typed as its governance half (reached through the registry's fallback).
    HeritageGovernance public immutable gov;
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
    uint256 public ghostHostileWithdrawals; // withdrawals to a reverting receiver that did not revert
    uint256 public ghostHolds;
    uint256 public ghostReleases;
    uint256 private _nonce;
    address[] public tokens; // every token (address(0): ETH) ever paid
    uint256[] public held; // works ever held
    FeeOnTransferToken public immutable feeToken = new FeeOnTransferToken();
    NoReturnToken public immutable noReturnToken = new NoReturnToken();
    RevertingReceiver public revertingReceiver;

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
        gov = HeritageGovernance(address(registry_));
        router = router_;
        token = token_;
        communityA = communityA_;
        communityB = communityB_;
        stewardA = stewardA_;
        stewardB = stewardB_;
        accounts = accounts_;
        tokens.push(address(0));
        tokens.push(address(token_));
        tokens.push(address(feeToken));
        tokens.push(address(noReturnToken));
        revertingReceiver = new RevertingReceiver(router_);
    }

    /// @dev The router asks its disputes contract about derivatives of held works: not held here
    ///      (Disputes.t.sol tests the wrapper rule).
    function descendantRegistered(uint256, uint256, address) external pure returns (bool) {
        return false;
    }

    function tokenCount() external view returns (uint256) {
        return tokens.length;
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
            // Random labels without the enforced ones (seasonal, secret/sacred, non-commercial),
            // which ProtocolRules would refuse beside this protocol: the handler must not revert.
            uint64(seed >> 16) & ~uint64((1 << 8) | (1 << 14) | (1 << 16) | (1 << 40)),
            1,
            0
        );
        bytes memory cid = _freshCid();
        address steward = inA ? stewardA : stewardB;
        bytes32 salt = _commit(steward, cid);
        HeritageParams memory params = HeritageParams(inA ? communityA : communityB, cid, "", p, _split(seed), salt);
        vm.prank(steward);
        works.push(registry.registerHeritageWork(params));
        contents.push(cid);
    }

    function registerRestricted(uint256 seed) external {
        bytes32 commitment = keccak256(abi.encode("salt", seed, _nonce++));
        vm.prank(stewardA);
        uint256 id = gov.registerRestrictedWork(communityA, commitment, "", 1 << 14, 1, new bytes32[](0));
        works.push(id);
        isRestricted[id] = true;
        contents.push(abi.encodePacked(commitment));
    }

    function registerDuplicate(uint256 seed) external {
        if (contents.length == 0) return;
        bytes memory cid = contents[seed % contents.length];
        if (cid.length != 36) return; // a restricted commitment cannot be re-registered through this path
        HeritageParams memory params =
            HeritageParams(communityA, cid, "", Protocol(true, false, true, true, true, false, 0, 0, 1, 0), _split(seed), bytes32(0));
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
        address registrant = accounts[seed % accounts.length];
        bytes memory cid = _freshCid();
        bytes32 salt = _commit(registrant, cid);
        DerivativeParams memory p =
            DerivativeParams(cid, "", parents, ppms, _split(seed >> 3), model, bytes32(seed), false, salt);
        vm.prank(registrant);
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
            gov.approveDerivative(id, communityA);
        }
        if (registry.consentNeeded(id, communityB)) {
            vm.prank(stewardB);
            gov.approveDerivative(id, communityB);
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
        address t = useToken ? tokens[1 + (seed >> 8) % (tokens.length - 1)] : address(0);
        uint256 balance = router.balanceOf(t, who);
        if (balance == 0) return;
        vm.prank(who);
        router.withdrawTo(t, address(this));
        ghostWithdrawn[t] += balance;
        ghostWithdrawnBy[t][who] += balance;
    }

    /// @notice Hold an active work's own share in escrow (as HeritageDisputes does on a claim).
    function raiseDispute(uint256 seed) external {
        uint256 id = _activeWork(seed);
        if (id == 0) return;
        (uint256 heldBy, uint256 unreleased) = router.holdOf(id);
        if (heldBy != 0 || unreleased != 0) return;
        router.holdEscrow(id, ++ghostHolds);
        held.push(id);
    }

    /// @notice End a hold: upheld with a random award to a treasury, or dismissed.
    function resolveDispute(uint256 seed, bool upheld) external {
        if (held.length == 0) return;
        uint256 id = held[seed % held.length];
        (uint256 heldBy,) = router.holdOf(id);
        if (heldBy == 0) return;
        uint256 award = upheld ? (seed >> 8) % 1_000_001 : 0;
        router.endHold(id, upheld ? accounts[4 + seed % 2] : address(0), award);
    }

    /// @notice Release one token's escrow of an ended hold (anyone may).
    function releaseEscrow(uint256 seed, uint256 tokenSeed) external {
        if (held.length == 0) return;
        uint256 id = held[seed % held.length];
        address t = tokens[tokenSeed % tokens.length];
        (uint256 heldBy,) = router.holdOf(id);
        if (heldBy != 0 || router.escrowOf(id, t) == 0) return;
        address[] memory who = _balancesSnapshotAccounts();
        uint256[2][] memory snap = _snapshot(who);
        router.releaseEscrow(id, t);
        ++ghostReleases;
        _recordCredits(who, snap);
    }

    /// @notice Pay a fresh junk token (up to 16 of them) into a held work, or any active work.
    function payJunk(uint256 seed, uint256 amount) external {
        uint256 id = held.length != 0 ? held[seed % held.length] : _activeWork(seed);
        if (id == 0 || router.statusOf(id) != WorkStatus.Active) return;
        PlainERC20 junk;
        if (tokens.length < 20) {
            junk = new PlainERC20();
            tokens.push(address(junk));
        } else {
            junk = PlainERC20(tokens[4 + seed % 16]);
        }
        amount = 1 + amount % 1e6;
        junk.mint(address(this), amount);
        junk.approve(address(router), amount);
        _payAndRecord(id, address(junk), amount);
    }

    /// @notice Pay with a fee-on-transfer (1 %) or a no-return token; the router credits what it received.
    function payHostileToken(uint256 seed, uint256 amount, bool fee) external {
        uint256 id = _activeWork(seed);
        if (id == 0) return;
        amount = 100 + amount % 1e24;
        if (fee) {
            feeToken.mint(address(this), amount);
            feeToken.approve(address(router), amount);
        } else {
            noReturnToken.mint(address(this), amount);
            noReturnToken.approve(address(router), amount);
        }
        _payAndRecord(id, fee ? address(feeToken) : address(noReturnToken), amount);
    }

    /// @notice Pay royalties to a work's receiver, by call (routed at once) or by a 2,300-gas
    ///         transfer (kept), and sometimes flush it.
    function payViaReceiver(uint256 seed, uint256 amount, bool byTransfer) external {
        uint256 id = _activeWork(seed);
        if (id == 0) return;
        amount = 1 + amount % 1e21;
        address payable receiver = payable(router.deployReceiver(id));
        vm.deal(address(this), address(this).balance + amount);
        uint256 before = address(router).balance;
        address[] memory who = _balancesSnapshotAccounts();
        uint256[2][] memory snap = _snapshot(who);
        if (byTransfer) {
            receiver.transfer(amount);
        } else {
            (bool ok,) = receiver.call{value: amount}("");
            require(ok, "receiver refused ETH");
        }
        if (seed % 2 == 0 && receiver.balance != 0) RoyaltyReceiver(receiver).flush(address(0));
        uint256 routed = address(router).balance - before;
        if (routed != 0) {
            ghostPaid[address(0)] += routed;
            ++ghostPayments;
        }
        _recordCredits(who, snap);
    }

    /// @notice A withdrawal to a receiver that refuses ETH must revert and keep the balance.
    function withdrawToHostile(uint256 seed) external {
        address who = accounts[seed % accounts.length];
        uint256 balance = router.balanceOf(address(0), who);
        if (balance == 0) return;
        vm.prank(who);
        try router.withdrawTo(address(0), address(revertingReceiver)) {
            ++ghostHostileWithdrawals;
        } catch {}
        if (router.balanceOf(address(0), who) != balance) ++ghostHostileWithdrawals;
    }

    function setSplit(uint256 seed) external {
        uint256 id = _activeWork(seed);
        if (id == 0) return;
        if (registry.workOf(id).kind == WorkKind.Heritage) {
            vm.prank(registry.workOf(id).communityId == communityA ? stewardA : stewardB);
        } else {
            vm.prank(registry.ownerOf(id));
        }
        gov.setSplit(id, _split(seed >> 5));
    }

    function toggleDerivatives(uint256 seed) external {
        if (works.length == 0) return;
        uint256 id = works[seed % works.length];
        if (registry.workOf(id).kind != WorkKind.Heritage || isRestricted[id]) return;
        Protocol memory p = registry.protocolOf(id);
        p.derivativesAllowed = !p.derivativesAllowed;
        vm.prank(registry.workOf(id).communityId == communityA ? stewardA : stewardB);
        gov.setProtocol(id, p);
    }

    // ------------------------------------------------------------------ helpers

    function _payAndRecord(uint256 id, address t, uint256 amount) private {
        address[] memory who = _balancesSnapshotAccounts();
        uint256[2][] memory snap = _snapshot(who);
        uint256 before = router.owedOf(t);
        if (t == address(0)) {
            vm.deal(address(this), address(this).balance + amount);
            router.pay{value: amount}(id, bytes32(ghostPayments), uint64(block.timestamp));
        } else {
            uint256 held0 = PlainERC20(t).balanceOf(address(router));
            router.payToken(id, t, amount, bytes32(ghostPayments), uint64(block.timestamp));
            amount = PlainERC20(t).balanceOf(address(router)) - held0; // net of a transfer fee
        }
        require(router.owedOf(t) - before == amount, "owed grew by other than the amount received");
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

    /// @dev Commit `registrant` to `cid` (v2 commit-reveal) and move to the next block, where
    ///      the registration may name the commitment.
    function _commit(address registrant, bytes memory cid) private returns (bytes32 salt) {
        salt = keccak256(abi.encode("salt", cid));
        vm.prank(registrant);
        registry.commitRegistration(keccak256(abi.encode(registrant, keccak256(cid), salt)));
        vm.roll(block.number + 1);
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
