// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {WorkStatus} from "./libraries/HeritageTypes.sol";

/// @dev The router's ETH payment path, as a statement settles through it.
interface IStatementRouter {
    function pay(uint256 workId, bytes32 usageRef, uint64 usageTime) external payable;

    function payBatch(
        uint256[] calldata workIds,
        uint256[] calldata amounts,
        bytes32[] calldata usageRefs,
        uint64[] calldata usageTimes
    ) external payable;

    function statusOf(uint256 workId) external view returns (WorkStatus);
}

/// @dev The registry's content lookup: the work registered with a binary CID (0: none).
interface IContentRegistry {
    function workByContent(bytes calldata cidOrCommitment) external view returns (uint256);
}

/// @title UsageStatements: usage reports anchored by Merkle root, settled through the router
/// @notice A service anchors a statement (the Merkle root of its lines, its period, line count and
///         total), then settles the matched amounts per work in batches through the router's own
///         `payBatch` (so lineage routing and floors apply unchanged; every payment carries the
///         statement root as usage reference and the period end as usage time), and holds the
///         unmatched amounts in suspense per statement and work identifier. Suspense is paid to the
///         work once the identifier names an active work, within the window; after the window the
///         submitter may take back what is left. Nothing is ever shared out by market share.
/// @dev A line's leaf is OpenZeppelin's StandardMerkleTree leaf of (uint256 line, bytes32
///      lineHash, uint256 amount): keccak256(bytes.concat(keccak256(abi.encode(...)))).
///      A work identifier is 32 bytes (a work id, big-endian) or a binary CID (any other length).
contract UsageStatements is ReentrancyGuardTransient {
    /// @dev One statement; four slots.
    struct Statement {
        bytes32 root;
        address submitter;
        uint64 anchoredAt;
        uint32 lineCount;
        uint64 periodStart;
        uint64 periodEnd;
        uint32 batches;
        uint128 total; // sum of every line's amount, wei
        uint128 accounted; // settled + held so far, <= total
        uint256 suspense; // held and neither released nor refunded
    }

    /// @notice Most works one settlement batch may pay (bounds the batch's gas).
    uint256 public constant MAX_BATCH = 256;
    /// @notice Longest suspense window the contract accepts (ten years).
    uint256 public constant MAX_WINDOW = 3650 days;

    IStatementRouter private immutable _router;
    IContentRegistry private immutable _registry;
    uint256 private immutable _window;
    uint256 private _count;
    mapping(uint256 id => Statement) private _statements;
    mapping(bytes32 root => uint256 id) private _byRoot;
    mapping(uint256 id => mapping(bytes32 key => uint256)) private _held;

    /// @notice `submitter` anchored statement `id` with Merkle root `root` for the period.
    event StatementAnchored(
        uint256 indexed id,
        bytes32 indexed root,
        address indexed submitter,
        uint64 periodStart,
        uint64 periodEnd,
        uint256 lineCount,
        uint256 total
    );
    /// @notice Batch `batch` of statement `id` paid `works` works `amount` wei through the router.
    event BatchSettled(uint256 indexed id, uint256 indexed batch, uint256 works, uint256 amount);
    /// @notice `amount` wei of statement `id` for an unmatched identifier went into suspense.
    event SuspenseHeld(uint256 indexed id, bytes32 indexed key, bytes identifier, uint256 amount);
    /// @notice Suspense of `key` in statement `id` was paid to the matched `workId` through the router.
    event SuspenseReleased(uint256 indexed id, bytes32 indexed key, uint256 indexed workId, uint256 amount);
    /// @notice What was left in statement `id`'s suspense after its window went back to the submitter.
    event SuspenseRefunded(uint256 indexed id, address indexed submitter, uint256 amount);

    /// @notice The router or registry address is zero.
    error UsageStatementsZeroAddress();
    /// @notice The window is longer than MAX_WINDOW.
    error UsageStatementsWindowTooLong(uint256 window, uint256 max);
    /// @notice This root is anchored already, as statement `id`: a statement is settled once.
    error UsageStatementsDuplicateRoot(bytes32 root, uint256 id);
    /// @notice The root is zero, there are no lines, the total is zero or the period ends before it starts.
    error UsageStatementsInvalidStatement(bytes32 root, uint256 lineCount, uint256 total);
    /// @notice The period ends before it starts.
    error UsageStatementsInvalidPeriod(uint64 periodStart, uint64 periodEnd);
    /// @notice No statement has this id.
    error UsageStatementsUnknownStatement(uint256 id);
    /// @notice Only the statement's submitter may settle, hold or take back its suspense.
    error UsageStatementsNotSubmitter(uint256 id, address caller);
    /// @notice The arrays differ in length, or are empty.
    error UsageStatementsLengthMismatch();
    /// @notice More works than MAX_BATCH in one batch.
    error UsageStatementsBatchTooLarge(uint256 works, uint256 max);
    /// @notice ETH sent does not equal the sum of the amounts.
    error UsageStatementsValueMismatch(uint256 sent, uint256 expected);
    /// @notice The amounts would exceed the statement's anchored total.
    error UsageStatementsOverTotal(uint256 id, uint256 amount, uint256 remaining);
    /// @notice A held amount is zero.
    error UsageStatementsZeroAmount();
    /// @notice The identifier names an active work now: settle it, do not hold it.
    error UsageStatementsWorkMatched(bytes identifier, uint256 workId);
    /// @notice The identifier names no active work (yet).
    error UsageStatementsWorkNotMatched(bytes identifier);
    /// @notice Nothing of this identifier is in the statement's suspense (never held, or released).
    error UsageStatementsNothingInSuspense(uint256 id, bytes32 key);
    /// @notice The statement's window closed at `closesAt`: what is left goes back to the submitter.
    error UsageStatementsWindowClosed(uint256 id, uint256 closesAt);
    /// @notice The statement's window is open until `closesAt`: suspense may still be matched.
    error UsageStatementsWindowOpen(uint256 id, uint256 closesAt);
    /// @notice Sending the refund failed.
    error UsageStatementsTransferFailed(address to, uint256 amount);

    /// @param router_ the RoyaltyRouter every payment goes through
    /// @param registry_ the HeritageRegistry whose content CIDs identify works
    /// @param window_ seconds after anchoring during which suspense can be matched
    constructor(IStatementRouter router_, IContentRegistry registry_, uint256 window_) {
        if (address(router_) == address(0) || address(registry_) == address(0)) revert UsageStatementsZeroAddress();
        if (window_ > MAX_WINDOW) revert UsageStatementsWindowTooLong(window_, MAX_WINDOW);
        _router = router_;
        _registry = registry_;
        _window = window_;
    }

    // ------------------------------------------------------------------ writes

    /// @notice Anchor a statement: its lines' Merkle root, period, line count and total (wei).
    ///         The caller becomes its submitter. A root is anchored once, ever.
    /// @return id the statement's id; ids run from 1 to `statementCount()`
    function anchor(bytes32 root, uint64 periodStart, uint64 periodEnd, uint32 lineCount, uint128 total)
        external
        returns (uint256 id)
    {
        if (root == bytes32(0) || lineCount == 0 || total == 0) {
            revert UsageStatementsInvalidStatement(root, lineCount, total);
        }
        if (periodEnd < periodStart) revert UsageStatementsInvalidPeriod(periodStart, periodEnd);
        uint256 existing = _byRoot[root];
        if (existing != 0) revert UsageStatementsDuplicateRoot(root, existing);
        id = ++_count;
        _byRoot[root] = id;
        // A uint64 of seconds lasts for billions of years.
        _statements[id] =
            Statement(root, msg.sender, uint64(block.timestamp), lineCount, periodStart, periodEnd, 0, total, 0, 0);
        emit StatementAnchored(id, root, msg.sender, periodStart, periodEnd, lineCount, total);
    }

    /// @notice Settle one batch of statement `id`: pay each work its amount through the router's
    ///         `payBatch`, with the statement root as usage reference and its period end as usage
    ///         time. `msg.value` must equal the sum. Only the submitter.
    /// @return batch the batch's number within the statement, from 1
    function settle(uint256 id, uint256[] calldata workIds, uint256[] calldata amounts)
        external
        payable
        nonReentrant
        returns (uint256 batch)
    {
        uint256 n = workIds.length;
        (Statement storage s, uint256 sum) = _batch(id, n, amounts);
        bytes32[] memory refs = new bytes32[](n);
        uint64[] memory times = new uint64[](n);
        (bytes32 root, uint64 end) = (s.root, s.periodEnd);
        for (uint256 i; i < n; ++i) {
            (refs[i], times[i]) = (root, end);
        }
        // At most one batch per transaction, far below 2^32.
        batch = ++s.batches;
        emit BatchSettled(id, batch, n, sum);
        _router.payBatch{value: sum}(workIds, amounts, refs, times);
    }

    /// @notice Hold the amounts of unmatched identifiers in statement `id`'s suspense. An
    ///         identifier that names an active work now is refused (settle it). Only the submitter.
    function hold(uint256 id, bytes[] calldata identifiers, uint256[] calldata amounts) external payable nonReentrant {
        uint256 n = identifiers.length;
        (Statement storage s, uint256 sum) = _batch(id, n, amounts);
        for (uint256 i; i < n; ++i) {
            if (amounts[i] == 0) revert UsageStatementsZeroAmount();
            uint256 workId = _workOf(identifiers[i]);
            if (workId != 0) revert UsageStatementsWorkMatched(identifiers[i], workId);
            bytes32 key = keccak256(identifiers[i]);
            _held[id][key] += amounts[i];
            emit SuspenseHeld(id, key, identifiers[i], amounts[i]);
        }
        s.suspense += sum;
    }

    /// @notice Pay what statement `id` holds for `identifier` to the work it now names, through
    ///         the router (statement root as usage reference). Anyone may, within the window.
    function release(uint256 id, bytes calldata identifier) external nonReentrant returns (uint256 workId) {
        Statement storage s = _statement(id);
        uint256 closes = uint256(s.anchoredAt) + _window;
        if (block.timestamp > closes) revert UsageStatementsWindowClosed(id, closes);
        bytes32 key = keccak256(identifier);
        uint256 amount = _held[id][key];
        if (amount == 0) revert UsageStatementsNothingInSuspense(id, key);
        workId = _workOf(identifier);
        if (workId == 0) revert UsageStatementsWorkNotMatched(identifier);
        _held[id][key] = 0;
        s.suspense -= amount;
        emit SuspenseReleased(id, key, workId, amount);
        _router.pay{value: amount}(workId, s.root, s.periodEnd);
    }

    /// @notice After the window, send what is left in statement `id`'s suspense back to its
    ///         submitter (the caller). Only the submitter.
    function refund(uint256 id) external nonReentrant returns (uint256 amount) {
        Statement storage s = _submitted(id);
        uint256 closes = uint256(s.anchoredAt) + _window;
        if (block.timestamp <= closes) revert UsageStatementsWindowOpen(id, closes);
        amount = s.suspense;
        if (amount == 0) revert UsageStatementsNothingInSuspense(id, bytes32(0));
        s.suspense = 0;
        emit SuspenseRefunded(id, msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert UsageStatementsTransferFailed(msg.sender, amount);
    }

    // ------------------------------------------------------------------ views

    /// @notice The router every payment goes through.
    function router() external view returns (address) {
        return address(_router);
    }

    /// @notice The registry whose content CIDs identify works.
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @notice Seconds after anchoring during which suspense can be matched.
    function suspenseWindow() external view returns (uint256) {
        return _window;
    }

    /// @notice Number of statements; ids run from 1 to this number.
    function statementCount() external view returns (uint256) {
        return _count;
    }

    /// @notice The statement anchored with `root` (0: none).
    function statementOfRoot(bytes32 root) external view returns (uint256) {
        return _byRoot[root];
    }

    /// @notice Statement `id` as stored.
    function statementOf(uint256 id) external view returns (Statement memory) {
        return _statement(id);
    }

    /// @notice What statement `id` still holds for `identifier`.
    function suspenseOf(uint256 id, bytes calldata identifier) external view returns (uint256) {
        return _held[id][keccak256(identifier)];
    }

    /// @notice The active work `identifier` names now (0: none).
    function workOf(bytes calldata identifier) external view returns (uint256) {
        return _workOf(identifier);
    }

    /// @notice Whether (line, lineHash, amount) is a line of statement `id`, by its Merkle proof.
    function verifyLine(uint256 id, bytes32[] calldata proof, uint256 line, bytes32 lineHash, uint256 amount)
        external
        view
        returns (bool)
    {
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(line, lineHash, amount))));
        return MerkleProof.verifyCalldata(proof, _statement(id).root, leaf);
    }

    // ------------------------------------------------------------------ internals

    function _statement(uint256 id) private view returns (Statement storage s) {
        if (id == 0 || id > _count) revert UsageStatementsUnknownStatement(id);
        s = _statements[id];
    }

    function _submitted(uint256 id) private view returns (Statement storage s) {
        s = _statement(id);
        if (msg.sender != s.submitter) revert UsageStatementsNotSubmitter(id, msg.sender);
    }

    /// @dev What every batch of statement `id` (`settle`, `hold`) must be: sent by the submitter, `n`
    ///      entries with as many amounts, at most MAX_BATCH, within what is left of the anchored total
    ///      (then accounted for), and paid in full by `msg.value`. Returns the statement and the sum.
    function _batch(uint256 id, uint256 n, uint256[] calldata amounts)
        private
        returns (Statement storage s, uint256 sum)
    {
        s = _submitted(id);
        if (n == 0 || amounts.length != n) revert UsageStatementsLengthMismatch();
        if (n > MAX_BATCH) revert UsageStatementsBatchTooLarge(n, MAX_BATCH);
        sum = _account(s, id, amounts);
        if (sum != msg.value) revert UsageStatementsValueMismatch(msg.value, sum);
    }

    /// @dev Adds `amounts` to what the statement has accounted for; their sum, at most what is left.
    function _account(Statement storage s, uint256 id, uint256[] calldata amounts) private returns (uint256 sum) {
        for (uint256 i; i < amounts.length; ++i) {
            sum += amounts[i];
        }
        uint256 remaining = uint256(s.total) - s.accounted;
        if (sum > remaining) revert UsageStatementsOverTotal(id, sum, remaining);
        // sum <= remaining <= total < 2^128.
        s.accounted += uint128(sum);
    }

    /// @dev The active work an identifier names: 32 bytes are a work id, anything else a binary CID.
    function _workOf(bytes calldata identifier) private view returns (uint256 workId) {
        if (identifier.length == 32) {
            workId = uint256(bytes32(identifier));
        } else if (identifier.length != 0) {
            workId = _registry.workByContent(identifier);
        }
        if (workId != 0 && _router.statusOf(workId) != WorkStatus.Active) workId = 0;
    }
}
