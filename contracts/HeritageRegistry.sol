// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IERC2981} from "@openzeppelin/contracts/interfaces/IERC2981.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {CommunityStewardship} from "./CommunityStewardship.sol";
import {StewardSignatures} from "./StewardSignatures.sol";
import {IRoyaltyRouter} from "./interfaces/IRoyaltyRouter.sol";
import {CidCodec} from "./libraries/CidCodec.sol";
import {
    PPM,
    MAX_ROOTS,
    WorkKind,
    WorkStatus,
    Protocol,
    Recipient,
    HeritageParams,
    DerivativeParams
} from "./libraries/HeritageTypes.sol";

/// @title HeritageRegistry: heritage works, cultural protocols and derivatives as ERC-721 tokens
/// @notice Communities register the works they steward with a cultural protocol; creators
///         register derivatives whose every heritage root's protocol is checked here. Each work
///         is an ERC-721 token (heritage works are held by the community treasury, derivatives
///         by their registrant). Royalties are routed by the bound RoyaltyRouter.
contract HeritageRegistry is ERC721, IERC2981, CommunityStewardship, StewardSignatures {
    /// @dev One slot of facts plus the two CID digests.
    struct Work {
        address registrant;
        uint32 communityId; // heritage works only
        uint32 timestamp;
        WorkKind kind;
        uint8 contentCodec; // 0 for a restricted work: contentDigest is then a salted commitment
        uint8 manifestCodec; // 0 when no manifest CID was given
        uint8 pendingConsents; // communities whose consent is still missing
        bytes32 contentDigest;
        bytes32 manifestDigest;
    }

    /// @notice A machine-made derivative's model and parameters.
    struct MachineProvenance {
        bytes32 modelDigest;
        bytes32 paramsHash;
        uint8 modelCodec;
    }

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

    /// @notice ERC-2981 royalty on secondary sales, in basis points of the sale price.
    uint96 public immutable royaltyBps;

    IRoyaltyRouter private immutable _router;
    uint256 private _workCount;
    mapping(uint256 workId => Work) private _works;
    mapping(bytes32 contentKey => uint256 workId) private _workByContent;
    mapping(uint256 workId => Protocol) private _protocols;
    /// @dev Heritage roots of a derivative (a heritage work is its own root).
    mapping(uint256 workId => uint32[]) private _roots;
    mapping(uint256 workId => MachineProvenance) private _machine;
    mapping(uint256 workId => mapping(uint256 communityId => bool)) private _consentNeeded;
    mapping(uint256 workId => uint256 communityId) private _disputedBy;
    mapping(uint256 workId => uint256) private _disputeCount;

    /// @notice A heritage work was registered (restricted works carry a commitment, no CID).
    event HeritageWorkRegistered(
        uint256 indexed workId,
        uint256 indexed communityId,
        address indexed registrant,
        bytes contentCid,
        bytes32 commitment,
        bytes manifestCid
    );
    /// @notice A heritage work's cultural protocol was set or changed.
    event ProtocolSet(uint256 indexed workId, Protocol protocol);
    /// @notice A derivative was registered; `status` is Pending when consent is required.
    event DerivativeRegistered(
        uint256 indexed workId,
        address indexed registrant,
        bytes contentCid,
        bytes manifestCid,
        uint256[] parents,
        uint32[] parentPpms,
        uint32[] roots,
        WorkStatus status,
        bool commercial
    );
    /// @notice A derivative was made by a model with these weights and parameters.
    event MachineProvenanceRecorded(uint256 indexed workId, bytes modelCid, bytes32 paramsHash);
    /// @notice A community whose consent the derivative needed gave it.
    event DerivativeConsented(uint256 indexed workId, uint256 indexed communityId, uint256 remaining);
    /// @notice A community whose consent the derivative needed refused it.
    event DerivativeRejected(uint256 indexed workId, uint256 indexed communityId);
    /// @notice A community flagged a derivative as misappropriation.
    event DisputeRaised(uint256 indexed workId, uint256 indexed communityId, address indexed steward, bytes evidenceCid);
    /// @notice The community's stewards resolved the dispute.
    event DisputeResolved(uint256 indexed workId, uint256 indexed communityId, bool upheld);

    /// @notice This content (or commitment) is registered already, as `workId`.
    error RegistryContentAlreadyRegistered(bytes32 contentKey, uint256 workId);
    /// @notice No work has this id.
    error RegistryUnknownWork(uint256 workId);
    /// @notice The action needs a heritage work.
    error RegistryNotHeritageWork(uint256 workId);
    /// @notice The action needs a derivative.
    error RegistryNotDerivative(uint256 workId);
    /// @notice A heritage root is restricted (secret/sacred): no derivatives.
    error RegistryAncestorRestricted(uint256 rootId);
    /// @notice A heritage root's protocol does not allow derivatives.
    error RegistryDerivativesNotAllowed(uint256 rootId);
    /// @notice A heritage root's protocol does not allow machine-learning use.
    error RegistryMachineLearningNotAllowed(uint256 rootId);
    /// @notice A heritage root's protocol does not allow commercial use.
    error RegistryCommercialUseNotAllowed(uint256 rootId);
    /// @notice The derivative routes less upstream than the largest floor share of its roots.
    error RegistryFloorNotMet(uint256 upstreamPpm, uint256 floorPpm);
    /// @notice More distinct heritage roots than MAX_ROOTS.
    error RegistryTooManyRoots(uint256 max);
    /// @notice A floor share above PPM.
    error RegistryInvalidFloor(uint256 floorPpm);
    /// @notice Restricted works are registered with `registerRestrictedWork`, and stay restricted.
    error RegistryRestrictedMismatch(uint256 workId);
    /// @notice The derivative is not pending, or this community's consent is not needed or given.
    error RegistryConsentNotExpected(uint256 workId, uint256 communityId);
    /// @notice Only the community's stewards (heritage) or the token owner (derivative) set a split.
    error RegistryNotSplitAuthority(uint256 workId, address account);
    /// @notice The community stewards none of the derivative's heritage roots.
    error RegistryNotInLineage(uint256 workId, uint256 communityId);
    /// @notice The work is already under dispute.
    error RegistryAlreadyDisputed(uint256 workId);
    /// @notice The work is not under dispute.
    error RegistryNoDispute(uint256 workId);
    /// @notice A batch must hold at least one item.
    error RegistryEmptyBatch();

    /// @param router_ the RoyaltyRouter this registry configures (bind it to this registry next)
    /// @param royaltyBps_ ERC-2981 royalty for secondary sales, basis points (<= 10,000)
    constructor(IRoyaltyRouter router_, uint96 royaltyBps_)
        ERC721("Heritage Ledger Work", "HLW")
        StewardSignatures("HeritageRegistry", "1")
    {
        require(royaltyBps_ <= 10_000, "royalty above 100%");
        _router = router_;
        royaltyBps = royaltyBps_;
    }

    // ------------------------------------------------------------------ heritage works

    /// @notice Register a heritage work of `p.communityId`; the caller must be its steward.
    /// @dev The token is minted to the community treasury. Restricted works use
    ///      `registerRestrictedWork`.
    function registerHeritageWork(HeritageParams calldata p) external returns (uint256 workId) {
        _requireSteward(p.communityId, msg.sender);
        return _registerHeritage(p, msg.sender);
    }

    /// @notice Register several heritage works in one transaction (same rules as one by one).
    /// @return firstId the id of the first; the rest follow sequentially
    function registerHeritageWorks(HeritageParams[] calldata batch) external returns (uint256 firstId) {
        if (batch.length == 0) revert RegistryEmptyBatch();
        firstId = _workCount + 1;
        for (uint256 i; i < batch.length; ++i) {
            _requireSteward(batch[i].communityId, msg.sender);
            _registerHeritage(batch[i], msg.sender);
        }
    }

    /// @notice Register a heritage work on a steward's EIP-712 signature (a relayer submits it).
    function registerHeritageWorkBySig(
        HeritageParams calldata p,
        address steward,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 workId) {
        _useStewardSignature(steward, _hashRegisterHeritage(p, nonces(steward), deadline), deadline, signature);
        _requireSteward(p.communityId, steward);
        return _registerHeritage(p, steward);
    }

    /// @notice Register a secret/sacred work as a salted hash commitment only. No content CID
    ///         is published, the work is never paid and no derivative of it can exist.
    /// @param commitment keccak256 of (salt ‖ content CID), kept by the community
    /// @param manifestCid an optional public manifest (empty for none)
    /// @param labels Local Contexts label bitmap; `labelsVersion` the table version
    function registerRestrictedWork(
        uint256 communityId,
        bytes32 commitment,
        bytes calldata manifestCid,
        uint64 labels,
        uint16 labelsVersion
    ) external returns (uint256 workId) {
        _requireSteward(communityId, msg.sender);
        workId = _newWork(commitment, 0, manifestCid, WorkKind.Heritage, communityId, msg.sender);
        Protocol memory protocol = Protocol(false, true, false, false, true, true, 0, labels, labelsVersion);
        _protocols[workId] = protocol;
        _mint(_treasuryOf(communityId), workId);
        emit HeritageWorkRegistered(workId, communityId, msg.sender, "", commitment, manifestCid);
        emit ProtocolSet(workId, protocol);
        _router.configureHeritage(workId, new Recipient[](0), true);
    }

    /// @notice Change a heritage work's protocol; any steward of its community may. The
    ///         restricted flag cannot change. New derivatives are checked against the new
    ///         protocol; existing ones stay.
    function setProtocol(uint256 workId, Protocol calldata protocol) external {
        Work storage w = _heritage(workId);
        _requireSteward(w.communityId, msg.sender);
        if (protocol.restricted != _protocols[workId].restricted) revert RegistryRestrictedMismatch(workId);
        if (protocol.floorPpm > PPM) revert RegistryInvalidFloor(protocol.floorPpm);
        _protocols[workId] = protocol;
        emit ProtocolSet(workId, protocol);
    }

    /// @notice Replace a work's split: a steward for a heritage work, the token owner for a
    ///         derivative.
    function setSplit(uint256 workId, Recipient[] calldata split) external {
        Work storage w = _work(workId);
        bool allowed = w.kind == WorkKind.Heritage ? isSteward(w.communityId, msg.sender) : ownerOf(workId) == msg.sender;
        if (!allowed) revert RegistryNotSplitAuthority(workId, msg.sender);
        _router.setSplit(workId, split);
    }

    // ------------------------------------------------------------------ derivatives

    /// @notice Register a derivative of up to MAX_PARENTS active works. Every heritage root's
    ///         protocol is checked; where a root community requires consent the derivative is
    ///         Pending until that community's stewards approve it.
    function registerDerivative(DerivativeParams calldata p) external returns (uint256 workId) {
        (uint8 contentCodec, bytes32 digest) = CidCodec.decode(p.contentCid);
        workId = _newWork(digest, contentCodec, p.manifestCid, WorkKind.Derivative, 0, msg.sender);
        (uint32[] memory roots, uint256 pending) = _checkLineage(workId, p);
        _works[workId].pendingConsents = uint8(pending); // pending <= MAX_ROOTS (16)
        _roots[workId] = roots;
        if (p.modelCid.length != 0) {
            (uint8 modelCodec, bytes32 modelDigest) = CidCodec.decode(p.modelCid);
            _machine[workId] = MachineProvenance(modelDigest, p.paramsHash, modelCodec);
            emit MachineProvenanceRecorded(workId, p.modelCid, p.paramsHash);
        }
        _mint(msg.sender, workId);
        _emitDerivative(workId, p, roots, pending == 0 ? WorkStatus.Active : WorkStatus.Pending);
        _router.configureDerivative(workId, p.parents, p.parentPpms, p.split, pending != 0);
    }

    /// @notice Approve a pending derivative for `communityId`; consent is given when the
    ///         community's threshold of stewards has approved.
    function approveDerivative(uint256 workId, uint256 communityId) external returns (bool consented) {
        return _approveDerivative(workId, communityId, msg.sender);
    }

    /// @notice `approveDerivative` on a steward's EIP-712 signature.
    function approveDerivativeBySig(
        uint256 workId,
        uint256 communityId,
        address steward,
        uint256 deadline,
        bytes calldata signature
    ) external returns (bool consented) {
        _useStewardSignature(
            steward, _hashApproveDerivative(workId, communityId, nonces(steward), deadline), deadline, signature
        );
        return _approveDerivative(workId, communityId, steward);
    }

    /// @notice Vote to refuse a pending derivative; refused when the threshold is reached.
    function rejectDerivative(uint256 workId, uint256 communityId) external returns (bool rejected) {
        _requireConsentExpected(workId, communityId);
        rejected = _approve(communityId, keccak256(abi.encode("REJECT", workId)), msg.sender);
        if (rejected) {
            _consentNeeded[workId][communityId] = false;
            emit DerivativeRejected(workId, communityId);
            _router.setStatus(workId, WorkStatus.Rejected);
        }
    }

    // ------------------------------------------------------------------ disputes

    /// @notice Flag a derivative as misappropriation for `communityId`, which must steward one
    ///         of its heritage roots. From now on the derivative's own share is escrowed.
    function raiseDispute(uint256 workId, uint256 communityId, bytes calldata evidenceCid) external {
        _requireSteward(communityId, msg.sender);
        Work storage w = _work(workId);
        if (w.kind != WorkKind.Derivative) revert RegistryNotDerivative(workId);
        if (_disputedBy[workId] != 0) revert RegistryAlreadyDisputed(workId);
        if (!_hasRootOf(workId, communityId)) revert RegistryNotInLineage(workId, communityId);
        _disputedBy[workId] = communityId;
        ++_disputeCount[workId];
        emit DisputeRaised(workId, communityId, msg.sender, evidenceCid);
        _router.openDispute(workId, communityId);
    }

    /// @notice Vote to resolve the dispute on `workId`: upheld sends the escrow to the community
    ///         treasury, dismissed releases it to the work's split. Applied at the threshold.
    function resolveDispute(uint256 workId, bool upheld) external returns (bool resolved) {
        return _resolveDispute(workId, upheld, msg.sender);
    }

    /// @notice `resolveDispute` on a steward's EIP-712 signature.
    function resolveDisputeBySig(uint256 workId, bool upheld, address steward, uint256 deadline, bytes calldata signature)
        external
        returns (bool resolved)
    {
        _useStewardSignature(steward, _hashResolveDispute(workId, upheld, nonces(steward), deadline), deadline, signature);
        return _resolveDispute(workId, upheld, steward);
    }

    // ------------------------------------------------------------------ views

    /// @notice The royalty router.
    function router() external view returns (IRoyaltyRouter) {
        return _router;
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

    /// @notice The work registered for this binary CID (or restricted commitment), 0 if none.
    function workByContent(bytes calldata cidOrCommitment) external view returns (uint256) {
        return _workByContent[keccak256(cidOrCommitment)];
    }

    /// @notice A heritage work's cultural protocol.
    function protocolOf(uint256 workId) external view returns (Protocol memory) {
        _heritage(workId);
        return _protocols[workId];
    }

    /// @notice A work's heritage roots (a heritage work is its own single root).
    function rootsOf(uint256 workId) public view returns (uint32[] memory roots) {
        Work storage w = _work(workId);
        if (w.kind == WorkKind.Derivative) return _roots[workId];
        roots = new uint32[](1);
        roots[0] = uint32(workId);
    }

    /// @notice A machine-made derivative's model CID and parameters hash (empty for people).
    function machineProvenanceOf(uint256 workId) external view returns (bytes memory modelCid, bytes32 paramsHash) {
        MachineProvenance memory m = _machine[workId];
        return (CidCodec.encode(m.modelCodec, m.modelDigest), m.paramsHash);
    }

    /// @notice Consents still missing for a pending derivative.
    function pendingConsentsOf(uint256 workId) external view returns (uint256) {
        return _work(workId).pendingConsents;
    }

    /// @notice Whether `communityId`'s consent is still needed for `workId`.
    function consentNeeded(uint256 workId, uint256 communityId) external view returns (bool) {
        return _consentNeeded[workId][communityId];
    }

    /// @notice The community holding a dispute on `workId`, 0 when none.
    function disputeOf(uint256 workId) external view returns (uint256 communityId) {
        return _disputedBy[workId];
    }

    /// @inheritdoc IERC2981
    /// @dev The receiver is the router: marketplaces should pay through `RoyaltyRouter.pay`,
    ///      which routes the royalty up the work's lineage.
    function royaltyInfo(uint256, uint256 salePrice) external view returns (address, uint256) {
        return (address(_router), salePrice * royaltyBps / 10_000);
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

    // ------------------------------------------------------------------ internals

    function _work(uint256 workId) private view returns (Work storage w) {
        w = _works[workId];
        if (w.kind == WorkKind.None) revert RegistryUnknownWork(workId);
    }

    function _heritage(uint256 workId) private view returns (Work storage w) {
        w = _work(workId);
        if (w.kind != WorkKind.Heritage) revert RegistryNotHeritageWork(workId);
    }

    function _registerHeritage(HeritageParams calldata p, address registrant) private returns (uint256 workId) {
        if (p.protocol.restricted) revert RegistryRestrictedMismatch(0);
        if (p.protocol.floorPpm > PPM) revert RegistryInvalidFloor(p.protocol.floorPpm);
        (uint8 codec, bytes32 digest) = CidCodec.decode(p.contentCid);
        workId = _newWork(digest, codec, p.manifestCid, WorkKind.Heritage, p.communityId, registrant);
        _protocols[workId] = p.protocol;
        _mint(_treasuryOf(p.communityId), workId);
        emit HeritageWorkRegistered(workId, p.communityId, registrant, p.contentCid, bytes32(0), p.manifestCid);
        emit ProtocolSet(workId, p.protocol);
        _router.configureHeritage(workId, p.split, false);
    }

    /// @dev Allocates the id, claims the content key and stores the common facts.
    function _newWork(
        bytes32 digest,
        uint8 contentCodec,
        bytes calldata manifestCid,
        WorkKind kind,
        uint256 communityId,
        address registrant
    ) private returns (uint256 workId) {
        // The key is keccak256 of the bytes `workByContent` is asked with: the binary CID, or the
        // 32-byte commitment of a restricted work.
        bytes32 key = keccak256(contentCodec == 0 ? abi.encodePacked(digest) : CidCodec.encode(contentCodec, digest));
        uint256 existing = _workByContent[key];
        if (existing != 0) revert RegistryContentAlreadyRegistered(key, existing);
        workId = ++_workCount;
        _workByContent[key] = workId;
        uint8 manifestCodec;
        bytes32 manifestDigest;
        if (manifestCid.length != 0) (manifestCodec, manifestDigest) = CidCodec.decode(manifestCid);
        // Community ids and timestamps fit 32 bits (ids are sequential; seconds until 2106).
        _works[workId] = Work(
            registrant,
            uint32(communityId),
            uint32(block.timestamp),
            kind,
            contentCodec,
            manifestCodec,
            0,
            digest,
            manifestDigest
        );
    }

    /// @dev Collects the distinct heritage roots of the parents, checks each root's protocol
    ///      and the floor share, and records which communities must consent.
    function _checkLineage(uint256 workId, DerivativeParams calldata p)
        private
        returns (uint32[] memory roots, uint256 pending)
    {
        uint32[] memory found = new uint32[](MAX_ROOTS);
        uint256 count;
        for (uint256 i; i < p.parents.length; ++i) {
            uint32[] memory parentRoots = rootsOf(p.parents[i]);
            for (uint256 j; j < parentRoots.length; ++j) {
                uint32 root = parentRoots[j];
                bool seen;
                for (uint256 k; k < count; ++k) {
                    if (found[k] == root) {
                        seen = true;
                        break;
                    }
                }
                if (seen) continue;
                if (count == MAX_ROOTS) revert RegistryTooManyRoots(MAX_ROOTS);
                found[count++] = root;
            }
        }
        uint256 upstream;
        for (uint256 i; i < p.parentPpms.length; ++i) {
            upstream += p.parentPpms[i];
        }
        uint256 floor;
        for (uint256 k; k < count; ++k) {
            uint256 root = found[k];
            Protocol memory protocol = _protocols[root];
            if (protocol.restricted) revert RegistryAncestorRestricted(root);
            if (!protocol.derivativesAllowed) revert RegistryDerivativesNotAllowed(root);
            if (p.modelCid.length != 0 && !protocol.mlAllowed) revert RegistryMachineLearningNotAllowed(root);
            if (p.commercial && !protocol.commercialAllowed) revert RegistryCommercialUseNotAllowed(root);
            if (protocol.floorPpm > floor) floor = protocol.floorPpm;
            uint256 communityId = _works[root].communityId;
            if (protocol.consentRequired && !_consentNeeded[workId][communityId]) {
                _consentNeeded[workId][communityId] = true;
                ++pending;
            }
        }
        if (upstream < floor) revert RegistryFloorNotMet(upstream, floor);
        roots = new uint32[](count);
        for (uint256 k; k < count; ++k) {
            roots[k] = found[k];
        }
    }

    function _emitDerivative(uint256 workId, DerivativeParams calldata p, uint32[] memory roots, WorkStatus status)
        private
    {
        emit DerivativeRegistered(
            workId, msg.sender, p.contentCid, p.manifestCid, p.parents, p.parentPpms, roots, status, p.commercial
        );
    }

    function _requireConsentExpected(uint256 workId, uint256 communityId) private view {
        _work(workId);
        if (!_consentNeeded[workId][communityId] || _router.statusOf(workId) != WorkStatus.Pending) {
            revert RegistryConsentNotExpected(workId, communityId);
        }
    }

    function _approveDerivative(uint256 workId, uint256 communityId, address steward) private returns (bool consented) {
        _requireConsentExpected(workId, communityId);
        consented = _approve(communityId, keccak256(abi.encode("CONSENT", workId)), steward);
        if (consented) {
            _consentNeeded[workId][communityId] = false;
            uint256 remaining = --_works[workId].pendingConsents;
            emit DerivativeConsented(workId, communityId, remaining);
            if (remaining == 0) _router.setStatus(workId, WorkStatus.Active);
        }
    }

    function _resolveDispute(uint256 workId, bool upheld, address steward) private returns (bool resolved) {
        uint256 communityId = _disputedBy[workId];
        if (communityId == 0) revert RegistryNoDispute(workId);
        bytes32 subject = keccak256(abi.encode("RESOLVE", workId, _disputeCount[workId], upheld));
        resolved = _approve(communityId, subject, steward);
        if (resolved) {
            _disputedBy[workId] = 0;
            emit DisputeResolved(workId, communityId, upheld);
            _router.closeDispute(workId, upheld, _treasuryOf(communityId));
        }
    }

    function _hasRootOf(uint256 workId, uint256 communityId) private view returns (bool) {
        uint32[] storage roots = _roots[workId];
        for (uint256 k; k < roots.length; ++k) {
            if (_works[roots[k]].communityId == communityId) return true;
        }
        return false;
    }
}
