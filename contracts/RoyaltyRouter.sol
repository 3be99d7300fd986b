// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IRoyaltyRouter} from "./interfaces/IRoyaltyRouter.sol";
import {RouteBlob} from "./libraries/RouteBlob.sol";
import {
    PPM,
    MAX_PARENTS,
    MAX_RECIPIENTS,
    MAX_LINEAGE_DEPTH,
    MAX_ROUTE_NODES,
    MAX_ESCROW_TOKENS,
    Recipient,
    WorkStatus
} from "./libraries/HeritageTypes.sol";

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
        uint8 depth;
        uint16 routeSize;
        uint32 upstreamPpm;
        uint32 disputedBy; // community id holding the dispute, 0 when none
        address table; // RouteBlob holding parents and split; 0 for a restricted work
    }

    /// @notice Largest amount one payment may carry, so that `amount * PPM` cannot overflow.
    uint256 public constant MAX_PAYMENT = type(uint256).max / PPM;

    address private immutable _binder;
    address private _registry;

    mapping(uint256 workId => Node) private _nodes;
    mapping(address token => mapping(address account => uint256)) private _balances;
    mapping(uint256 workId => mapping(address token => uint256)) private _escrow;
    mapping(uint256 workId => address[]) private _escrowTokens;
    /// @dev Tokens escrowed beyond the MAX_ESCROW_TOKENS released automatically; each is released
    ///      by `releaseEscrow` after the dispute closes, by the verdict stored in `_verdicts`.
    mapping(uint256 workId => uint256) private _untrackedEscrow;
    mapping(uint256 workId => Verdict) private _verdicts;

    /// @notice The last closed dispute of a work, for releasing escrow left after the close.
    struct Verdict {
        address treasury;
        bool upheld;
    }

    /// @notice The registry this router obeys was set, once.
    event RegistryBound(address indexed registry);
    /// @notice A work's routing node was created.
    event WorkConfigured(uint256 indexed workId, WorkStatus status, uint256 depth, uint256 routeSize);
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
    /// @notice A dispute opened on `workId`: its own share is escrowed from now on.
    event DisputeOpened(uint256 indexed workId, uint256 indexed communityId);
    /// @notice A dispute closed; escrow went to the community treasury (upheld) or the split.
    event DisputeClosed(uint256 indexed workId, uint256 indexed communityId, bool upheld);
    /// @notice Escrowed funds of one token were credited, on a dispute's close or by `releaseEscrow`.
    event EscrowReleased(uint256 indexed workId, address indexed token, uint256 amount, bool upheld);
    /// @notice `account` withdrew its balance of `token` to `to`.
    event Withdrawn(address indexed account, address indexed token, address to, uint256 amount);

    /// @notice Only the deployer may bind the registry, and only once.
    error RouterNotBinder(address caller);
    /// @notice The registry is already bound.
    error RouterAlreadyBound(address registry);
    /// @notice The registry address must not be zero.
    error RouterZeroRegistry();
    /// @notice Only the bound registry may configure works.
    error RouterNotRegistry(address caller);
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
    /// @notice The work is already disputed.
    error RouterAlreadyDisputed(uint256 workId, uint256 communityId);
    /// @notice The work is not disputed.
    error RouterNotDisputed(uint256 workId);
    /// @notice Escrow of an earlier dispute on `workId` is still held in `tokens` tokens: call
    ///         `releaseEscrow(workId, token)` for each (anyone may), then open the dispute again.
    error RouterEscrowUnreleased(uint256 workId, uint256 tokens);
    /// @notice Nothing of `token` is escrowed for `workId` outside an open dispute.
    error RouterNothingToRelease(uint256 workId, address token);
    /// @notice Plain transfers carry no work id: call pay(workId, usageRef, usageTime).
    error RouterUnattributedPayment();
    /// @notice ERC-20 payments must use payToken, ETH payments pay.
    error RouterWrongEntryPoint();

    modifier onlyRegistry() {
        if (msg.sender != _registry) revert RouterNotRegistry(msg.sender);
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
        if (msg.sender != _binder) revert RouterNotBinder(msg.sender);
        if (_registry != address(0)) revert RouterAlreadyBound(_registry);
        if (registry_ == address(0)) revert RouterZeroRegistry();
        _registry = registry_;
        emit RegistryBound(registry_);
    }

    // ------------------------------------------------------------------ registry-only

    /// @inheritdoc IRoyaltyRouter
    function configureHeritage(uint256 workId, Recipient[] calldata split, bool restricted) external onlyRegistry {
        if (_nodes[workId].status != WorkStatus.None) revert RouterWorkExists(workId);
        WorkStatus status = restricted ? WorkStatus.Restricted : WorkStatus.Active;
        address table = restricted ? address(0) : _writeTable(workId, new uint64[](0), split);
        _nodes[workId] = Node(status, 0, 1, 0, 0, table);
        emit WorkConfigured(workId, status, 0, 1);
        if (!restricted) emit SplitSet(workId, split);
    }

    /// @inheritdoc IRoyaltyRouter
    function configureDerivative(
        uint256 workId,
        uint256[] calldata parents,
        uint32[] calldata parentPpms,
        Recipient[] calldata split,
        bool pending
    ) external onlyRegistry {
        if (_nodes[workId].status != WorkStatus.None) revert RouterWorkExists(workId);
        (uint64[] memory lineage, uint256 depth, uint256 routeSize, uint256 upstream) =
            _checkLineage(workId, parents, parentPpms);
        if (upstream > PPM) revert RouterInvalidLineage(workId);
        if (depth > MAX_LINEAGE_DEPTH) revert RouterLineageTooDeep(depth, MAX_LINEAGE_DEPTH);
        if (routeSize > MAX_ROUTE_NODES) revert RouterRouteTooLarge(routeSize, MAX_ROUTE_NODES);
        WorkStatus status = pending ? WorkStatus.Pending : WorkStatus.Active;
        // Casts are safe: depth <= 8, routeSize <= 64, upstream <= PPM.
        address table = _writeTable(workId, lineage, split);
        _nodes[workId] = Node(status, uint8(depth), uint16(routeSize), uint32(upstream), 0, table);
        emit WorkConfigured(workId, status, depth, routeSize);
        emit LineageSet(workId, parents, parentPpms);
        emit SplitSet(workId, split);
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

    /// @inheritdoc IRoyaltyRouter
    function openDispute(uint256 workId, uint256 communityId) external onlyRegistry {
        Node storage node = _nodes[workId];
        if (node.status == WorkStatus.None) revert RouterUnknownWork(workId);
        if (node.disputedBy != 0) revert RouterAlreadyDisputed(workId, node.disputedBy);
        uint256 unreleased = _untrackedEscrow[workId];
        if (unreleased != 0) revert RouterEscrowUnreleased(workId, unreleased);
        // Community ids are issued sequentially by the registry and stay far below 2^32.
        node.disputedBy = uint32(communityId);
        emit DisputeOpened(workId, communityId);
    }

    /// @inheritdoc IRoyaltyRouter
    function closeDispute(uint256 workId, bool upheld, address communityTreasury) external onlyRegistry {
        Node storage node = _nodes[workId];
        uint256 communityId = node.disputedBy;
        if (communityId == 0) revert RouterNotDisputed(workId);
        node.disputedBy = 0;
        _verdicts[workId] = Verdict(communityTreasury, upheld);
        address[] memory tokens = _escrowTokens[workId];
        delete _escrowTokens[workId];
        emit DisputeClosed(workId, communityId, upheld);
        bytes memory table = RouteBlob.read(node.table);
        _release(workId, table, address(0), communityTreasury, upheld);
        for (uint256 i; i < tokens.length; ++i) {
            _release(workId, table, tokens[i], communityTreasury, upheld);
        }
    }

    /// @notice Credit escrow of `token` left on `workId` after its dispute closed (tokens beyond
    ///         the first MAX_ESCROW_TOKENS are not released automatically), by the dispute's verdict.
    ///         Anyone may call it: the funds only ever go where the verdict sends them.
    function releaseEscrow(uint256 workId, address token) external nonReentrant returns (uint256 amount) {
        Node storage node = _nodes[workId];
        if (node.disputedBy != 0) revert RouterAlreadyDisputed(workId, node.disputedBy);
        amount = _escrow[workId][token];
        if (amount == 0) revert RouterNothingToRelease(workId, token);
        --_untrackedEscrow[workId];
        Verdict memory verdict = _verdicts[workId];
        _release(workId, RouteBlob.read(node.table), token, verdict.treasury, verdict.upheld);
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

    /// @notice Withdraw the caller's whole balance of `token` (address(0) for ETH) to itself.
    function withdraw(address token) external nonReentrant returns (uint256) {
        return _withdraw(token, msg.sender);
    }

    /// @notice Withdraw the caller's whole balance of `token` to `to` (for accounts that cannot
    ///         receive ETH themselves).
    function withdrawTo(address token, address to) external nonReentrant returns (uint256) {
        return _withdraw(token, to);
    }

    // ------------------------------------------------------------------ views

    /// @notice The registry this router obeys.
    function registry() external view returns (address) {
        return _registry;
    }

    /// @notice Withdrawable balance of `account` in `token`.
    function balanceOf(address token, address account) external view returns (uint256) {
        return _balances[token][account];
    }

    /// @notice Funds of `token` escrowed for a dispute on `workId`.
    function escrowOf(uint256 workId, address token) external view returns (uint256) {
        return _escrow[workId][token];
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

    /// @notice Routing facts of a work: status, depth, route size, upstream share, dispute holder.
    function nodeOf(uint256 workId)
        external
        view
        returns (WorkStatus status, uint256 depth, uint256 routeSize, uint256 upstreamPpm, uint256 disputedBy)
    {
        Node memory node = _nodes[workId];
        return (node.status, node.depth, node.routeSize, node.upstreamPpm, node.disputedBy);
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

    function _requirePayable(uint256 workId) private view {
        WorkStatus status = _nodes[workId].status;
        if (status != WorkStatus.Active) revert RouterWorkNotPayable(workId, status);
    }

    function _pay(uint256 workId, address token, uint256 amount, bytes32 usageRef, uint64 usageTime) private {
        if (amount == 0 || amount > MAX_PAYMENT) revert RouterInvalidAmount(amount);
        _requirePayable(workId);
        emit Paid(workId, token, msg.sender, amount, usageRef, usageTime);
        _route(workId, token, amount);
    }

    /// @dev Each parent i gets floor(amount * ppm_i / PPM) and routes it on; the work keeps the
    ///      rest, so nothing is lost to rounding. Recursion depth <= MAX_LINEAGE_DEPTH and total
    ///      node visits <= MAX_ROUTE_NODES, both enforced at registration.
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
        if (node.disputedBy != 0) {
            if (_escrow[workId][token] == 0) _trackEscrowToken(workId, token);
            _escrow[workId][token] += own;
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

    /// @dev Called when `token`'s escrow for `workId` goes from zero to positive. ETH is always
    ///      released on close; the first MAX_ESCROW_TOKENS other tokens are listed and released on
    ///      close too; any further token is counted and released by `releaseEscrow`, so that junk
    ///      tokens paid into a disputed work can never block payments through it.
    function _trackEscrowToken(uint256 workId, address token) private {
        if (token == address(0)) return;
        address[] storage tokens = _escrowTokens[workId];
        if (tokens.length < MAX_ESCROW_TOKENS) tokens.push(token);
        else ++_untrackedEscrow[workId];
    }

    function _release(uint256 workId, bytes memory table, address token, address treasury, bool upheld) private {
        uint256 amount = _escrow[workId][token];
        if (amount == 0) return;
        _escrow[workId][token] = 0;
        if (upheld) _balances[token][treasury] += amount;
        else _creditSplit(table, token, amount);
        emit EscrowReleased(workId, token, amount, upheld);
    }

    function _withdraw(address token, address to) private returns (uint256 amount) {
        amount = _balances[token][msg.sender];
        if (amount == 0) revert RouterNothingToWithdraw(msg.sender, token);
        _balances[token][msg.sender] = 0;
        emit Withdrawn(msg.sender, token, to, amount);
        if (token == address(0)) {
            (bool ok,) = to.call{value: amount}("");
            if (!ok) revert RouterTransferFailed(to, amount);
        } else {
            IERC20(token).safeTransfer(to, amount);
        }
    }

    /// @dev Validates the parents; returns them packed (id << 32 | ppm), and the derivative's
    ///      depth, route size and total upstream share.
    function _checkLineage(uint256 workId, uint256[] calldata parents, uint32[] calldata parentPpms)
        private
        view
        returns (uint64[] memory lineage, uint256 depth, uint256 routeSize, uint256 upstream)
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
