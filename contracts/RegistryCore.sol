// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

import {CommunityStewardship} from "./CommunityStewardship.sol";
import {StewardSignatures} from "./StewardSignatures.sol";
import {ProtocolRules} from "./ProtocolRules.sol";
import {IRoyaltyRouter} from "./interfaces/IRoyaltyRouter.sol";
import {CidCodec} from "./libraries/CidCodec.sol";
import {Labels} from "./libraries/Labels.sol";
import {
    PPM,
    MAX_ROOTS,
    MAX_COMMITMENT_AGE,
    MAX_RESERVED_KEYS,
    WorkKind,
    WorkStatus,
    Protocol
} from "./libraries/HeritageTypes.sol";

/// @title RegistryCore: the state, events and errors shared by HeritageRegistry and HeritageGovernance
/// @notice HeritageRegistry delegates the steward-governance functions to HeritageGovernance
///         (deployed beside it) so that each stays under the 24,576-byte code limit. Both
///         inherit this contract and nothing else with state, so their storage layouts are the
///         same by construction; governance code only ever runs on the registry's storage
///         through `delegatecall`.
abstract contract RegistryCore is ERC721, CommunityStewardship, StewardSignatures {
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

    /// @notice ERC-2981 royalty on secondary sales, in basis points of the sale price.
    uint96 public immutable royaltyBps;

    IRoyaltyRouter internal immutable _router;
    ProtocolRules internal immutable _rules;
    uint256 internal _workCount;
    mapping(uint256 workId => Work) internal _works;
    mapping(bytes32 contentKey => uint256 workId) internal _workByContent;
    mapping(uint256 workId => Protocol) internal _protocols;
    /// @dev A derivative's heritage roots with their effective shares, root << 32 | ppm.
    mapping(uint256 workId => uint64[]) internal _rootShares;
    mapping(uint256 workId => MachineProvenance) internal _machine;
    mapping(uint256 workId => mapping(uint256 communityId => bool)) internal _consentNeeded;
    /// @dev block number << 64 | timestamp of each registration commitment.
    mapping(bytes32 commitment => uint256) internal _commitments;
    /// @dev communityId << 64 | expiry of content held by a heritage registration awaiting k.
    mapping(bytes32 contentKey => uint256) internal _claims;
    /// @dev Applied protocol and split changes per heritage work: approvals name the count, so
    ///      approvals given before a change never count after it.
    mapping(uint256 workId => uint256) internal _protocolNonce;
    mapping(uint256 workId => uint256) internal _splitNonce;

    /// @notice A registration commitment was recorded.
    event RegistrationCommitted(bytes32 indexed commitment, address indexed committer);
    /// @notice A heritage registration awaiting k approvals holds `contentKey` until `expiry`.
    event ContentClaimed(bytes32 indexed contentKey, uint256 indexed communityId, uint256 expiry);
    /// @notice A heritage work was registered (restricted works carry a commitment, no CID).
    event HeritageWorkRegistered(
        uint256 indexed workId,
        uint256 indexed communityId,
        address indexed registrant,
        bytes contentCid,
        bytes32 commitment,
        bytes manifestCid
    );
    /// @notice A restricted work reserved these content keys: their bytes never register publicly.
    event ContentKeysReserved(uint256 indexed workId, bytes32[] contentKeys);
    /// @notice A heritage work's cultural protocol was set or changed.
    event ProtocolSet(uint256 indexed workId, Protocol protocol);
    /// @notice A derivative was registered; `status` is Pending when consent is required.
    ///         `rootPpms[i]` is root `roots[i]`'s effective share of a payment to it.
    event DerivativeRegistered(
        uint256 indexed workId,
        address indexed registrant,
        bytes contentCid,
        bytes manifestCid,
        uint256[] parents,
        uint32[] parentPpms,
        uint32[] roots,
        uint32[] rootPpms,
        WorkStatus status,
        bool commercial
    );
    /// @notice A derivative was made by a model with these weights and parameters.
    event MachineProvenanceRecorded(uint256 indexed workId, bytes modelCid, bytes32 paramsHash);
    /// @notice A community whose consent the derivative needed gave it.
    event DerivativeConsented(uint256 indexed workId, uint256 indexed communityId, uint256 remaining);
    /// @notice A community whose consent the derivative needed refused it.
    event DerivativeRejected(uint256 indexed workId, uint256 indexed communityId);

    /// @notice This content (or commitment) is registered or reserved already, as `workId`.
    error RegistryContentAlreadyRegistered(bytes32 contentKey, uint256 workId);
    /// @notice A heritage registration of `communityId` awaiting its approvals holds this content.
    error RegistryContentClaimed(bytes32 contentKey, uint256 communityId);
    /// @notice No commitment to this registration: call `commitRegistration` a block before.
    error RegistryCommitmentMissing(bytes32 commitment);
    /// @notice The commitment was made in this block: register in a later one.
    error RegistryCommitmentTooNew(bytes32 commitment);
    /// @notice The commitment is older than MAX_COMMITMENT_AGE: commit again.
    error RegistryCommitmentExpired(bytes32 commitment);
    /// @notice This commitment is recorded already and still live.
    error RegistryCommitmentExists(bytes32 commitment);
    /// @notice No work has this id.
    error RegistryUnknownWork(uint256 workId);
    /// @notice The action needs a heritage work.
    error RegistryNotHeritageWork(uint256 workId);
    /// @notice More distinct heritage roots than MAX_ROOTS.
    error RegistryTooManyRoots(uint256 max);
    /// @notice Restricted works are registered with `registerRestrictedWork`, and stay restricted.
    error RegistryRestrictedMismatch(uint256 workId);
    /// @notice More reserved content keys than MAX_RESERVED_KEYS.
    error RegistryTooManyReservedKeys(uint256 count, uint256 max);
    /// @notice The derivative is not pending, or this community's consent is not needed or given.
    error RegistryConsentNotExpected(uint256 workId, uint256 communityId);
    /// @notice Only the community's stewards (heritage) or the token owner (derivative) set a split.
    error RegistryNotSplitAuthority(uint256 workId, address account);
    /// @notice A batch must hold at least one item.
    error RegistryEmptyBatch();
    /// @notice A floor share above PPM.
    error RegistryInvalidFloor(uint256 floorPpm);
    /// @notice The season word is not 0 or two valid UTC (month, day) pairs.
    error RegistryInvalidSeason(uint32 season);
    /// @notice TK Secret/Sacred needs a restricted work (`registerRestrictedWork`).
    error RegistryLabelNeedsRestricted(uint64 labels);
    /// @notice A Non-Commercial label (TK or BC) forbids `commercialAllowed`.
    error RegistryLabelForbidsCommercial(uint64 labels);
    /// @notice TK Seasonal needs a season window.
    error RegistryLabelNeedsSeason(uint64 labels);
    /// @notice The ERC-2981 royalty is above 10,000 basis points.
    error RegistryInvalidRoyalty(uint256 royaltyBps);

    /// @param router_ the RoyaltyRouter the registry configures (bind it to the registry next)
    /// @param rules_ the ProtocolRules contract (deploy it first; it has no constructor arguments)
    /// @param royaltyBps_ ERC-2981 royalty for secondary sales, basis points (<= 10,000)
    constructor(IRoyaltyRouter router_, ProtocolRules rules_, uint96 royaltyBps_)
        ERC721("Heritage Ledger Work", "HLW")
        StewardSignatures("HeritageRegistry", "1")
    {
        if (royaltyBps_ > 10_000) revert RegistryInvalidRoyalty(royaltyBps_);
        _router = router_;
        _rules = rules_;
        royaltyBps = royaltyBps_;
    }

    function _work(uint256 workId) internal view returns (Work storage w) {
        w = _works[workId];
        if (w.kind == WorkKind.None) revert RegistryUnknownWork(workId);
    }

    function _heritage(uint256 workId) internal view returns (Work storage w) {
        w = _work(workId);
        if (w.kind != WorkKind.Heritage) revert RegistryNotHeritageWork(workId);
    }

    /// @dev Allocates the id, claims the content key and stores the common facts.
    function _newWork(
        bytes32 digest,
        uint8 contentCodec,
        bytes calldata manifestCid,
        WorkKind kind,
        uint256 communityId,
        address registrant
    ) internal returns (uint256 workId) {
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

    /// @notice Revert unless `protocol` is well formed: floor at most PPM, a valid season word,
    ///         and the enforced labels consistent (Secret/Sacred ⇒ restricted, Non-Commercial ⇒
    ///         no commercial use, Seasonal ⇒ a season window, unless restricted).
    function _checkProtocol(Protocol calldata protocol) internal pure {
        if (protocol.floorPpm > PPM) revert RegistryInvalidFloor(protocol.floorPpm);
        uint64 labels = protocol.labels;
        if (Labels.isSecretSacred(labels) && !protocol.restricted) revert RegistryLabelNeedsRestricted(labels);
        if (Labels.isNonCommercial(labels) && protocol.commercialAllowed) {
            revert RegistryLabelForbidsCommercial(labels);
        }
        if (!Labels.isValidSeason(protocol.season)) revert RegistryInvalidSeason(protocol.season);
        if (Labels.isSeasonal(labels) && protocol.season == 0 && !protocol.restricted) {
            revert RegistryLabelNeedsSeason(labels);
        }
    }
}
