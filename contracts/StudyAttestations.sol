// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IWorkRegistry} from "./interfaces/IWorkRegistry.sol";
import {CidCodec} from "./libraries/CidCodec.sol";

/// @title StudyAttestations: listening-study results anchored on chain, linked to the rated works
/// @notice A study's full results are stored off chain by CID (canonical JSON); an attestation
///         records that CID, the hash of the study's summary and the registered works the study
///         rated, with who attested and when. Anyone may attest: an attestation is a signed
///         statement by its attester, not a ruling, and it names the attester. Its worth is
///         checkable by anyone: the summary hash and the results CID let an auditor fetch both
///         documents, re-hash them and compare (`chain/attest.py`, `verify_attestation`).
/// @dev The summary hash is the SHA-256 of the summary's bytes; for a summary of one block
///      (at most 256 KiB) that is also the digest of its raw CIDv1, so the summary can be found
///      by its hash alone. The contract does not interpret it.
contract StudyAttestations {
    /// @dev One attestation: slot 0 packs attester, time and CID codec; the CID digest and the
    ///      summary hash take one slot each; the works are packed eight to a slot.
    struct Record {
        address attester;
        uint64 timestamp;
        uint8 cidCodec;
        bytes32 cidDigest;
        bytes32 summaryHash;
        uint32[] works;
    }

    /// @notice Everything about one attestation, as returned by `attestationOf`.
    struct AttestationView {
        address attester;
        uint256 timestamp;
        bytes resultsCid;
        bytes32 summaryHash;
        uint256[] works;
    }

    /// @notice Most works one attestation may link; bounds `attest`'s gas (3.26M at the limit).
    uint256 public constant MAX_ATTESTED_WORKS = 64;
    /// @notice Most ids one `attestationsOfWork` page returns.
    uint256 public constant MAX_PAGE = 100;

    IWorkRegistry private immutable _registry;
    uint256 private _count;
    mapping(uint256 id => Record) private _records;
    /// @dev Attestation ids linking each work, oldest first (ids fit 64 bits: see `attest`).
    mapping(uint256 workId => uint64[]) private _byWork;

    /// @notice `attester` anchored a study's results (`resultsCid`) and summary (`summaryHash`),
    ///         linked to the registered `works` (ascending).
    event StudyAttested(
        uint256 indexed id, address indexed attester, bytes resultsCid, bytes32 summaryHash, uint256[] works
    );

    /// @notice The registry address is zero.
    error StudyAttestationsZeroRegistry();
    /// @notice An attestation must link at least one work.
    error StudyAttestationsNoWorks();
    /// @notice More works than MAX_ATTESTED_WORKS.
    error StudyAttestationsTooManyWorks(uint256 count, uint256 max);
    /// @notice No registered work has this id.
    error StudyAttestationsUnknownWork(uint256 workId);
    /// @notice The work is restricted (secret/sacred): it is not to be studied in public.
    error StudyAttestationsWorkRestricted(uint256 workId);
    /// @notice Works must be given in strictly ascending order (so none twice).
    error StudyAttestationsWorksNotAscending(uint256 previous, uint256 workId);
    /// @notice The summary hash is zero: hash the summary's bytes (SHA-256).
    error StudyAttestationsZeroSummaryHash();
    /// @notice No attestation has this id.
    error StudyAttestationsUnknownAttestation(uint256 id);

    /// @param registry_ the HeritageRegistry whose works attestations link
    constructor(IWorkRegistry registry_) {
        if (address(registry_) == address(0)) revert StudyAttestationsZeroRegistry();
        _registry = registry_;
    }

    /// @notice Anchor a study's results, stored by `resultsCid`, and the hash of its summary,
    ///         linked to the registered works it rated. Anyone may attest; the attestation names
    ///         the caller as its attester.
    /// @param resultsCid binary CIDv1 (raw or dag-pb, sha2-256) of the full results; anything
    ///        else (an empty one included) reverts `CidUnsupported`
    /// @param summaryHash SHA-256 of the summary's bytes; must not be zero
    /// @param works ids of registered, unrestricted works, strictly ascending, 1 to
    ///        MAX_ATTESTED_WORKS of them (a restricted work reverts `StudyAttestationsWorkRestricted`)
    /// @return id the attestation's id; ids run from 1 to `attestationCount()`
    function attest(bytes calldata resultsCid, bytes32 summaryHash, uint256[] calldata works)
        external
        returns (uint256 id)
    {
        (uint8 codec, bytes32 digest) = CidCodec.decode(resultsCid);
        if (summaryHash == bytes32(0)) revert StudyAttestationsZeroSummaryHash();
        uint256 n = works.length;
        if (n == 0) revert StudyAttestationsNoWorks();
        if (n > MAX_ATTESTED_WORKS) revert StudyAttestationsTooManyWorks(n, MAX_ATTESTED_WORKS);
        uint256 known = _registry.workCount();

        id = ++_count;
        Record storage r = _records[id];
        r.attester = msg.sender;
        // A uint64 of seconds lasts for billions of years.
        r.timestamp = uint64(block.timestamp);
        r.cidCodec = codec;
        r.cidDigest = digest;
        r.summaryHash = summaryHash;
        uint256 previous;
        for (uint256 i; i < n; ++i) {
            uint256 workId = works[i];
            if (workId == 0 || workId > known || workId > type(uint32).max) {
                revert StudyAttestationsUnknownWork(workId);
            }
            if (workId <= previous) revert StudyAttestationsWorksNotAscending(previous, workId);
            if (_registry.isRestricted(workId)) revert StudyAttestationsWorkRestricted(workId);
            previous = workId;
            // Checked just above: workId <= type(uint32).max.
            r.works.push(uint32(workId));
            // One id per attest call, so 2^64 ids cannot be reached.
            _byWork[workId].push(uint64(id));
        }
        emit StudyAttested(id, msg.sender, resultsCid, summaryHash, works);
    }

    /// @notice The registry whose works attestations link.
    function registry() external view returns (IWorkRegistry) {
        return _registry;
    }

    /// @notice Number of attestations; ids run from 1 to this number.
    function attestationCount() external view returns (uint256) {
        return _count;
    }

    /// @notice One attestation: its attester, block time, results CID, summary hash and works.
    function attestationOf(uint256 id) external view returns (AttestationView memory v) {
        if (id == 0 || id > _count) revert StudyAttestationsUnknownAttestation(id);
        Record storage r = _records[id];
        v.attester = r.attester;
        v.timestamp = r.timestamp;
        v.resultsCid = CidCodec.encode(r.cidCodec, r.cidDigest);
        v.summaryHash = r.summaryHash;
        uint256 n = r.works.length;
        v.works = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            v.works[i] = r.works[i];
        }
    }

    /// @notice Ids of the attestations linking `workId`, oldest first: at most `limit` (capped
    ///         at MAX_PAGE) from position `offset`, and how many there are in all.
    /// @dev An unknown work simply has none.
    function attestationsOfWork(uint256 workId, uint256 offset, uint256 limit)
        external
        view
        returns (uint256[] memory ids, uint256 total)
    {
        uint64[] storage all = _byWork[workId];
        total = all.length;
        if (limit > MAX_PAGE) limit = MAX_PAGE;
        uint256 end = offset >= total ? offset : (total - offset > limit ? offset + limit : total);
        ids = new uint256[](end - offset);
        for (uint256 i = offset; i < end; ++i) {
            ids[i - offset] = all[i];
        }
    }
}
