// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {ITrainingRegistry} from "./interfaces/ITrainingRegistry.sol";
import {ProtocolRules} from "./ProtocolRules.sol";
import {TrainingSetPot, IRouterWithdrawal} from "./TrainingSetPot.sol";
import {PPM} from "./libraries/HeritageTypes.sol";
import {CidCodec} from "./libraries/CidCodec.sol";

/// @title TrainingSets: a model's training set anchored as a Merkle root, its share paid by counts
/// @notice The owner of a machine-made work (a model) anchors, once, the Merkle root of its
///         training set — leaves `keccak256(bytes.concat(keccak256(abi.encode(workId, cid))))`,
///         OpenZeppelin StandardMerkleTree's form for `(uint256, bytes)` — with each community's
///         count of works in the set. Money for the model's training set arrives by `deposit` or
///         from the router through the model's pot (`potOf`, named in the model's split, then
///         `sweep`), and is owed to the communities exactly pro rata to their counts: it is
///         distributed in whole multiples of the set's total, so that a community with `count`
///         works is owed `(arrived − arrived mod total) / total × count`. The carry,
///         `arrived mod total` (< total wei), waits for the next arrival. Treasuries withdraw.
/// @dev Members are not all checked on chain (a set may hold thousands of works): each
///      community entry comes with one sample member, proven in the tree, registered under that
///      CID, held by that community and allowing machine-learning use now (`ProtocolRules`); the
///      full list is checked off chain before anchoring (`chain/trainingsets.py`) and anyone can
///      audit it against the root with `isMember`.
contract TrainingSets is ReentrancyGuard {
    /// @notice One community's line in a training set.
    struct CommunityCount {
        uint256 communityId;
        uint256 count;
    }

    /// @notice A member of the set shown to the contract: its work id, content CID and proof.
    struct Sample {
        uint256 workId;
        bytes cid;
        bytes32[] proof;
    }

    /// @dev One community's account in one set: fits one slot.
    struct Entry {
        uint64 communityId;
        uint64 count;
        uint128 withdrawn;
    }

    /// @dev A set: root; total, anchoring time; wei arrived.
    struct Set {
        bytes32 root;
        uint64 total;
        uint64 anchoredAt;
        uint256 arrived;
    }

    /// @notice Most community entries one set may list; bounds `anchor`'s gas.
    uint256 public constant MAX_SET_COMMUNITIES = 64;

    ITrainingRegistry private immutable _registry;
    IRouterWithdrawal private immutable _router;
    ProtocolRules private immutable _rules;
    mapping(uint256 modelId => Set) private _sets;
    mapping(uint256 modelId => Entry[]) private _entries;
    /// @dev index + 1 of a community's entry in a model's set (0: not in the set).
    mapping(uint256 modelId => mapping(uint256 communityId => uint256)) private _slotOf;
    /// @dev True only while `sweep` pulls from a pot: the one time this contract accepts plain ETH.
    bool private _pulling;

    /// @notice `modelId`'s training set was anchored by its owner `anchorer`; `membersCid` names
    ///         the published member list (work id and CID of every leaf) that rebuilds the tree.
    event TrainingSetAnchored(
        uint256 indexed modelId,
        address indexed anchorer,
        bytes32 root,
        bytes membersCid,
        uint256 total,
        uint256[] communityIds,
        uint256[] counts
    );
    /// @notice `amount` wei arrived for `modelId`'s training set from `from` (a payer, or its pot).
    event TrainingSetPaid(uint256 indexed modelId, address indexed from, uint256 amount);
    /// @notice `communityId`'s treasury withdrew `amount` wei of `modelId`'s training-set share.
    event TrainingSetWithdrawn(uint256 indexed modelId, uint256 indexed communityId, address treasury, uint256 amount);

    /// @notice Only the model work's token owner may anchor its training set.
    error TrainingSetsNotModelOwner(uint256 modelId, address caller);
    /// @notice The work is not machine-made (no model CID): it has no training set.
    error TrainingSetsNotAModel(uint256 modelId);
    /// @notice A set is anchored once; it never changes.
    error TrainingSetsAlreadyAnchored(uint256 modelId);
    /// @notice The model has no anchored training set.
    error TrainingSetsNotAnchored(uint256 modelId);
    /// @notice The Merkle root is zero.
    error TrainingSetsZeroRoot();
    /// @notice A set lists 1 to MAX_SET_COMMUNITIES communities.
    error TrainingSetsBadCommunityCount(uint256 count, uint256 max);
    /// @notice Community ids must be strictly ascending (so none is listed twice).
    error TrainingSetsCommunitiesNotAscending(uint256 previous, uint256 communityId);
    /// @notice Every community counts at least one work and fits 64 bits.
    error TrainingSetsBadCount(uint256 communityId, uint256 count);
    /// @notice The counts do not add up to the set's total.
    error TrainingSetsCountMismatch(uint256 sum, uint256 total);
    /// @notice One sample member per community entry, in the same order.
    error TrainingSetsSampleCountMismatch(uint256 samples, uint256 communities);
    /// @notice The sample's proof does not lead to the root.
    error TrainingSetsBadProof(uint256 workId);
    /// @notice The sample's CID is not the content registered as `workId`.
    error TrainingSetsCidMismatch(uint256 workId, uint256 registeredAs);
    /// @notice The sample is not a heritage work of the entry's community.
    error TrainingSetsSampleNotOfCommunity(uint256 workId, uint256 communityId, uint256 heldBy);
    /// @notice Nothing to deposit.
    error TrainingSetsZeroDeposit(uint256 modelId);
    /// @notice Only the community's treasury withdraws its share.
    error TrainingSetsNotTreasury(uint256 communityId, address caller);
    /// @notice The community has no entry in the model's set.
    error TrainingSetsNotInSet(uint256 modelId, uint256 communityId);
    /// @notice Sending ETH to the treasury failed.
    error TrainingSetsTransferFailed(address to, uint256 amount);
    /// @notice Plain ETH is accepted only from a pot during `sweep`; pay a model with `deposit`.
    error TrainingSetsUnattributedPayment();

    /// @param registry_ the HeritageRegistry; its router and rules are read from it
    constructor(ITrainingRegistry registry_) {
        _registry = registry_;
        _router = IRouterWithdrawal(address(registry_.router()));
        _rules = registry_.rules();
    }

    /// @notice Accepts ETH only from the router while a pot is being swept.
    receive() external payable {
        if (!_pulling) revert TrainingSetsUnattributedPayment();
    }

    /// @notice Anchor `modelId`'s training set, once: its Merkle root, the CID of its published
    ///         member list (a binary CIDv1, so anyone can rebuild the tree), each community's count
    ///         (ascending community ids, counts summing to `total`) and one sample member per
    ///         community that proves the community is in the set and allows machine-learning use.
    /// @dev Reverts with ProtocolRules' named errors (e.g. `RegistryMachineLearningNotAllowed`)
    ///      when a sample's protocol forbids the use. Deploys the model's pot if it is not there.
    function anchor(
        uint256 modelId,
        bytes32 root,
        bytes calldata membersCid,
        CommunityCount[] calldata counts,
        uint256 total,
        Sample[] calldata samples
    ) external {
        if (_registry.ownerOf(modelId) != msg.sender) revert TrainingSetsNotModelOwner(modelId, msg.sender);
        (bytes memory modelCid,) = _registry.machineProvenanceOf(modelId);
        if (modelCid.length == 0) revert TrainingSetsNotAModel(modelId);
        if (_sets[modelId].root != bytes32(0)) revert TrainingSetsAlreadyAnchored(modelId);
        if (root == bytes32(0)) revert TrainingSetsZeroRoot();
        CidCodec.decode(membersCid); // reverts CidUnsupported unless a binary CIDv1 (raw or dag-pb)
        uint256 n = counts.length;
        if (n == 0 || n > MAX_SET_COMMUNITIES) revert TrainingSetsBadCommunityCount(n, MAX_SET_COMMUNITIES);
        if (samples.length != n) revert TrainingSetsSampleCountMismatch(samples.length, n);
        uint256[] memory ids = new uint256[](n);
        uint256[] memory nums = new uint256[](n);
        uint256 sum;
        for (uint256 i; i < n; ++i) {
            (uint256 communityId, uint256 count) = (counts[i].communityId, counts[i].count);
            if (i > 0 && communityId <= ids[i - 1]) revert TrainingSetsCommunitiesNotAscending(ids[i - 1], communityId);
            if (count == 0 || count > type(uint64).max || communityId > type(uint64).max) {
                revert TrainingSetsBadCount(communityId, count);
            }
            _checkSample(root, communityId, samples[i]);
            sum += count; // each count < 2^64 and n ≤ 64: cannot overflow
            (ids[i], nums[i]) = (communityId, count);
            // casts: both checked < 2^64 above
            _entries[modelId].push(Entry(uint64(communityId), uint64(count), 0));
            _slotOf[modelId][communityId] = i + 1;
        }
        if (sum != total) revert TrainingSetsCountMismatch(sum, total);
        // cast: sum of ≤ 64 counts each < 2^64 equals total, which the Set packs in 64 bits only
        // when it fits; a larger total is refused as a bad count
        if (total > type(uint64).max) revert TrainingSetsBadCount(0, total);
        _sets[modelId] = Set(root, uint64(total), uint64(block.timestamp), 0);
        emit TrainingSetAnchored(modelId, msg.sender, root, membersCid, total, ids, nums);
        address pot = potOf(modelId);
        if (pot.code.length == 0) new TrainingSetPot{salt: bytes32(modelId)}(_router);
    }

    /// @notice Pay `msg.value` wei to `modelId`'s training set.
    function deposit(uint256 modelId) external payable {
        if (msg.value == 0) revert TrainingSetsZeroDeposit(modelId);
        _arrive(modelId, msg.sender, msg.value);
    }

    /// @notice Move what the router owes `modelId`'s pot into the training set; anyone may call.
    /// @return amount the wei that arrived (0 when the pot had nothing)
    function sweep(uint256 modelId) external nonReentrant returns (uint256 amount) {
        if (_sets[modelId].root == bytes32(0)) revert TrainingSetsNotAnchored(modelId);
        address pot = potOf(modelId);
        _pulling = true;
        amount = TrainingSetPot(pot).pull();
        _pulling = false;
        if (amount > 0) _arrive(modelId, pot, amount);
    }

    /// @notice Send the community's treasury what it is owed from `modelId`'s training set.
    /// @dev Only the treasury may call; its account is updated before the transfer (and guarded).
    /// @return amount the wei sent (0 when nothing is owed)
    function withdraw(uint256 modelId, uint256 communityId) external nonReentrant returns (uint256 amount) {
        address treasury = _registry.treasuryOf(communityId);
        if (msg.sender != treasury) revert TrainingSetsNotTreasury(communityId, msg.sender);
        Entry storage e = _entry(modelId, communityId);
        amount = _owed(_sets[modelId], e);
        if (amount == 0) return 0;
        // cast: withdrawn ≤ arrived, and arrived is ETH that exists (far below 2^128 wei)
        e.withdrawn += uint128(amount);
        emit TrainingSetWithdrawn(modelId, communityId, treasury, amount);
        (bool ok,) = treasury.call{value: amount}("");
        if (!ok) revert TrainingSetsTransferFailed(treasury, amount);
    }

    /// @notice Whether (`workId`, `cid`) is a leaf of `modelId`'s training set, by `proof`.
    function isMember(uint256 modelId, uint256 workId, bytes calldata cid, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        bytes32 root = _sets[modelId].root;
        if (root == bytes32(0)) revert TrainingSetsNotAnchored(modelId);
        return MerkleProof.verifyCalldata(proof, root, leafOf(workId, cid));
    }

    /// @notice The Merkle leaf of a member (StandardMerkleTree form, types `(uint256, bytes)`).
    function leafOf(uint256 workId, bytes calldata cid) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(workId, cid))));
    }

    /// @notice The set: root, total, anchoring time, wei arrived and wei distributed so far
    ///         (arrived less the carry, `arrived mod total`).
    function trainingSetOf(uint256 modelId)
        external
        view
        returns (bytes32 root, uint256 total, uint256 anchoredAt, uint256 arrived, uint256 distributed)
    {
        Set storage s = _sets[modelId];
        if (s.root == bytes32(0)) revert TrainingSetsNotAnchored(modelId);
        return (s.root, s.total, s.anchoredAt, s.arrived, s.arrived - s.arrived % s.total);
    }

    /// @notice The set's communities (ascending), their counts and what each has withdrawn.
    function entriesOf(uint256 modelId)
        external
        view
        returns (uint256[] memory communityIds, uint256[] memory counts, uint256[] memory withdrawn)
    {
        Entry[] storage list = _entries[modelId];
        uint256 n = list.length;
        (communityIds, counts, withdrawn) = (new uint256[](n), new uint256[](n), new uint256[](n));
        for (uint256 i; i < n; ++i) {
            (communityIds[i], counts[i], withdrawn[i]) = (list[i].communityId, list[i].count, list[i].withdrawn);
        }
    }

    /// @notice What `communityId`'s treasury may withdraw now from `modelId`'s set.
    function owedOf(uint256 modelId, uint256 communityId) external view returns (uint256) {
        return _owed(_sets[modelId], _entry(modelId, communityId));
    }

    /// @notice The address of `modelId`'s pot (CREATE2; valid before it exists).
    function potOf(uint256 modelId) public view returns (address) {
        bytes32 initHash = keccak256(abi.encodePacked(type(TrainingSetPot).creationCode, abi.encode(_router)));
        bytes32 h = keccak256(abi.encodePacked(bytes1(0xff), address(this), bytes32(modelId), initHash));
        return address(uint160(uint256(h))); // cast: the low 20 bytes are the address by definition
    }

    /// @notice The registry this contract reads.
    function registry() external view returns (ITrainingRegistry) {
        return _registry;
    }

    function _arrive(uint256 modelId, address from, uint256 amount) private {
        Set storage s = _sets[modelId];
        if (s.root == bytes32(0)) revert TrainingSetsNotAnchored(modelId);
        s.arrived += amount;
        emit TrainingSetPaid(modelId, from, amount);
    }

    function _owed(Set storage s, Entry storage e) private view returns (uint256) {
        // distributed / total × count: distributed is a multiple of total, so exact
        return s.arrived / s.total * e.count - e.withdrawn;
    }

    function _entry(uint256 modelId, uint256 communityId) private view returns (Entry storage) {
        uint256 slot = _slotOf[modelId][communityId];
        if (slot == 0) revert TrainingSetsNotInSet(modelId, communityId);
        return _entries[modelId][slot - 1];
    }

    function _checkSample(bytes32 root, uint256 communityId, Sample calldata s) private view {
        if (!MerkleProof.verifyCalldata(s.proof, root, leafOf(s.workId, s.cid))) revert TrainingSetsBadProof(s.workId);
        uint256 registered = _registry.workByContent(s.cid);
        if (registered != s.workId) revert TrainingSetsCidMismatch(s.workId, registered);
        uint256 heldBy = _registry.heritageCommunityOf(s.workId);
        if (heldBy != communityId) revert TrainingSetsSampleNotOfCommunity(s.workId, communityId, heldBy);
        _rules.checkRoot(s.workId, _registry.protocolOf(s.workId), PPM, true, false);
    }
}
