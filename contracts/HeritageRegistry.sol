// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IERC2981} from "@openzeppelin/contracts/interfaces/IERC2981.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {Proxy} from "@openzeppelin/contracts/proxy/Proxy.sol";

import {RegistryCore} from "./RegistryCore.sol";
import {HeritageGovernance} from "./HeritageGovernance.sol";
import {ProtocolRules} from "./ProtocolRules.sol";
import {IRoyaltyRouter} from "./interfaces/IRoyaltyRouter.sol";
import {CidCodec} from "./libraries/CidCodec.sol";
import {
    PPM,
    MAX_ROOTS,
    MAX_COMMITMENT_AGE,
    MAX_CLAIM_AGE,
    WorkKind,
    WorkStatus,
    Protocol,
    HeritageParams,
    DerivativeParams
} from "./libraries/HeritageTypes.sol";

/// @title HeritageRegistry: heritage works, cultural protocols and derivatives as ERC-721 tokens
/// @notice Communities register the works they steward with a cultural protocol; creators
///         register derivatives whose every heritage root's protocol and floor are checked
///         here, each root on its own effective share. Money and loosening need k of a
///         community's n stewards; tightening needs one. Registrations reveal a content CID only
///         after committing to it in an earlier block. Each work is an ERC-721 token (heritage
///         works are held by the community treasury, derivatives by their registrant).
///         Royalties are routed by the bound RoyaltyRouter. Reads: `IHeritageRegistry`.
///         Steward-governance functions live in HeritageGovernance, reached through `fallback`
///         by delegatecall (same storage): call them on the registry's address.
contract HeritageRegistry is RegistryCore, IERC2981, Proxy {
    /// @notice Everything public about one work, as returned by `workOf`.
    struct WorkView {
        WorkKind kind;
        WorkStatus status;
        uint256 communityId;
        address registrant;
        uint256 timestamp;
        bytes contentCid; // empty for a restricted work
        bytes32 commitment; // the salted hash commitment of a restricted work
        bytes manifestCid;
    }

    HeritageGovernance private immutable _governance;

    /// @param router_ the RoyaltyRouter this registry configures (bind it to this registry next)
    /// @param rules_ the ProtocolRules contract (deploy it first)
    /// @param governance_ the HeritageGovernance contract, deployed with the same router, rules and royalty
    /// @param royaltyBps_ ERC-2981 royalty for secondary sales, basis points (<= 10,000)
    constructor(IRoyaltyRouter router_, ProtocolRules rules_, HeritageGovernance governance_, uint96 royaltyBps_)
        RegistryCore(router_, rules_, royaltyBps_)
    {
        _governance = governance_;
    }

    /// @notice Commit to a registration before revealing its content CID. Register in a later
    ///         block, within MAX_COMMITMENT_AGE. Anyone may submit a commitment (a relayer too):
    ///         it binds the registrant inside the hash.
    /// @param commitment keccak256(abi.encode(registrant, keccak256(contentCid), salt)), see
    ///        `registrationCommitment`
    function commitRegistration(bytes32 commitment) external {
        uint256 record = _commitments[commitment];
        if (record != 0 && uint64(record) + MAX_COMMITMENT_AGE >= block.timestamp) {
            revert RegistryCommitmentExists(commitment);
        }
        _commitments[commitment] = block.number << 64 | block.timestamp;
        emit RegistrationCommitted(commitment, msg.sender);
    }

    /// @notice Block number and time of a live or spent-not-yet commitment (zeros when none).
    function commitmentOf(bytes32 commitment) external view returns (uint256 blockNumber, uint256 timestamp) {
        uint256 record = _commitments[commitment];
        return (record >> 64, uint64(record));
    }

    /// @notice Register a heritage work of `p.communityId`, or approve its registration; the
    ///         caller must be its steward and have committed (`commitRegistration`) to
    ///         (caller, contentCid, p.salt), unless the community already holds the content.
    /// @dev A split of exactly [(treasury, PPM)] or a threshold-1 community registers at once.
    ///      Otherwise each call records one steward's approval of these exact params, and the
    ///      k-th registers; the first holds the content for MAX_CLAIM_AGE. The token is minted
    ///      to the community treasury. Restricted works use `registerRestrictedWork`.
    /// @return workId the new work's id, or 0 while approvals are still missing
    function registerHeritageWork(HeritageParams calldata p) external returns (uint256 workId) {
        return _registerHeritage(p, msg.sender);
    }

    /// @notice Register (or approve) several heritage works in one transaction, each by the
    ///         rules of `registerHeritageWork`.
    /// @return firstId the id of the first work this call registered (0 if none); those it
    ///         registered have sequential ids
    function registerHeritageWorks(HeritageParams[] calldata batch) external returns (uint256 firstId) {
        if (batch.length == 0) revert RegistryEmptyBatch();
        for (uint256 i; i < batch.length; ++i) {
            uint256 id = _registerHeritage(batch[i], msg.sender);
            if (firstId == 0) firstId = id;
        }
    }

    /// @notice `registerHeritageWork` on a steward's EIP-712 signature (a relayer submits it);
    ///         the steward is the registrant whose commitment counts.
    function registerHeritageWorkBySig(
        HeritageParams calldata p,
        address steward,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 workId) {
        _useStewardSignature(steward, _hashRegisterHeritage(p, nonces(steward), deadline), deadline, signature);
        return _registerHeritage(p, steward);
    }

    /// @notice Register a derivative of up to MAX_PARENTS active works; the caller must have
    ///         committed to (caller, contentCid, p.salt) in an earlier block. Every heritage
    ///         root's protocol is checked, and each root's effective share of a payment (product
    ///         of shares along each path, summed over paths, rounded down) must reach its floor.
    ///         Where a root community requires consent the derivative is Pending until that
    ///         community's stewards approve it.
    function registerDerivative(DerivativeParams calldata p) external returns (uint256 workId) {
        (uint8 contentCodec, bytes32 digest) = CidCodec.decode(p.contentCid);
        _claimContent(keccak256(p.contentCid), msg.sender, p.salt, 0, false);
        workId = _newWork(digest, contentCodec, p.manifestCid, WorkKind.Derivative, 0, msg.sender);
        (uint32[] memory roots, uint32[] memory rootPpms, uint256 pending) = _checkLineage(workId, p);
        _works[workId].pendingConsents = uint8(pending); // pending <= MAX_ROOTS (16)
        uint64[] storage stored = _rootShares[workId];
        for (uint256 k; k < roots.length; ++k) {
            stored.push(uint64(roots[k]) << 32 | rootPpms[k]);
        }
        if (p.modelCid.length != 0) {
            (uint8 modelCodec, bytes32 modelDigest) = CidCodec.decode(p.modelCid);
            _machine[workId] = MachineProvenance(modelDigest, p.paramsHash, modelCodec);
            emit MachineProvenanceRecorded(workId, p.modelCid, p.paramsHash);
        }
        _mint(msg.sender, workId);
        emit DerivativeRegistered(
            workId,
            msg.sender,
            p.contentCid,
            p.manifestCid,
            p.parents,
            p.parentPpms,
            roots,
            rootPpms,
            pending == 0 ? WorkStatus.Active : WorkStatus.Pending,
            p.commercial
        );
        _router.configureDerivative(workId, msg.sender, p.parents, p.parentPpms, p.split, pending != 0);
    }

    /// @notice The royalty router.
    function router() external view returns (IRoyaltyRouter) {
        return _router;
    }

    /// @notice The ProtocolRules contract this registry checks protocols with.
    function rules() external view returns (ProtocolRules) {
        return _rules;
    }

    /// @notice Number of registered works; ids run from 1 to this number.
    function workCount() external view returns (uint256) {
        return _workCount;
    }

    /// @notice Everything public about a work.
    function workOf(uint256 workId) external view returns (WorkView memory v) {
        Work storage w = _work(workId);
        v.kind = w.kind;
        v.status = _router.statusOf(workId);
        v.communityId = w.communityId;
        v.registrant = w.registrant;
        v.timestamp = w.timestamp;
        if (w.contentCodec == 0) v.commitment = w.contentDigest;
        else v.contentCid = CidCodec.encode(w.contentCodec, w.contentDigest);
        v.manifestCid = CidCodec.encode(w.manifestCodec, w.manifestDigest);
    }

    /// @notice The work registered for (or reserving) this binary CID or restricted commitment, 0 if none.
    function workByContent(bytes calldata cidOrCommitment) external view returns (uint256) {
        return _workByContent[keccak256(cidOrCommitment)];
    }

    /// @notice The community holding `contentKey` for a registration awaiting approvals, and
    ///         until when (zeros when none).
    function claimOf(bytes32 contentKey) external view returns (uint256 communityId, uint256 expiry) {
        uint256 claim = _claims[contentKey];
        return (claim >> 64, uint64(claim));
    }

    /// @notice A heritage work's cultural protocol.
    function protocolOf(uint256 workId) external view returns (Protocol memory) {
        _heritage(workId);
        return _protocols[workId];
    }

    /// @notice The community of a heritage work; 0 for a derivative.
    function heritageCommunityOf(uint256 workId) external view returns (uint256 communityId) {
        return _work(workId).communityId;
    }

    /// @notice Whether the work is restricted (secret/sacred).
    function isRestricted(uint256 workId) external view returns (bool) {
        return _work(workId).contentCodec == 0;
    }

    /// @notice A work's heritage roots (a heritage work is its own single root).
    function rootsOf(uint256 workId) external view returns (uint32[] memory roots) {
        uint64[] memory packed = _packedRootShares(workId);
        roots = new uint32[](packed.length);
        for (uint256 k; k < packed.length; ++k) {
            // The high half of a packed (root << 32 | ppm) word.
            roots[k] = uint32(packed[k] >> 32);
        }
    }

    /// @notice Each heritage root's effective share of a payment to `workId`, in ppm: the
    ///         product of shares along each path to the root, summed over paths, each
    ///         generation rounded down (a heritage work: ([workId], [PPM])).
    function rootSharesOf(uint256 workId) external view returns (uint32[] memory roots, uint32[] memory ppms) {
        uint64[] memory packed = _packedRootShares(workId);
        uint256 n = packed.length;
        roots = new uint32[](n);
        ppms = new uint32[](n);
        for (uint256 k; k < n; ++k) {
            // The halves of a packed (root << 32 | ppm) word.
            roots[k] = uint32(packed[k] >> 32);
            ppms[k] = uint32(packed[k]);
        }
    }

    /// @notice A machine-made derivative's model CID and parameters hash (empty for people).
    function machineProvenanceOf(uint256 workId) external view returns (bytes memory modelCid, bytes32 paramsHash) {
        _work(workId);
        MachineProvenance memory m = _machine[workId];
        return (CidCodec.encode(m.modelCodec, m.modelDigest), m.paramsHash);
    }

    /// @notice Consents still missing for a pending derivative.
    function pendingConsentsOf(uint256 workId) external view returns (uint256) {
        return _work(workId).pendingConsents;
    }

    /// @notice Whether `communityId`'s consent is still needed for `workId`.
    function consentNeeded(uint256 workId, uint256 communityId) external view returns (bool) {
        _work(workId);
        return _consentNeeded[workId][communityId];
    }

    /// @inheritdoc IERC2981
    /// @dev The receiver is the work's own royalty receiver, which routes what it gets through
    ///      the router. Works that cannot be paid (unknown, pending, rejected, restricted)
    ///      answer (address(0), 0).
    function royaltyInfo(uint256 workId, uint256 salePrice) external view returns (address, uint256) {
        if (_works[workId].kind == WorkKind.None || _router.statusOf(workId) != WorkStatus.Active) {
            return (address(0), 0);
        }
        return (_router.receiverOf(workId), salePrice / 10_000 * royaltyBps + salePrice % 10_000 * royaltyBps / 10_000);
    }

    /// @notice `ipfs://` URI of the work's manifest.
    function tokenURI(uint256 workId) public view override returns (string memory) {
        Work storage w = _work(workId);
        if (w.manifestCodec == 0) return "";
        return string.concat("ipfs://", CidCodec.toBase32(CidCodec.encode(w.manifestCodec, w.manifestDigest)));
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) public view override(ERC721, IERC165) returns (bool) {
        return interfaceId == type(IERC2981).interfaceId || super.supportsInterface(interfaceId);
    }

    function _registerHeritage(HeritageParams calldata p, address steward) private returns (uint256 workId) {
        uint256 communityId = p.communityId;
        _requireSteward(communityId, steward);
        if (p.protocol.restricted) revert RegistryRestrictedMismatch(0);
        _checkProtocol(p.protocol);
        (uint8 codec, bytes32 digest) = CidCodec.decode(p.contentCid);
        address treasury = _treasuryOf(communityId);
        bool atOnce = _thresholdOf(communityId) == 1
            || (p.split.length == 1 && p.split[0].account == treasury && p.split[0].ppm == PPM);
        _claimContent(keccak256(p.contentCid), steward, p.salt, communityId, !atOnce);
        if (!atOnce && !_approve(communityId, keccak256(abi.encode("REGISTER_HERITAGE", p)), steward)) return 0;
        workId = _newWork(digest, codec, p.manifestCid, WorkKind.Heritage, communityId, steward);
        _protocols[workId] = p.protocol;
        _mint(treasury, workId);
        emit HeritageWorkRegistered(workId, communityId, steward, p.contentCid, bytes32(0), p.manifestCid);
        emit ProtocolSet(workId, p.protocol);
        _router.configureHeritage(workId, p.split, false);
    }

    /// @dev Lets `registrant` claim `contentKey`: the content must be free, not held by another
    ///      community's pending registration, and either held by `communityId` already or
    ///      committed to by `registrant` (the commitment is spent). With `hold`, a heritage
    ///      registration awaiting approvals holds the content for MAX_CLAIM_AGE.
    function _claimContent(bytes32 contentKey, address registrant, bytes32 salt, uint256 communityId, bool hold)
        private
    {
        uint256 existing = _workByContent[contentKey];
        if (existing != 0) revert RegistryContentAlreadyRegistered(contentKey, existing);
        uint256 claim = _claims[contentKey];
        if (claim != 0 && uint64(claim) >= block.timestamp) {
            if (communityId != 0 && claim >> 64 == communityId) return;
            revert RegistryContentClaimed(contentKey, claim >> 64);
        }
        bytes32 commitment = keccak256(abi.encode(registrant, contentKey, salt));
        uint256 record = _commitments[commitment];
        if (record == 0) revert RegistryCommitmentMissing(commitment);
        if (record >> 64 >= block.number) revert RegistryCommitmentTooNew(commitment);
        if (uint64(record) + MAX_COMMITMENT_AGE < block.timestamp) revert RegistryCommitmentExpired(commitment);
        delete _commitments[commitment];
        if (hold) {
            uint256 expiry = block.timestamp + MAX_CLAIM_AGE;
            _claims[contentKey] = communityId << 64 | expiry;
            emit ContentClaimed(contentKey, communityId, expiry);
        }
    }

    /// @dev Merges the parents' root shares into the derivative's (ProtocolRules.mergeRootShares),
    ///      checks every root's protocol, season and floor, and records which communities must
    ///      consent.
    function _checkLineage(uint256 workId, DerivativeParams calldata p)
        private
        returns (uint32[] memory roots, uint32[] memory rootPpms, uint256 pending)
    {
        uint256 parents = p.parents.length;
        uint64[][] memory parentShares = new uint64[][](parents);
        for (uint256 i; i < parents; ++i) {
            parentShares[i] = _packedRootShares(p.parents[i]);
        }
        (uint256[] memory found, uint256[] memory effective) = _rules.mergeRootShares(parentShares, p.parentPpms);
        uint256 count = found.length;
        roots = new uint32[](count);
        rootPpms = new uint32[](count);
        for (uint256 k; k < count; ++k) {
            if (_checkRoot(workId, found[k], effective[k], p)) ++pending;
            // Roots are work ids (< 2^32); a share above PPM means the parent shares sum above
            // PPM, which the router refuses in this same transaction, so clamping loses nothing.
            roots[k] = uint32(found[k]);
            rootPpms[k] = uint32(effective[k] > PPM ? PPM : effective[k]);
        }
    }

    /// @dev One root against the derivative (ProtocolRules.checkRoot); true when the root's
    ///      community must consent and was not yet counted.
    function _checkRoot(uint256 workId, uint256 root, uint256 effectivePpm, DerivativeParams calldata p)
        private
        returns (bool newConsent)
    {
        Protocol memory protocol = _protocols[root];
        _rules.checkRoot(root, protocol, effectivePpm, p.modelCid.length != 0, p.commercial);
        uint256 communityId = _works[root].communityId;
        if (protocol.consentRequired && !_consentNeeded[workId][communityId]) {
            _consentNeeded[workId][communityId] = true;
            return true;
        }
    }

    /// @dev A work's roots and effective shares packed root << 32 | ppm (a heritage work: itself, PPM).
    function _packedRootShares(uint256 workId) private view returns (uint64[] memory packed) {
        if (_work(workId).kind == WorkKind.Derivative) return _rootShares[workId];
        packed = new uint64[](1);
        packed[0] = uint64(workId) << 32 | PPM;
    }

    /// @notice The HeritageGovernance contract the registry delegates steward functions to.
    function governance() external view returns (HeritageGovernance) {
        return _governance;
    }

    function _implementation() internal view override returns (address) {
        return address(_governance);
    }
}
