// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Fixture} from "../utils/Fixture.sol";
import {Pairs} from "../utils/Pairs.sol";
import {
    UsageStatements, IStatementRouter, IContentRegistry
} from "../../../contracts/UsageStatements.sol";
import {RoyaltyRouter} from "../../../contracts/RoyaltyRouter.sol";
import {HeritageParams} from "../../../contracts/libraries/HeritageTypes.sol";

/// @dev A submitter whose receive() calls refund again (a reentrant service).
contract ReentrantService {
    UsageStatements internal immutable _statements;
    uint256 public id;

    constructor(UsageStatements statements_) {
        _statements = statements_;
    }

    function open(bytes32 root, bytes memory identifier) external payable {
        id = _statements.anchor(root, 1, 2, 1, uint128(msg.value));
        bytes[] memory ids = new bytes[](1);
        ids[0] = identifier;
        uint256[] memory amounts = new uint256[](1);
        amounts[0] = msg.value;
        _statements.hold{value: msg.value}(id, ids, amounts);
    }

    function takeBack() external {
        _statements.refund(id);
    }

    receive() external payable {
        _statements.refund(id);
    }
}

/// @title UsageStatements: anchoring, settlement through the router, suspense, and the attacks
/// @notice Fixture: the registry with communities A and B; setUp registers a heritage work of B
///         (`work`, paid to treasuryB), a derivative of it with a 30 % floor share (`child`), and
///         deploys the statements contract with a 30-day window. `service` submits statements.
contract UsageStatementsTest is Fixture {
    uint256 internal constant WINDOW = 30 days;
    bytes32 internal constant ROOT = keccak256("statement 1");
    uint64 internal constant START = 1_700_000_000;
    uint64 internal constant END = 1_702_592_000;

    UsageStatements internal statements;
    address internal service;
    address internal attacker;
    uint256 internal work;
    uint256 internal child;

    function setUp() public override {
        super.setUp();
        work = _registerHeritageOf(communityB, b1, _open(300_000), _split(treasuryB));
        child = _registerDerivative(_one(work), _ppm(300_000));
        statements = new UsageStatements(
            IStatementRouter(address(router)), IContentRegistry(address(registry)), WINDOW
        );
        service = makeAddr("service");
        attacker = makeAddr("attacker");
        vm.deal(service, 1_000 ether);
        vm.deal(attacker, 1_000 ether);
    }

    // ------------------------------------------------------------------ helpers

    function _anchor(bytes32 root, uint128 total) internal returns (uint256 id) {
        vm.prank(service);
        id = statements.anchor(root, START, END, 3, total);
    }

    function _ids(bytes memory identifier) internal pure returns (bytes[] memory v) {
        v = new bytes[](1);
        v[0] = identifier;
    }

    /// @notice Heritage params of community B whose CID is known before registration.
    function _unregistered() internal returns (HeritageParams memory) {
        return _heritageParams(communityB, _open(0), _split(treasuryB));
    }

    /// @dev `by` settles `amount` for the one work `w` of statement `id`, sending `value` with it.
    function _settleOne(address by, uint256 id, uint256 w, uint256 amount, uint256 value) internal {
        vm.prank(by);
        statements.settle{value: value}(id, _one(w), _one(amount));
    }

    function _hold(uint256 id, bytes memory identifier, uint256 amount) internal {
        vm.prank(service);
        statements.hold{value: amount}(id, _ids(identifier), _one(amount));
    }

    /// @dev A new statement `id` holding `amount` in suspense for content that b1 registers only
    ///      afterwards; the content's CID.
    function _heldForLateWork(uint256 amount) internal returns (uint256 id, bytes memory cid) {
        id = _anchor(ROOT, 10 ether);
        HeritageParams memory p = _unregistered();
        _hold(id, p.contentCid, amount);
        vm.prank(b1);
        registry.registerHeritageWork(p);
        cid = p.contentCid;
    }

    // ------------------------------------------------------------------ anchor

    function test_anchor_RecordsTheStatement() public {
        uint256 id = _anchor(ROOT, 10 ether);
        assertEq(id, 1);
        assertEq(statements.statementCount(), 1);
        assertEq(statements.statementOfRoot(ROOT), 1);
        UsageStatements.Statement memory s = statements.statementOf(id);
        assertEq(s.root, ROOT);
        assertEq(s.submitter, service);
        assertEq(uint256(s.periodStart), START);
        assertEq(uint256(s.periodEnd), END);
        assertEq(uint256(s.lineCount), 3);
        assertEq(uint256(s.total), 10 ether);
        assertEq(uint256(s.anchoredAt), block.timestamp);
    }

    function test_anchor_RevertWhen_RootReplayed() public {
        _anchor(ROOT, 10 ether);
        vm.expectRevert(abi.encodeWithSelector(UsageStatements.UsageStatementsDuplicateRoot.selector, ROOT, 1));
        vm.prank(attacker);
        statements.anchor(ROOT, START, END, 3, 10 ether);
        vm.expectRevert(abi.encodeWithSelector(UsageStatements.UsageStatementsDuplicateRoot.selector, ROOT, 1));
        vm.prank(service);
        statements.anchor(ROOT, START + 1, END + 1, 4, 11 ether);
    }

    function test_anchor_RevertWhen_Invalid() public {
        vm.startPrank(service);
        vm.expectRevert(
            abi.encodeWithSelector(UsageStatements.UsageStatementsInvalidStatement.selector, bytes32(0), 3, 1)
        );
        statements.anchor(bytes32(0), START, END, 3, 1);
        vm.expectRevert(abi.encodeWithSelector(UsageStatements.UsageStatementsInvalidStatement.selector, ROOT, 0, 1));
        statements.anchor(ROOT, START, END, 0, 1);
        vm.expectRevert(abi.encodeWithSelector(UsageStatements.UsageStatementsInvalidPeriod.selector, END, START));
        statements.anchor(ROOT, END, START, 3, 1);
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ settle

    function test_settle_PaysThroughTheRouterWithFloors() public {
        uint256 id = _anchor(ROOT, 10 ether);
        vm.prank(service);
        uint256 batch = statements.settle{value: 3 ether}(id, Pairs.uints(work, child), Pairs.uints(1 ether, 2 ether));
        assertEq(batch, 1);
        // work: 1 ether to treasuryB; child: 30 % (0.6 ether) upstream to treasuryB, 1.4 ether to its creator.
        assertEq(router.balanceOf(address(0), treasuryB), 1.6 ether);
        assertEq(router.balanceOf(address(0), creator), 1.4 ether);
        assertEq(address(statements).balance, 0);
        assertEq(uint256(statements.statementOf(id).accounted), 3 ether);
    }

    function test_settle_RevertWhen_OtherKey() public {
        uint256 id = _anchor(ROOT, 10 ether);
        vm.expectRevert(
            abi.encodeWithSelector(UsageStatements.UsageStatementsNotSubmitter.selector, id, attacker)
        );
        _settleOne(attacker, id, work, 1 ether, 1 ether);
    }

    function test_settle_RevertWhen_OverTheAnchoredTotal() public {
        uint256 id = _anchor(ROOT, 2 ether);
        vm.startPrank(service);
        statements.settle{value: 1.5 ether}(id, _one(work), _one(1.5 ether));
        vm.expectRevert(
            abi.encodeWithSelector(UsageStatements.UsageStatementsOverTotal.selector, id, 1 ether, 0.5 ether)
        );
        statements.settle{value: 1 ether}(id, _one(work), _one(1 ether));
        vm.stopPrank();
    }

    function test_settle_RevertWhen_ValueMismatch() public {
        uint256 id = _anchor(ROOT, 10 ether);
        vm.expectRevert(
            abi.encodeWithSelector(UsageStatements.UsageStatementsValueMismatch.selector, 1 ether, 2 ether)
        );
        _settleOne(service, id, work, 2 ether, 1 ether);
    }

    function test_settle_RevertWhen_UnpayableWork() public {
        uint256 id = _anchor(ROOT, 10 ether);
        vm.expectRevert(); // the router's RouterWorkNotPayable, bubbled up
        _settleOne(service, id, 999, 1 ether, 1 ether);
    }

    /// @dev `by` sends one batch of `n` entries with `amounts` and `value` attached: to `settle` (each
    ///      entry the work) or, with `toHold`, to `hold` (each entry an unregistered work id).
    function _batchCall(bool toHold, address by, uint256 id, uint256 n, uint256[] memory amounts, uint256 value)
        internal
    {
        if (toHold) {
            bytes[] memory identifiers = new bytes[](n);
            for (uint256 i; i < n; ++i) {
                identifiers[i] = abi.encode(uint256(1_000 + i));
            }
            vm.prank(by);
            statements.hold{value: value}(id, identifiers, amounts);
        } else {
            uint256[] memory works = new uint256[](n);
            for (uint256 i; i < n; ++i) {
                works[i] = work;
            }
            vm.prank(by);
            statements.settle{value: value}(id, works, amounts);
        }
    }

    function _each(uint256 n, uint256 amount) internal pure returns (uint256[] memory v) {
        v = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            v[i] = amount;
        }
    }

    /// @notice The batch checks `settle` and `hold` share, tried against each entry point: another
    ///         key, an empty batch, fewer amounts than entries, one entry over MAX_BATCH, and ETH short
    ///         of the amounts. Each is refused with its named error and nothing is accounted.
    function test_settleAndHold_RevertWhen_BatchIsMalformed() public {
        uint256 max = statements.MAX_BATCH();
        for (uint256 h; h < 2; ++h) {
            bool toHold = h == 1;
            uint256 id = _anchor(keccak256(abi.encode("malformed batch", h)), 1_000 ether);
            vm.expectRevert(
                abi.encodeWithSelector(UsageStatements.UsageStatementsNotSubmitter.selector, id, attacker)
            );
            _batchCall(toHold, attacker, id, 1, _each(1, 1 ether), 1 ether);
            vm.expectRevert(UsageStatements.UsageStatementsLengthMismatch.selector);
            _batchCall(toHold, service, id, 0, _each(0, 0), 0);
            vm.expectRevert(UsageStatements.UsageStatementsLengthMismatch.selector);
            _batchCall(toHold, service, id, 2, _each(1, 1 ether), 1 ether);
            vm.expectRevert(
                abi.encodeWithSelector(UsageStatements.UsageStatementsBatchTooLarge.selector, max + 1, max)
            );
            _batchCall(toHold, service, id, max + 1, _each(max + 1, 1), max + 1);
            vm.expectRevert(
                abi.encodeWithSelector(UsageStatements.UsageStatementsValueMismatch.selector, 0.5 ether, 1 ether)
            );
            _batchCall(toHold, service, id, 1, _each(1, 1 ether), 0.5 ether);
            assertEq(uint256(statements.statementOf(id).accounted), 0);
        }
    }

    // ------------------------------------------------------------------ suspense

    function test_hold_RevertWhen_IdentifierMatchesAWork() public {
        uint256 id = _anchor(ROOT, 10 ether);
        bytes memory known = abi.encode(work);
        vm.expectRevert(
            abi.encodeWithSelector(UsageStatements.UsageStatementsWorkMatched.selector, known, work)
        );
        _hold(id, known, 1 ether);
    }

    function test_release_PaysTheWorkRegisteredLater() public {
        uint256 id = _anchor(ROOT, 10 ether);
        HeritageParams memory p = _unregistered();
        _hold(id, p.contentCid, 2 ether);
        assertEq(statements.suspenseOf(id, p.contentCid), 2 ether);
        vm.expectRevert(
            abi.encodeWithSelector(UsageStatements.UsageStatementsWorkNotMatched.selector, p.contentCid)
        );
        statements.release(id, p.contentCid);

        vm.prank(b1);
        uint256 late = registry.registerHeritageWork(p);
        vm.warp(block.timestamp + WINDOW);
        vm.prank(attacker); // anyone may release: the money can only go to the matched work
        assertEq(statements.release(id, p.contentCid), late);
        assertEq(router.balanceOf(address(0), treasuryB), 2 ether);
        assertEq(router.balanceOf(address(0), attacker), 0);
        assertEq(statements.suspenseOf(id, p.contentCid), 0);
        assertEq(statements.statementOf(id).suspense, 0);
    }

    function test_release_RevertWhen_DoubleRelease() public {
        (uint256 id, bytes memory cid) = _heldForLateWork(2 ether);
        statements.release(id, cid);
        vm.expectRevert(
            abi.encodeWithSelector(UsageStatements.UsageStatementsNothingInSuspense.selector, id, keccak256(cid))
        );
        statements.release(id, cid);
        assertEq(router.balanceOf(address(0), treasuryB), 2 ether);
    }

    function test_release_RevertWhen_WindowClosed() public {
        (uint256 id, bytes memory cid) = _heldForLateWork(2 ether);
        uint256 closes = block.timestamp + WINDOW;
        vm.warp(closes + 1);
        vm.expectRevert(
            abi.encodeWithSelector(UsageStatements.UsageStatementsWindowClosed.selector, id, closes)
        );
        statements.release(id, cid);
    }

    function test_refund_AfterTheWindowToTheSubmitter() public {
        uint256 id = _anchor(ROOT, 10 ether);
        _hold(id, _unregistered().contentCid, 2 ether);
        _hold(id, abi.encode(uint256(777)), 1 ether);
        vm.warp(block.timestamp + WINDOW + 1);
        uint256 before = service.balance;
        vm.prank(service);
        assertEq(statements.refund(id), 3 ether);
        assertEq(service.balance, before + 3 ether);
        assertEq(address(statements).balance, 0);
        vm.expectRevert(
            abi.encodeWithSelector(UsageStatements.UsageStatementsNothingInSuspense.selector, id, bytes32(0))
        );
        vm.prank(service);
        statements.refund(id);
    }

    function test_refund_RevertWhen_BeforeTheWindow() public {
        uint256 id = _anchor(ROOT, 10 ether);
        _hold(id, _unregistered().contentCid, 2 ether);
        uint256 closes = block.timestamp + WINDOW;
        vm.warp(closes);
        vm.expectRevert(abi.encodeWithSelector(UsageStatements.UsageStatementsWindowOpen.selector, id, closes));
        vm.prank(service);
        statements.refund(id);
    }

    function test_refund_RevertWhen_OtherKeyClaimsSuspense() public {
        uint256 id = _anchor(ROOT, 10 ether);
        _hold(id, _unregistered().contentCid, 2 ether);
        vm.warp(block.timestamp + WINDOW + 1);
        vm.expectRevert(
            abi.encodeWithSelector(UsageStatements.UsageStatementsNotSubmitter.selector, id, attacker)
        );
        vm.prank(attacker);
        statements.refund(id);
        vm.expectRevert(
            abi.encodeWithSelector(UsageStatements.UsageStatementsNotSubmitter.selector, id, attacker)
        );
        vm.prank(attacker);
        statements.hold{value: 1 ether}(id, _ids(hex"01"), _one(1 ether));
    }

    function test_refund_LeavesWhatWasReleased() public {
        uint256 id = _anchor(ROOT, 10 ether);
        HeritageParams memory p = _unregistered();
        _hold(id, p.contentCid, 2 ether);
        _hold(id, abi.encode(uint256(777)), 1 ether);
        vm.prank(b1);
        registry.registerHeritageWork(p);
        statements.release(id, p.contentCid);
        vm.warp(block.timestamp + WINDOW + 1);
        vm.prank(service);
        assertEq(statements.refund(id), 1 ether);
        assertEq(router.balanceOf(address(0), treasuryB), 2 ether);
    }

    /// @notice Whatever the split between settled and held amounts, the statement never takes more
    ///         than its total, and every wei it took is in the router or in suspense.
    function testFuzz_settleAndHold_AccountForEveryWei(uint128 total, uint96 paid, uint96 held) public {
        total = uint128(bound(total, 1, 100 ether));
        paid = uint96(bound(paid, 1, 50 ether));
        held = uint96(bound(held, 1, 50 ether));
        uint256 id = _anchor(ROOT, total);
        uint256 applied = paid <= total ? paid : 0;
        bool fits = applied + held <= total;
        vm.startPrank(service);
        if (paid <= total) {
            statements.settle{value: paid}(id, _one(work), _one(paid));
        } else {
            vm.expectRevert(
                abi.encodeWithSelector(UsageStatements.UsageStatementsOverTotal.selector, id, paid, total)
            );
            statements.settle{value: paid}(id, _one(work), _one(paid));
        }
        if (!fits) vm.expectRevert();
        statements.hold{value: held}(id, _ids(abi.encode(uint256(777))), _one(held));
        vm.stopPrank();
        UsageStatements.Statement memory s = statements.statementOf(id);
        assertLe(uint256(s.accounted), uint256(total));
        assertEq(router.balanceOf(address(0), treasuryB), applied);
        assertEq(s.suspense, fits ? held : 0);
        assertEq(address(statements).balance, s.suspense);
        assertEq(uint256(s.accounted), router.balanceOf(address(0), treasuryB) + s.suspense);
    }

    function test_refund_RevertWhen_Reentered() public {
        ReentrantService hostile = new ReentrantService(statements);
        hostile.open{value: 1 ether}(ROOT, abi.encode(uint256(777)));
        vm.warp(block.timestamp + WINDOW + 1);
        vm.expectRevert(
            abi.encodeWithSelector(UsageStatements.UsageStatementsTransferFailed.selector, address(hostile), 1 ether)
        );
        hostile.takeBack();
        assertEq(address(statements).balance, 1 ether);
        assertEq(statements.statementOf(hostile.id()).suspense, 1 ether);
    }

    // ------------------------------------------------------------------ proofs

    function test_verifyLine_TwoLeafTree() public {
        bytes32 a = keccak256(bytes.concat(keccak256(abi.encode(uint256(1), keccak256("line 1"), uint256(5)))));
        bytes32 b = keccak256(bytes.concat(keccak256(abi.encode(uint256(2), keccak256("line 2"), uint256(7)))));
        bytes32 root = a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
        uint256 id = _anchor(root, 12);
        bytes32[] memory proof = new bytes32[](1);
        proof[0] = b;
        assertTrue(statements.verifyLine(id, proof, 1, keccak256("line 1"), 5));
        assertFalse(statements.verifyLine(id, proof, 1, keccak256("line 1"), 6));
    }
}
