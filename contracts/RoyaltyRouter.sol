// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Create2} from "@openzeppelin/contracts/utils/Create2.sol";

import {IRoyaltyRouter} from "./interfaces/IRoyaltyRouter.sol";
import {IDisputeHooks} from "./interfaces/IDisputeHooks.sol";
import {RoyaltyReceiver} from "./RoyaltyReceiver.sol";
import {RouteBlob} from "./libraries/RouteBlob.sol";
import {
    PPM, MAX_PARENTS, MAX_RECIPIENTS, MAX_LINEAGE_DEPTH, MAX_ROUTE_NODES, Recipient, WorkStatus
} from "./libraries/HeritageTypes.sol";

/// @dev Credits one payment may make, counted with multiplicity over the route (a node reached
///      by two paths counts twice), as `routeSize` counts visits. With every balance slot cold
///      the proven worst case of `pay` stays under 15,000,000 gas (contracts/README.md, "Gas bound").
uint256 constant MAX_ROUTE_CREDITS = 512;
/// @dev Every split may later grow to at least this many recipients: a node's credit count is
///      max(initial split length, MIN_SPLIT_CAP), fixed when it is configured.
uint256 constant MIN_SPLIT_CAP = 4;

/// @title RoyaltyRouter: lineage royalty routing with pull payments, in ETH and ERC-20
/// @notice A payment to a work first sends each parent its share (recursively up to the
///         heritage roots), then splits the rest among the work's own recipients. Paying only
///         credits balances; `withdraw` moves the money. The credits of one payment add up to
///         the amount received, to the wei (rounding rule in contracts/README.md).
/// @dev Token address(0) stands for ETH throughout.
contract RoyaltyRouter is IRoyaltyRouter, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @dev Routing state of one work; one storage slot.
    struct Node {
        WorkStatus status;
        uint8 depth; // <= MAX_LINEAGE_DEPTH
        uint8 routeSize; // <= MAX_ROUTE_NODES
        uint8 splitCap; // <= MAX_RECIPIENTS: the most recipients its split may ever have
        uint16 routeCredits; // <= MAX_ROUTE_CREDITS
        uint24 upstreamPpm; // <= PPM < 2^24
        uint24 heldBy; // dispute holding the work's own share in escrow, 0 when none
        address table; // RouteBlob holding parents and split; 0 for a restricted work
    }

    /// @notice How escrow left on a work after its dispute ended is credited.
    struct Verdict {
        address beneficiary; // the claimant community's treasury
        uint32 awardPpm; // the beneficiary's part of the escrow; the split gets the rest
    }

    /// @notice Largest amount one payment may carry, so that `amount * PPM` cannot overflow.
    uint256 public constant MAX_PAYMENT = type(uint256).max / PPM;
    /// @notice Dispute ids the router can record (`Node.heldBy` is 24 bits).
    uint256 public constant MAX_DISPUTE_ID = type(uint24).max;

    address private immutable _binder;
    address private _registry;
    address private _disputes;

    mapping(uint256 workId => Node) private _nodes;
    mapping(uint256 workId => address) private _registrants;
    mapping(address token => mapping(address account => uint256)) private _balances;
    mapping(address token => uint256) private _owed;
    mapping(uint256 workId => mapping(address token => uint256)) private _escrow;
    /// @dev Tokens (ETH included) with escrow on the work; a new hold waits until it is 0.
    mapping(uint256 workId => uint256) private _escrowTokenCount;
    mapping(uint256 workId => Verdict) private _verdicts;

    /// @notice The registry this router obeys was set, once.
    event RegistryBound(address indexed registry);
    /// @notice The disputes contract allowed to hold escrow was set, once.
    event DisputesBound(address indexed disputes);
    /// @notice A work's routing node was created.
    event WorkConfigured(uint256 indexed workId, WorkStatus status, uint256 depth, uint256 routeSize);
    /// @notice A work's credit bound: its own split cap and its route's total credits.
    event CreditsBounded(uint256 indexed workId, uint256 splitCap, uint256 routeCredits);
    /// @notice A derivative's parents and their shares were recorded.
    event LineageSet(uint256 indexed workId, uint256[] parents, uint32[] parentPpms);
    /// @notice A work's split of its own income was set or replaced.
    event SplitSet(uint256 indexed workId, Recipient[] split);
    /// @notice A work's status changed (approved, rejected).
    event StatusChanged(uint256 indexed workId, WorkStatus status);
    /// @notice A payment was received and credited through the lineage of `workId`.
    /// @param usageRef an off-chain reference to the usage being paid for
    /// @param usageTime when the usage happened (unix seconds), for settlement latency
    event Paid(
        uint256 indexed workId,
        address indexed token,
        address indexed payer,
        uint256 amount,
        bytes32 usageRef,
        uint64 usageTime
    );
    /// @notice Dispute `disputeId` holds `workId`'s own share in escrow from now on.
    event EscrowHeld(uint256 indexed workId, uint256 indexed disputeId);
    /// @notice The hold ended; escrow left is credited by `releaseEscrow` under this verdict.
    event HoldEnded(uint256 indexed workId, uint256 indexed disputeId, address indexed beneficiary, uint256 awardPpm);
    /// @notice Escrow of one token was credited: `award` to the verdict's beneficiary, the rest to the split.
    event EscrowReleased(uint256 indexed workId, address indexed token, uint256 amount, uint256 award);
    /// @notice Tokens (or ETH) the router held beyond what it owes were routed to `workId`.
    event SurplusRouted(uint256 indexed workId, address indexed token, uint256 amount);
    /// @notice A work's royalty receiver was created at its predicted address.
    event ReceiverDeployed(uint256 indexed workId, address indexed receiver);
    /// @notice `account` withdrew its balance of `token` to `to`.
    event Withdrawn(address indexed account, address indexed token, address to, uint256 amount);

    /// @notice Only the deployer may bind the registry or the disputes contract, and only once.
    error RouterNotBinder(address caller);
    /// @notice The registry (or disputes contract) is already bound.
    error RouterAlreadyBound(address bound);
    /// @notice The address to bind must not be zero.
    error RouterZeroRegistry();
    /// @notice Only the bound registry may configure works.
    error RouterNotRegistry(address caller);
    /// @notice Only the bound disputes contract may hold or end escrow.
    error RouterNotDisputes(address caller);
    /// @notice The work already has a routing node.
    error RouterWorkExists(uint256 workId);
    /// @notice The work has no routing node: register it first.
    error RouterUnknownWork(uint256 workId);
    /// @notice The work cannot be paid or used in its current status.
    error RouterWorkNotPayable(uint256 workId, WorkStatus status);
    /// @notice A parent is not active (pending, rejected, restricted or unknown).
    error RouterParentNotActive(uint256 parentId, WorkStatus status);
    /// @notice The split is empty, too long, has a zero account or share, or does not sum to PPM.
    error RouterInvalidSplit(uint256 workId);
    /// @notice A new split has more recipients than the cap fixed when the work was configured.
    error RouterSplitOverCap(uint256 workId, uint256 recipients, uint256 cap);
    /// @notice Parents and shares differ in length, a share is zero, or shares exceed PPM.
    error RouterInvalidLineage(uint256 workId);
    /// @notice A parent is named twice.
    error RouterDuplicateParent(uint256 parentId);
    /// @notice More parents than MAX_PARENTS.
    error RouterTooManyParents(uint256 count, uint256 max);
    /// @notice The lineage would be deeper than MAX_LINEAGE_DEPTH.
    error RouterLineageTooDeep(uint256 depth, uint256 max);
    /// @notice One payment would visit more than MAX_ROUTE_NODES works.
    error RouterRouteTooLarge(uint256 routeSize, uint256 max);
    /// @notice One payment could make more than MAX_ROUTE_CREDITS credits (cold gas bound).
    error RouterRouteCreditsTooMany(uint256 routeCredits, uint256 max);
    /// @notice The amount is zero or above MAX_PAYMENT.
    error RouterInvalidAmount(uint256 amount);
    /// @notice ETH sent does not equal the sum of the batch's amounts.
    error RouterValueMismatch(uint256 sent, uint256 expected);
    /// @notice Batch arrays differ in length.
    error RouterBatchLengthMismatch();
    /// @notice No balance to withdraw.
    error RouterNothingToWithdraw(address account, address token);
    /// @notice Sending ETH to `to` failed; the balance is kept: withdraw to another address.
    error RouterTransferFailed(address to, uint256 amount);
    /// @notice The work's own share is already held by dispute `disputeId`.
    error RouterAlreadyHeld(uint256 workId, uint256 disputeId);
    /// @notice The work's own share is not held.
    error RouterNotHeld(uint256 workId);
    /// @notice Dispute ids must be in 1..MAX_DISPUTE_ID; an award at most PPM.
    error RouterInvalidHold(uint256 disputeId, uint256 awardPpm);
    /// @notice Escrow of an earlier hold on `workId` is still there in `tokens` tokens: call
    ///         `releaseEscrow(workId, token)` for each (anyone may), then hold again.
    error RouterEscrowUnreleased(uint256 workId, uint256 tokens);
    /// @notice Nothing of `token` is escrowed for `workId`.
    error RouterNothingToRelease(uint256 workId, address token);
    /// @notice The router holds no `token` beyond what it owes.
    error RouterNoSurplus(address token);
    /// @notice Plain transfers carry no work id: call pay(workId, usageRef, usageTime).
    error RouterUnattributedPayment();
    /// @notice ERC-20 payments must use payToken, ETH payments pay.
    error RouterWrongEntryPoint();

    modifier onlyRegistry() {
        if (msg.sender != _registry) revert RouterNotRegistry(msg.sender);
        _;
    }

    modifier onlyDisputes() {
        if (msg.sender != _disputes) revert RouterNotDisputes(msg.sender);
        _;
    }

    constructor() {
        _binder = msg.sender;
    }

    /// @notice Plain ETH cannot be attributed to a work, so it is refused.
    receive() external payable {
        revert RouterUnattributedPayment();
    }

    /// @notice Bind the registry that configures works. Callable once, by the deployer.
    function bindRegistry(address registry_) external {
        _checkBind(_registry, registry_);
        _registry = registry_;
        emit RegistryBound(registry_);
    }

    /// @notice Bind the disputes contract that may hold escrow. Callable once, by the deployer.
    function bindDisputes(address disputes_) external {
        _checkBind(_disputes, disputes_);
        _disputes = disputes_;
        emit DisputesBound(disputes_);
    }

    // ------------------------------------------------------------------ registry-only

    /// @inheritdoc IRoyaltyRouter
    function configureHeritage(uint256 workId, Recipient[] calldata split, bool restricted) external onlyRegistry {
        if (_nodes[workId].status != WorkStatus.None) revert RouterWorkExists(workId);
        WorkStatus status = restricted ? WorkStatus.Restricted : WorkStatus.Active;
        address table = restricted ? address(0) : _writeTable(workId, new uint64[](0), split);
        uint256 cap = restricted ? 0 : _capOf(split.length);
        // Casts are safe: cap <= MAX_RECIPIENTS = 32.
        _nodes[workId] = Node(status, 0, 1, uint8(cap), uint16(cap), 0, 0, table);
        emit WorkConfigured(workId, status, 0, 1);
        emit CreditsBounded(workId, cap, cap);
        if (!restricted) emit SplitSet(workId, split);
    }

    /// @inheritdoc IRoyaltyRouter
    function configureDerivative(
        uint256 workId,
        address registrant,
        uint256[] calldata parents,
        uint32[] calldata parentPpms,
        Recipient[] calldata split,
        bool pending
    ) external onlyRegistry {
        if (_nodes[workId].status != WorkStatus.None) revert RouterWorkExists(workId);
        (uint64[] memory lineage, uint256 depth, uint256 routeSize, uint256 upstream, uint256 credits) =
            _checkLineage(workId, parents, parentPpms);
        if (upstream > PPM) revert RouterInvalidLineage(workId);
        if (depth > MAX_LINEAGE_DEPTH) revert RouterLineageTooDeep(depth, MAX_LINEAGE_DEPTH);
        if (routeSize > MAX_ROUTE_NODES) revert RouterRouteTooLarge(routeSize, MAX_ROUTE_NODES);
        uint256 cap = _capOf(split.length);
        credits += cap;
        if (credits > MAX_ROUTE_CREDITS) revert RouterRouteCreditsTooMany(credits, MAX_ROUTE_CREDITS);
        WorkStatus status = pending ? WorkStatus.Pending : WorkStatus.Active;
        address table = _writeTable(workId, lineage, split);
        // Casts are safe: depth <= 8, routeSize <= 64, cap <= 32, credits <= 512, upstream <= PPM.
        _nodes[workId] =
            Node(status, uint8(depth), uint8(routeSize), uint8(cap), uint16(credits), uint24(upstream), 0, table);
        _registrants[workId] = registrant;
        emit WorkConfigured(workId, status, depth, routeSize);
        emit CreditsBounded(workId, cap, credits);
        emit LineageSet(workId, parents, parentPpms);
        emit SplitSet(workId, split);
        // Last, after every write: ask the disputes contract whether the new work is held too.
        uint256 heldBy = _holdForParents(workId, registrant, parents);
        if (heldBy != 0) {
            // Cast is safe: heldBy <= MAX_DISPUTE_ID, checked when the parent's hold began.
            _nodes[workId].heldBy = uint24(heldBy);
            emit EscrowHeld(workId, heldBy);
        }
    }

    /// @inheritdoc IRoyaltyRouter
    function setStatus(uint256 workId, WorkStatus status) external onlyRegistry {
        Node storage node = _nodes[workId];
        if (node.status == WorkStatus.None) revert RouterUnknownWork(workId);
        node.status = status;
        emit StatusChanged(workId, status);
    }

    /// @inheritdoc IRoyaltyRouter
    function setSplit(uint256 workId, Recipient[] calldata split) external onlyRegistry {
        Node storage node = _nodes[workId];
        WorkStatus status = node.status;
        if (status == WorkStatus.None) revert RouterUnknownWork(workId);
        if (status == WorkStatus.Restricted) revert RouterWorkNotPayable(workId, status);
        if (split.length > node.splitCap) revert RouterSplitOverCap(workId, split.length, node.splitCap);
        bytes memory table = RouteBlob.read(node.table);
        uint256 n = RouteBlob.parentCount(table);
        uint64[] memory lineage = new uint64[](n);
        for (uint256 i; i < n; ++i) {
            (uint256 parentId, uint32 ppm) = RouteBlob.parentAt(table, i);
            lineage[i] = uint64(parentId) << 32 | ppm;
        }
        node.table = _writeTable(workId, lineage, split);
        emit SplitSet(workId, split);
    }

    // ------------------------------------------------------------------ disputes-only

    /// @notice From now on escrow `workId`'s own share of every payment for dispute `disputeId`.
    /// @dev Refused while escrow of an earlier hold is unreleased, so verdicts never mix.
    function holdEscrow(uint256 workId, uint256 disputeId) external onlyDisputes {
        Node storage node = _nodes[workId];
        if (node.status == WorkStatus.None) revert RouterUnknownWork(workId);
        if (node.heldBy != 0) revert RouterAlreadyHeld(workId, node.heldBy);
        if (disputeId == 0 || disputeId > MAX_DISPUTE_ID) revert RouterInvalidHold(disputeId, 0);
        uint256 unreleased = _escrowTokenCount[workId];
        if (unreleased != 0) revert RouterEscrowUnreleased(workId, unreleased);
        // Cast is safe: disputeId <= MAX_DISPUTE_ID = 2^24 - 1.
        node.heldBy = uint24(disputeId);
        emit EscrowHeld(workId, disputeId);
    }

    /// @notice End the hold on `workId`: its escrow will be credited `awardPpm` / PPM to
    ///         `beneficiary` and the rest to its split, token by token, by `releaseEscrow`.
    function endHold(uint256 workId, address beneficiary, uint256 awardPpm) external onlyDisputes {
        Node storage node = _nodes[workId];
        uint256 disputeId = node.heldBy;
        if (disputeId == 0) revert RouterNotHeld(workId);
        if (awardPpm > PPM || (awardPpm != 0 && beneficiary == address(0))) {
            revert RouterInvalidHold(disputeId, awardPpm);
        }
        node.heldBy = 0;
        // Cast is safe: awardPpm <= PPM.
        _verdicts[workId] = Verdict(beneficiary, uint32(awardPpm));
        emit HoldEnded(workId, disputeId, beneficiary, awardPpm);
    }

    /// @notice Credit the escrow of `token` (address(0): ETH) on `workId` after its hold ended,
    ///         by the stored verdict. Anyone may call it: the funds only go where the verdict sends
    ///         them. One call per token keeps the gas bounded whatever tokens were paid in.
    function releaseEscrow(uint256 workId, address token) external nonReentrant returns (uint256 amount) {
        Node storage node = _nodes[workId];
        if (node.heldBy != 0) revert RouterAlreadyHeld(workId, node.heldBy);
        amount = _escrow[workId][token];
        if (amount == 0) revert RouterNothingToRelease(workId, token);
        _escrow[workId][token] = 0;
        --_escrowTokenCount[workId];
        Verdict memory verdict = _verdicts[workId];
        // Cannot overflow: amount <= MAX_PAYMENT-bounded sums of payments, awardPpm <= PPM.
        uint256 award = amount * verdict.awardPpm / PPM;
        if (award != 0) _balances[token][verdict.beneficiary] += award;
        if (amount != award) _creditSplit(RouteBlob.read(node.table), token, amount - award);
        emit EscrowReleased(workId, token, amount, award);
    }

    // ------------------------------------------------------------------ payments

    /// @notice Pay `msg.value` wei to `workId` for one usage; credits flow up its lineage.
    /// @param usageRef an off-chain reference to the usage (stream id, invoice hash, …)
    /// @param usageTime when the usage happened, unix seconds (0 if unknown)
    function pay(uint256 workId, bytes32 usageRef, uint64 usageTime) external payable nonReentrant {
        _pay(workId, address(0), msg.value, usageRef, usageTime);
    }

    /// @notice Pay many usages in ETH in one transaction; `msg.value` must equal the sum.
    function payBatch(
        uint256[] calldata workIds,
        uint256[] calldata amounts,
        bytes32[] calldata usageRefs,
        uint64[] calldata usageTimes
    ) external payable nonReentrant {
        uint256 n = workIds.length;
        if (amounts.length != n || usageRefs.length != n || usageTimes.length != n) {
            revert RouterBatchLengthMismatch();
        }
        uint256 total;
        for (uint256 i; i < n; ++i) {
            total += amounts[i];
            _pay(workIds[i], address(0), amounts[i], usageRefs[i], usageTimes[i]);
        }
        if (total != msg.value) revert RouterValueMismatch(msg.value, total);
    }

    /// @notice Pay `amount` of ERC-20 `token` to `workId`. The router credits what it actually
    ///         received, so fee-on-transfer tokens are routed net of their fee.
    /// @dev The payer must have approved the router for `amount`.
    function payToken(uint256 workId, address token, uint256 amount, bytes32 usageRef, uint64 usageTime)
        external
        nonReentrant
    {
        if (token == address(0)) revert RouterWrongEntryPoint();
        if (amount == 0 || amount > MAX_PAYMENT) revert RouterInvalidAmount(amount);
        _requirePayable(workId);
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = IERC20(token).balanceOf(address(this)) - before;
        _pay(workId, token, received, usageRef, usageTime);
    }

    /// @notice Route what the router holds of `token` (address(0): ETH) beyond what it owes as a
    ///         payment to `workId`. Such funds were sent without a work id (a plain ERC-20
    ///         transfer, forced ETH) and are owed to nobody; anyone may route them, and they can
    ///         only go through an active work's lineage (see contracts/README.md, "Nothing stuck").
    function routeSurplus(address token, uint256 workId) external nonReentrant returns (uint256 amount) {
        uint256 held = token == address(0) ? address(this).balance : IERC20(token).balanceOf(address(this));
        uint256 owed = _owed[token];
        if (held <= owed) revert RouterNoSurplus(token);
        amount = held - owed;
        if (amount > MAX_PAYMENT) amount = MAX_PAYMENT;
        emit SurplusRouted(workId, token, amount);
        _pay(workId, token, amount, "surplus", 0);
    }

    /// @notice Withdraw the caller's whole balance of `token` (address(0) for ETH) to itself.
    function withdraw(address token) external nonReentrant returns (uint256) {
        return _withdraw(token, msg.sender);
    }

    /// @notice Withdraw the caller's whole balance of `token` to `to` (for accounts that cannot
    ///         receive ETH themselves).
    function withdrawTo(address token, address to) external nonReentrant returns (uint256) {
        return _withdraw(token, to);
    }

    /// @notice Create `workId`'s ERC-2981 royalty receiver at `receiverOf(workId)`. Anyone may;
    ///         a second call returns the existing receiver. Funds sent to the address before are kept
    ///         by the receiver and routed by its `flush`.
    function deployReceiver(uint256 workId) external returns (address receiver) {
        if (_nodes[workId].status == WorkStatus.None) revert RouterUnknownWork(workId);
        receiver = receiverOf(workId);
        if (receiver.code.length != 0) return receiver;
        receiver = Create2.deploy(0, bytes32(workId), _receiverInitCode(workId));
        emit ReceiverDeployed(workId, receiver);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IRoyaltyRouter
    function receiverOf(uint256 workId) public view returns (address) {
        return Create2.computeAddress(bytes32(workId), keccak256(_receiverInitCode(workId)));
    }

    /// @notice The registry this router obeys.
    function registry() external view returns (address) {
        return _registry;
    }

    /// @notice The disputes contract that may hold escrow.
    function disputes() external view returns (address) {
        return _disputes;
    }

    /// @notice Withdrawable balance of `account` in `token`.
    function balanceOf(address token, address account) external view returns (uint256) {
        return _balances[token][account];
    }

    /// @notice What the router owes in `token`: unwithdrawn balances plus escrow.
    function owedOf(address token) external view returns (uint256) {
        return _owed[token];
    }

    /// @notice Funds of `token` escrowed on `workId`.
    function escrowOf(uint256 workId, address token) external view returns (uint256) {
        return _escrow[workId][token];
    }

    /// @notice The dispute holding `workId`'s own share (0: none), and how many tokens still hold escrow.
    function holdOf(uint256 workId) external view returns (uint256 disputeId, uint256 escrowTokens) {
        return (_nodes[workId].heldBy, _escrowTokenCount[workId]);
    }

    /// @notice The verdict by which `workId`'s escrow is released after its last hold.
    function verdictOf(uint256 workId) external view returns (address beneficiary, uint256 awardPpm) {
        Verdict memory v = _verdicts[workId];
        return (v.beneficiary, v.awardPpm);
    }

    /// @notice Who registered derivative `workId` (address(0) for heritage works).
    function registrantOf(uint256 workId) external view returns (address) {
        return _registrants[workId];
    }

    /// @notice The most recipients `workId`'s split may have, and its route's total credits.
    function creditsOf(uint256 workId) external view returns (uint256 splitCap, uint256 routeCredits) {
        Node storage node = _nodes[workId];
        return (node.splitCap, node.routeCredits);
    }

    /// @notice The work's split of its own income.
    function splitOf(uint256 workId) external view returns (Recipient[] memory split) {
        bytes memory table = RouteBlob.read(_nodes[workId].table);
        uint256 n = RouteBlob.recipientCount(table);
        split = new Recipient[](n);
        for (uint256 j; j < n; ++j) {
            (split[j].account, split[j].ppm) = RouteBlob.recipientAt(table, j);
        }
    }

    /// @notice The address whose code holds the work's routing table (see RouteBlob).
    function routeTableOf(uint256 workId) external view returns (address) {
        return _nodes[workId].table;
    }

    /// @inheritdoc IRoyaltyRouter
    function statusOf(uint256 workId) external view returns (WorkStatus) {
        return _nodes[workId].status;
    }

    /// @inheritdoc IRoyaltyRouter
    function depthOf(uint256 workId) external view returns (uint256) {
        return _nodes[workId].depth;
    }

    /// @notice Routing facts of a work: status, depth, route size, upstream share, holding dispute.
    function nodeOf(uint256 workId)
        external
        view
        returns (WorkStatus status, uint256 depth, uint256 routeSize, uint256 upstreamPpm, uint256 heldBy)
    {
        Node memory node = _nodes[workId];
        return (node.status, node.depth, node.routeSize, node.upstreamPpm, node.heldBy);
    }

    /// @inheritdoc IRoyaltyRouter
    function parentsOf(uint256 workId) external view returns (uint256[] memory parents, uint32[] memory ppms) {
        bytes memory table = RouteBlob.read(_nodes[workId].table);
        uint256 n = RouteBlob.parentCount(table);
        parents = new uint256[](n);
        ppms = new uint32[](n);
        for (uint256 i; i < n; ++i) {
            (parents[i], ppms[i]) = RouteBlob.parentAt(table, i);
        }
    }

    // ------------------------------------------------------------------ internals

    function _checkBind(address current, address next) private view {
        if (msg.sender != _binder) revert RouterNotBinder(msg.sender);
        if (current != address(0)) revert RouterAlreadyBound(current);
        if (next == address(0)) revert RouterZeroRegistry();
    }

    function _capOf(uint256 recipients) private pure returns (uint256) {
        return recipients > MIN_SPLIT_CAP ? recipients : MIN_SPLIT_CAP;
    }

    function _receiverInitCode(uint256 workId) private pure returns (bytes memory) {
        return abi.encodePacked(type(RoyaltyReceiver).creationCode, abi.encode(workId));
    }

    /// @dev A new derivative of a held work is held by the same dispute when the disputes contract
    ///      says its registrant is a party (the wrapper trick); the first held parent decides.
    function _holdForParents(uint256 workId, address registrant, uint256[] calldata parents)
        private
        returns (uint256)
    {
        for (uint256 i; i < parents.length; ++i) {
            uint256 disputeId = _nodes[parents[i]].heldBy;
            if (disputeId != 0 && IDisputeHooks(_disputes).descendantRegistered(disputeId, workId, registrant)) {
                return disputeId;
            }
        }
        return 0;
    }

    function _requirePayable(uint256 workId) private view {
        WorkStatus status = _nodes[workId].status;
        if (status != WorkStatus.Active) revert RouterWorkNotPayable(workId, status);
    }

    function _pay(uint256 workId, address token, uint256 amount, bytes32 usageRef, uint64 usageTime) private {
        if (amount == 0 || amount > MAX_PAYMENT) revert RouterInvalidAmount(amount);
        _requirePayable(workId);
        _owed[token] += amount;
        emit Paid(workId, token, msg.sender, amount, usageRef, usageTime);
        _route(workId, token, amount);
    }

    /// @dev Each parent i gets floor(amount * ppm_i / PPM) and routes it on; the work keeps the
    ///      rest, so nothing is lost to rounding. Recursion depth <= MAX_LINEAGE_DEPTH, node visits
    ///      <= MAX_ROUTE_NODES and credits <= MAX_ROUTE_CREDITS, all enforced at registration.
    function _route(uint256 workId, address token, uint256 amount) private {
        Node storage node = _nodes[workId];
        bytes memory table = RouteBlob.read(node.table);
        uint256 own = amount;
        uint256 n = RouteBlob.parentCount(table);
        for (uint256 i; i < n; ++i) {
            (uint256 parentId, uint32 ppm) = RouteBlob.parentAt(table, i);
            uint256 share = amount * ppm / PPM;
            if (share != 0) {
                // Parent shares sum to at most amount * upstreamPpm / PPM <= amount.
                unchecked {
                    own -= share;
                }
                _route(parentId, token, share);
            }
        }
        if (own == 0) return;
        if (node.heldBy != 0) {
            mapping(address => uint256) storage escrow = _escrow[workId];
            if (escrow[token] == 0) ++_escrowTokenCount[workId];
            escrow[token] += own;
        } else {
            _creditSplit(table, token, own);
        }
    }

    /// @dev Recipient j >= 1 gets floor(amount * ppm_j / PPM); recipient 0 gets the remainder.
    function _creditSplit(bytes memory table, address token, uint256 amount) private {
        mapping(address => uint256) storage balances = _balances[token];
        uint256 rest = amount;
        uint256 n = RouteBlob.recipientCount(table);
        for (uint256 j = 1; j < n; ++j) {
            (address account, uint32 ppm) = RouteBlob.recipientAt(table, j);
            uint256 share = amount * ppm / PPM;
            // Shares of recipients 1..n-1 sum to at most amount * (PPM - ppm_0) / PPM <= amount.
            unchecked {
                rest -= share;
            }
            balances[account] += share;
        }
        (address first,) = RouteBlob.recipientAt(table, 0);
        balances[first] += rest;
    }

    function _withdraw(address token, address to) private returns (uint256 amount) {
        amount = _balances[token][msg.sender];
        if (amount == 0) revert RouterNothingToWithdraw(msg.sender, token);
        _balances[token][msg.sender] = 0;
        _owed[token] -= amount;
        emit Withdrawn(msg.sender, token, to, amount);
        if (token == address(0)) {
            (bool ok,) = to.call{value: amount}("");
            if (!ok) revert RouterTransferFailed(to, amount);
        } else {
            IERC20(token).safeTransfer(to, amount);
        }
    }

    /// @dev Validates the parents; returns them packed (id << 32 | ppm), and the derivative's
    ///      depth, route size, total upstream share and the parents' route credits.
    function _checkLineage(uint256 workId, uint256[] calldata parents, uint32[] calldata parentPpms)
        private
        view
        returns (uint64[] memory lineage, uint256 depth, uint256 routeSize, uint256 upstream, uint256 credits)
    {
        uint256 n = parents.length;
        if (n > MAX_PARENTS) revert RouterTooManyParents(n, MAX_PARENTS);
        if (n == 0 || parentPpms.length != n) revert RouterInvalidLineage(workId);
        routeSize = 1;
        lineage = new uint64[](n);
        for (uint256 i; i < n; ++i) {
            uint256 parentId = parents[i];
            Node storage parent = _nodes[parentId];
            if (parent.status != WorkStatus.Active) revert RouterParentNotActive(parentId, parent.status);
            if (parentPpms[i] == 0) revert RouterInvalidLineage(workId);
            for (uint256 j; j < i; ++j) {
                if (parents[j] == parentId) revert RouterDuplicateParent(parentId);
            }
            if (parent.depth + 1 > depth) depth = parent.depth + 1;
            routeSize += parent.routeSize;
            credits += parent.routeCredits;
            upstream += parentPpms[i];
            // Work ids are sequential and far below 2^32.
            lineage[i] = uint64(parentId) << 32 | parentPpms[i];
        }
    }

    /// @dev Validates the split and stores it with the lineage as a RouteBlob.
    function _writeTable(uint256 workId, uint64[] memory lineage, Recipient[] calldata split)
        private
        returns (address)
    {
        uint256 n = split.length;
        if (n == 0 || n > MAX_RECIPIENTS) revert RouterInvalidSplit(workId);
        uint256 total;
        for (uint256 i; i < n; ++i) {
            Recipient calldata r = split[i];
            if (r.account == address(0) || r.ppm == 0) revert RouterInvalidSplit(workId);
            total += r.ppm;
        }
        if (total != PPM) revert RouterInvalidSplit(workId);
        return RouteBlob.write(lineage, split);
    }
}
