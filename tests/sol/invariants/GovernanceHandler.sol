// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Vm} from "../utils/Vm.sol";
import {StewardTyped} from "../utils/StewardTyped.sol";
import {HeritageRegistry} from "../../../contracts/HeritageRegistry.sol";
import {HeritageGovernance} from "../../../contracts/HeritageGovernance.sol";
import {RoyaltyRouter} from "../../../contracts/RoyaltyRouter.sol";
import {
    PPM,
    Protocol,
    Recipient,
    HeritageParams,
    DerivativeParams
} from "../../../contracts/libraries/HeritageTypes.sol";

/// @title Governance handler: k > 1 communities, steward changes, signatures, consent and refusal
/// @notice Every registry call is wrapped in try/catch (the suite runs with fail_on_revert):
///         refusals are part of the game. Ghost state is kept independently of the registry:
///         root shares recomputed from the parents' shares, floors and consents as they stood
///         at registration, and approvals counted per (work, applied-change count, proposal,
///         steward epoch) to catch any loosening or split change applied with fewer than k.
contract GovernanceHandler {
    Vm private constant VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    HeritageRegistry public immutable registry;
    HeritageGovernance public immutable gov;
    RoyaltyRouter public immutable router;

    uint256[] public communities;
    mapping(uint256 communityId => uint256[]) internal _keys; // current stewards' private keys
    mapping(uint256 communityId => address) internal _treasury;
    uint256 public rotatingCommunity;
    bool internal _rotated;

    uint256[] public heritage;
    uint256[] public derivatives;
    /// @dev Independent root shares of each derivative: root => ppm, and its root list.
    mapping(uint256 workId => uint256[]) public ghostRoots;
    mapping(uint256 workId => mapping(uint256 root => uint256)) public ghostShare;
    mapping(uint256 workId => mapping(uint256 root => uint256)) public ghostFloor;
    mapping(uint256 workId => uint256[]) internal _needs; // communities whose consent was required
    mapping(uint256 workId => mapping(uint256 communityId => bool)) public ghostConsented;

    mapping(uint256 workId => uint256) internal _appliedProtocol;
    mapping(uint256 workId => uint256) internal _appliedSplit;
    mapping(bytes32 key => uint256) internal _approvals;
    mapping(bytes32 key => mapping(address => bool)) internal _approved;

    uint256 public ghostLooseningBelowK;
    uint256 public ghostSplitBelowK;
    uint256 public ghostLooseningsApplied;
    uint256 public ghostSplitsApplied;
    uint256 public ghostRejections;
    uint256 public ghostConsents;
    uint256 public ghostRefusals;
    uint256 internal _cidSeed = 1_000_000;

    constructor(HeritageRegistry registry_, RoyaltyRouter router_) {
        registry = registry_;
        gov = HeritageGovernance(address(registry_));
        router = router_;
    }

    /// @notice Register a community with these stewards' keys (setUp only).
    function addCommunity(uint256[] memory keys, uint16 threshold, address treasury, bool rotates)
        external
        returns (uint256 c)
    {
        address[] memory stewards = new address[](keys.length);
        for (uint256 i; i < keys.length; ++i) {
            stewards[i] = VM.addr(keys[i]);
        }
        c = registry.registerCommunity("community", stewards, threshold, treasury);
        communities.push(c);
        _keys[c] = keys;
        _treasury[c] = treasury;
        if (rotates) rotatingCommunity = c;
        // One heritage work per community to start from.
        _registerHeritage(c, keys[0], _protocolFrom(uint256(keccak256(abi.encode(c)))));
    }

    // ------------------------------------------------------------------ actions

    function registerHeritage(uint256 seed) external {
        uint256 c = communities[seed % communities.length];
        uint256[] storage keys = _keys[c];
        _registerHeritage(c, keys[(seed >> 8) % keys.length], _protocolFrom(seed >> 16));
    }

    function registerDerivative(uint256 seed, uint32 shareA, uint32 shareB) external {
        uint256 pool = heritage.length + derivatives.length;
        uint256[] memory parents = new uint256[](seed % 2 + 1);
        uint32[] memory ppms = new uint32[](parents.length);
        parents[0] = _workAt((seed >> 8) % pool);
        ppms[0] = uint32(1 + shareA % 600_000);
        if (parents.length == 2) {
            parents[1] = _workAt((seed >> 24) % pool);
            if (parents[1] == parents[0]) return;
            ppms[1] = uint32(1 + shareB % 400_000);
        }
        bytes memory cid = _freshCid();
        address creator = address(uint160(0xC0DE + seed % 3));
        registry.commitRegistration(keccak256(abi.encode(creator, keccak256(cid), bytes32(seed))));
        VM.roll(block.number + 1);
        DerivativeParams memory p =
            DerivativeParams(cid, "", parents, ppms, _split(creator), "", bytes32(0), seed & 4 != 0, bytes32(seed));
        // Ghost expectations, computed before the call from the state in force.
        (uint256[] memory roots, uint256[] memory shares) = _expectedShares(parents, ppms);
        VM.prank(creator);
        try registry.registerDerivative(p) returns (uint256 d) {
            derivatives.push(d);
            for (uint256 k; k < roots.length; ++k) {
                ghostRoots[d].push(roots[k]);
                ghostShare[d][roots[k]] = shares[k];
                Protocol memory protocol = registry.protocolOf(roots[k]);
                ghostFloor[d][roots[k]] = protocol.floorPpm;
                uint256 c = registry.heritageCommunityOf(roots[k]);
                if (protocol.consentRequired && !_contains(_needs[d], c)) _needs[d].push(c);
            }
        } catch {
            ++ghostRefusals;
        }
    }

    function setProtocol(uint256 seed, bool bySignature) external {
        uint256 h = heritage[seed % heritage.length];
        uint256 c = registry.heritageCommunityOf(h);
        uint256 key = _keys[c][(seed >> 8) % _keys[c].length];
        address steward = VM.addr(key);
        Protocol memory old = registry.protocolOf(h);
        Protocol memory next = _protocolFrom(seed >> 16);
        next.restricted = old.restricted;
        bytes32 subject = keccak256(abi.encode("P", h, _appliedProtocol[h], next, registry.stewardEpochOf(c)));
        bool applied;
        bool ok;
        if (bySignature) {
            uint256 deadline = block.timestamp + 1;
            bytes memory sig = _signProtocol(key, h, c, next, registry.nonces(steward), deadline);
            try gov.setProtocolBySig(h, next, steward, deadline, sig) returns (bool a) {
                (ok, applied) = (true, a);
            } catch {}
        } else {
            VM.prank(steward);
            try gov.setProtocol(h, next) returns (bool a) {
                (ok, applied) = (true, a);
            } catch {}
        }
        if (!ok) return;
        bool loosens = _loosens(old, next);
        if (loosens && !_approved[subject][steward]) {
            _approved[subject][steward] = true;
            ++_approvals[subject];
        }
        if (applied) {
            ++_appliedProtocol[h];
            if (loosens) {
                ++ghostLooseningsApplied;
                if (_approvals[subject] < registry.thresholdOf(c)) ++ghostLooseningBelowK;
            }
        }
    }

    function setSplit(uint256 seed) external {
        uint256 h = heritage[seed % heritage.length];
        uint256 c = registry.heritageCommunityOf(h);
        address steward = VM.addr(_keys[c][(seed >> 8) % _keys[c].length]);
        Recipient[] memory split = seed & 1 == 0 ? _split(_treasury[c]) : _split(steward);
        bytes32 subject = keccak256(abi.encode("S", h, _appliedSplit[h], split, registry.stewardEpochOf(c)));
        VM.prank(steward);
        try gov.setSplit(h, split) returns (bool applied) {
            if (!_approved[subject][steward]) {
                _approved[subject][steward] = true;
                ++_approvals[subject];
            }
            if (applied) {
                ++_appliedSplit[h];
                ++ghostSplitsApplied;
                if (_approvals[subject] < registry.thresholdOf(c)) ++ghostSplitBelowK;
            }
        } catch {}
    }

    function consent(uint256 seed, bool reject) external {
        if (derivatives.length == 0) return;
        uint256 d = derivatives[seed % derivatives.length];
        uint256[] storage needs = _needs[d];
        if (needs.length == 0) return;
        uint256 c = needs[(seed >> 8) % needs.length];
        address steward = VM.addr(_keys[c][(seed >> 16) % _keys[c].length]);
        VM.prank(steward);
        if (reject) {
            try gov.rejectDerivative(d, c) returns (bool rejected) {
                if (rejected) ++ghostRejections;
            } catch {}
        } else {
            try gov.approveDerivative(d, c) returns (bool consented) {
                if (consented) {
                    ghostConsented[d][c] = true;
                    ++ghostConsents;
                }
            } catch {}
        }
    }

    /// @notice One steward of the rotating community approves swapping its last steward.
    function rotateStewards(uint256 seed) external {
        uint256 c = rotatingCommunity;
        uint256[] memory next = _keys[c];
        next[next.length - 1] = _rotated ? 0xC4 : 0xC5;
        address[] memory stewards = new address[](next.length);
        for (uint256 i; i < next.length; ++i) {
            stewards[i] = VM.addr(next[i]);
        }
        uint256 threshold = registry.thresholdOf(c);
        VM.prank(VM.addr(_keys[c][seed % _keys[c].length]));
        try registry.approveCommunityChange(c, stewards, uint16(threshold), _treasury[c]) returns (bool applied) {
            if (applied) {
                _keys[c] = next;
                _rotated = !_rotated;
            }
        } catch {}
    }

    // ------------------------------------------------------------------ views for the invariants

    function derivativeCount() external view returns (uint256) {
        return derivatives.length;
    }

    function needsOf(uint256 d) external view returns (uint256[] memory) {
        return _needs[d];
    }

    function rootsOf(uint256 d) external view returns (uint256[] memory) {
        return ghostRoots[d];
    }

    // ------------------------------------------------------------------ internals

    function _registerHeritage(uint256 c, uint256 key, Protocol memory protocol) internal {
        address steward = VM.addr(key);
        bytes memory cid = _freshCid();
        registry.commitRegistration(keccak256(abi.encode(steward, keccak256(cid), bytes32(0))));
        VM.roll(block.number + 1);
        VM.prank(steward);
        try registry.registerHeritageWork(
            HeritageParams(c, cid, "", protocol, _split(_treasury[c]), bytes32(0))
        ) returns (
            uint256 h
        ) {
            if (h != 0) heritage.push(h);
        } catch {}
    }

    /// @dev Parents' root shares times the parent share, rounded down, summed per root.
    function _expectedShares(uint256[] memory parents, uint32[] memory ppms)
        internal
        view
        returns (uint256[] memory roots, uint256[] memory shares)
    {
        roots = new uint256[](16);
        shares = new uint256[](16);
        uint256 n;
        for (uint256 i; i < parents.length; ++i) {
            n = _addParent(roots, shares, n, parents[i], ppms[i]);
        }
        assembly {
            mstore(roots, n)
            mstore(shares, n)
        }
    }

    function _addParent(uint256[] memory roots, uint256[] memory shares, uint256 n, uint256 p, uint256 ppm)
        internal
        view
        returns (uint256)
    {
        bool isHeritage = registry.heritageCommunityOf(p) != 0;
        uint256 m = isHeritage ? 1 : ghostRoots[p].length;
        for (uint256 j; j < m; ++j) {
            uint256 r = isHeritage ? p : ghostRoots[p][j];
            uint256 q = isHeritage ? PPM : ghostShare[p][r];
            uint256 k;
            while (k < n && roots[k] != r) ++k;
            if (k == n) roots[n++] = r;
            shares[k] += ppm * q / PPM;
        }
        return n;
    }

    /// @dev Independent of Labels.isTightening: the flags and the floor only (the handler's
    ///      protocols use no labels and no season).
    function _loosens(Protocol memory old, Protocol memory next) internal pure returns (bool) {
        return (next.derivativesAllowed && !old.derivativesAllowed)
            || (next.commercialAllowed && !old.commercialAllowed) || (next.mlAllowed && !old.mlAllowed)
            || (old.consentRequired && !next.consentRequired) || (old.attributionRequired && !next.attributionRequired)
            || next.floorPpm < old.floorPpm || next.labelsVersion != old.labelsVersion;
    }

    function _protocolFrom(uint256 seed) internal pure returns (Protocol memory p) {
        p = Protocol(
            seed & 1 != 0 || seed & 2 != 0, // mostly derivable
            seed & 4 != 0,
            seed & 8 != 0,
            seed & 16 != 0,
            seed & 32 != 0,
            false,
            uint32((seed >> 8) % 5) * 100_000,
            0,
            1,
            0
        );
    }

    function _workAt(uint256 i) internal view returns (uint256) {
        return i < heritage.length ? heritage[i] : derivatives[i - heritage.length];
    }

    function _split(address account) internal pure returns (Recipient[] memory s) {
        s = new Recipient[](1);
        s[0] = Recipient(account, uint32(PPM));
    }

    function _freshCid() internal returns (bytes memory) {
        return abi.encodePacked(uint8(0x01), uint8(0x55), uint8(0x12), uint8(0x20), keccak256(abi.encode(++_cidSeed)));
    }

    function _contains(uint256[] storage xs, uint256 x) internal view returns (bool) {
        for (uint256 i; i < xs.length; ++i) {
            if (xs[i] == x) return true;
        }
        return false;
    }

    function _signProtocol(uint256 key, uint256 h, uint256 c, Protocol memory p, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes memory)
    {
        bytes32 digest = StewardTyped.setProtocolDigest(block.chainid, address(registry), h, c, p, nonce, deadline);
        (uint8 v, bytes32 r, bytes32 s) = VM.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }
}
