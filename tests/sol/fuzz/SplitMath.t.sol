// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {DerivativeFixture} from "../utils/DerivativeFixture.sol";
import {Pairs} from "../utils/Pairs.sol";
import {Recipient, DerivativeParams} from "../../../contracts/libraries/HeritageTypes.sol";
import {PlainERC20} from "../mocks/PlainERC20.sol";
import {ProtocolRules} from "../../../contracts/ProtocolRules.sol";

/// @title The split and cascade arithmetic of the router against a reference model
/// @notice The model below implements contracts/README.md's rounding rule on its own, in pure
///         functions, without calling the router:
///           1. each parent i of a work paid `a` gets floor(a * ppm_i / 1e6), recursively;
///           2. the work keeps own = a - sum of its parents' amounts;
///           3. recipients j >= 1 of its split get floor(own * ppm_j / 1e6), recipient 0 the rest.
///         The lineage it walks is this test's own copy, written when each work is registered.
///         setUp builds the lineage once; every fuzz run registers at most one derivative.
contract SplitMathTest is DerivativeFixture {
    uint256 internal constant SCALE = 1_000_000;
    uint256 internal constant MAX_AMOUNT = 1e30;

    /// @notice This test's record of a work: its parents and split as registered.
    struct Lineage {
        uint256[] parents;
        uint32[] ppms;
        address[] accounts;
        uint32[] shares;
    }

    /// @notice Expected credits of one or more payments, per work and split position.
    /// @dev Accounts are distinct across all splits, so a position stands for one account.
    struct Expect {
        uint256[][] credits; // credits[workId][j]
        uint256[] visits; // node visits with a non-zero amount, per work
        uint256 top; // the derivative registered in the run (its lineage lives in memory)
        address[] topAccounts;
    }

    mapping(uint256 workId => Lineage) internal _lineage;

    uint256[8] internal h; // heritage works, communities A and B alternating
    uint256[8] internal spine; // spine[0] = h[0]; spine[k] = derivative of (spine[k-1], h[k]) at depth k
    uint256[8] internal hA; // heritage works of community A only, for the floor
    uint256 internal disputed; // derivative of (h[1], h[2]) under community B's dispute
    PlainERC20 internal token;

    function setUp() public override {
        super.setUp();
        token = new PlainERC20();
        for (uint256 i; i < 8; ++i) {
            Recipient[] memory s = _fixedSplit(i % 4 + 1, i);
            h[i] = i % 2 == 0
                ? _registerHeritageOf(communityA, a1, _open(0), s)
                : _registerHeritageOf(communityB, b1, _open(0), s);
            _record(h[i], new uint256[](0), new uint32[](0), s);
        }
        spine[0] = h[0];
        for (uint256 k = 1; k < 8; ++k) {
            spine[k] = _deriveRecorded(
                Pairs.uints(spine[k - 1], h[k]),
                Pairs.ppms(uint32(150_001 + 37_777 * k), uint32(9_999 + 1_234 * k)),
                _fixedSplit(k % 3 + 1, 100 + k)
            );
        }
        for (uint256 i; i < 8; ++i) {
            Recipient[] memory s = _fixedSplit(i % 3 + 1, 200 + i);
            hA[i] = _registerHeritageOf(communityA, a1, _open(0), s);
            _record(hA[i], new uint256[](0), new uint32[](0), s);
        }
        disputed = _deriveRecorded(Pairs.uints(h[1], h[2]), Pairs.ppms(123_457, 76_543), _fixedSplit(5, 300));
        router.bindDisputes(address(this)); // v2: this test holds escrow as HeritageDisputes would
        router.holdEscrow(disputed, 1);
    }

    /// @dev The router asks its disputes contract about derivatives of held works: never held here.
    function descendantRegistered(uint256, uint256, address) external pure returns (bool) {
        return false;
    }

    // ================================================================== the reference model

    /// @notice floor(amount * ppm / 1e6), computed as q * ppm + floor(r * ppm / 1e6) with
    ///         amount = q * 1e6 + r, so the model never forms the router's product.
    function _mulPpm(uint256 amount, uint256 ppm) internal pure returns (uint256) {
        return (amount / SCALE) * ppm + (amount % SCALE) * ppm / SCALE;
    }

    /// @notice Rule 1 and 2: what each parent receives, and what the work keeps.
    function _modelParents(uint256 amount, uint32[] memory ppms)
        internal
        pure
        returns (uint256[] memory toParent, uint256 own)
    {
        toParent = new uint256[](ppms.length);
        own = amount;
        for (uint256 i; i < ppms.length; ++i) {
            toParent[i] = _mulPpm(amount, ppms[i]);
            own -= toParent[i];
        }
    }

    /// @notice Rule 3: recipients j >= 1 get their floor, recipient 0 the remainder.
    function _modelSplit(uint256 own, uint32[] memory shares) internal pure returns (uint256[] memory credit) {
        credit = new uint256[](shares.length);
        uint256 rest = own;
        for (uint256 j = 1; j < shares.length; ++j) {
            credit[j] = _mulPpm(own, shares[j]);
            rest -= credit[j];
        }
        credit[0] = rest;
    }

    /// @notice Adds a work's own share, split by rule 3, to the expectation.
    function _creditOwn(Expect memory e, uint256 w, uint256 own, uint32[] memory shares) internal pure {
        if (e.credits[w].length == 0) e.credits[w] = new uint256[](shares.length);
        ++e.visits[w];
        uint256[] memory c = _modelSplit(own, shares);
        for (uint256 j; j < c.length; ++j) {
            e.credits[w][j] += c[j];
        }
    }

    /// @notice A payment of `amount` reaching recorded work `w`.
    function _walk(Expect memory e, uint256 w, uint256 amount) internal view {
        Lineage storage l = _lineage[w];
        (uint256[] memory toParent, uint256 own) = _modelParents(amount, l.ppms);
        for (uint256 i; i < toParent.length; ++i) {
            // A parent whose floor is 0 receives nothing and credits nobody.
            if (toParent[i] != 0) _walk(e, l.parents[i], toParent[i]);
        }
        _creditOwn(e, w, own, l.shares);
    }

    /// @notice A payment of `amount` to the run's derivative, whose lineage is in memory.
    function _walkTop(
        Expect memory e,
        uint256[] memory parents,
        uint32[] memory ppms,
        uint32[] memory shares,
        uint256 amount
    ) internal view {
        (uint256[] memory toParent, uint256 own) = _modelParents(amount, ppms);
        for (uint256 i; i < toParent.length; ++i) {
            if (toParent[i] != 0) _walk(e, parents[i], toParent[i]);
        }
        _creditOwn(e, e.top, own, shares);
    }

    function _newExpect(uint256 top, address[] memory topAccounts) internal view returns (Expect memory e) {
        uint256 n = registry.workCount() + 1;
        e.credits = new uint256[][](n);
        e.visits = new uint256[](n);
        e.top = top;
        e.topAccounts = topAccounts;
    }

    // ================================================================== reading the router

    function _accountAt(Expect memory e, uint256 w, uint256 j) internal view returns (address) {
        return w == e.top ? e.topAccounts[j] : _lineage[w].accounts[j];
    }

    /// @notice The router's balances at every position the expectation covers.
    function _balances(Expect memory e, address t) internal view returns (uint256[][] memory bal) {
        bal = new uint256[][](e.credits.length);
        for (uint256 w; w < e.credits.length; ++w) {
            uint256 n = e.credits[w].length;
            if (n == 0) continue;
            bal[w] = new uint256[](n);
            for (uint256 j; j < n; ++j) {
                bal[w][j] = router.balanceOf(t, _accountAt(e, w, j));
            }
        }
    }

    function _minus(uint256[][] memory after_, uint256[][] memory before) internal pure returns (uint256[][] memory d) {
        d = new uint256[][](after_.length);
        for (uint256 w; w < after_.length; ++w) {
            d[w] = new uint256[](after_[w].length);
            for (uint256 j; j < after_[w].length; ++j) {
                d[w][j] = after_[w][j] - before[w][j];
            }
        }
    }

    /// @notice (a) every credit equals the model to the wei; (b) credits add up to the amount.
    function _assertMatchesModel(Expect memory e, uint256[][] memory credited, uint256 amount) internal pure {
        uint256 total;
        uint256 modelled;
        for (uint256 w; w < e.credits.length; ++w) {
            for (uint256 j; j < e.credits[w].length; ++j) {
                assertEq(credited[w][j], e.credits[w][j], "credit differs from the model");
                total += credited[w][j];
                modelled += e.credits[w][j];
            }
        }
        assertEq(modelled, amount, "the model conserves");
        assertEq(total, amount, "the router's credits add up to the payment");
    }

    // ================================================================== builders

    function _acct(uint256 salt, uint256 j) internal pure returns (address) {
        return address(uint160(uint256(keccak256(abi.encode("recipient", salt, j)))));
    }

    /// @notice `n` shares, each at least 1, summing to exactly `total`, skewed by `seed`
    ///         (weights span 1 .. 2^31, so a split can hold 1-ppm and near-total shares alike).
    function _shares(uint256 n, uint256 total, uint256 seed) internal pure returns (uint32[] memory p) {
        p = new uint32[](n);
        uint256[] memory w = new uint256[](n);
        uint256 sum;
        for (uint256 j; j < n; ++j) {
            uint256 r = uint256(keccak256(abi.encode(seed, j)));
            w[j] = ((r >> 8) % (uint256(1) << (r & 31))) + 1;
            sum += w[j];
        }
        uint256 spare = total - n;
        uint256 used;
        for (uint256 j; j < n; ++j) {
            uint256 extra = spare * w[j] / sum;
            p[j] = uint32(1 + extra); // <= total <= 1e6
            used += 1 + extra;
        }
        p[seed % n] += uint32(total - used);
    }

    function _splitOf(uint32[] memory shares, uint256 salt) internal pure returns (Recipient[] memory s) {
        s = new Recipient[](shares.length);
        for (uint256 j; j < shares.length; ++j) {
            s[j] = Recipient(_acct(salt, j), shares[j]);
        }
    }

    function _fixedSplit(uint256 n, uint256 salt) internal pure returns (Recipient[] memory) {
        return _splitOf(_shares(n, SCALE, uint256(keccak256(abi.encode("fixed", salt)))), salt);
    }

    function _accountsOf(Recipient[] memory s) internal pure returns (address[] memory a) {
        a = new address[](s.length);
        for (uint256 j; j < s.length; ++j) {
            a[j] = s[j].account;
        }
    }

    function _record(uint256 id, uint256[] memory parents, uint32[] memory ppms, Recipient[] memory split) internal {
        Lineage storage l = _lineage[id];
        l.parents = parents;
        l.ppms = ppms;
        for (uint256 j; j < split.length; ++j) {
            l.accounts.push(split[j].account);
            l.shares.push(split[j].ppm);
        }
    }

    function _deriveRecorded(uint256[] memory parents, uint32[] memory ppms, Recipient[] memory split)
        internal
        returns (uint256 id)
    {
        id = _derive(parents, ppms, split);
        _record(id, parents, ppms, split);
    }

    /// @notice Amounts spread evenly over orders of magnitude 10^0 .. 10^maxDigits (capped at
    ///         `max`), so that the small amounts where rounding bites are as common as large ones.
    function _amount(uint256 x, uint256 maxDigits, uint256 max) internal pure returns (uint256) {
        uint256 cap = 10 ** (x % (maxDigits + 1));
        if (cap > max) cap = max;
        return bound(x >> 8, 1, cap);
    }

    function _payEth(uint256 work, uint256 amount) internal {
        vm.deal(payer, amount);
        vm.prank(payer);
        router.pay{value: amount}(work, bytes32("u"), 1);
    }

    function _payToken(uint256 work, uint256 amount) internal {
        token.mint(payer, amount);
        vm.startPrank(payer);
        token.approve(address(router), amount);
        router.payToken(work, address(token), amount, bytes32("u"), 1);
        vm.stopPrank();
    }

    /// @notice The fuzzed derivative: its spine parent sits at depth `depth - 1`, so it has
    ///         depth `depth`; its other `nParents - 1` parents are distinct heritage works.
    function _fuzzedLineage(uint256 depth, uint256 nParents, uint256 upstream, uint256 seed)
        internal
        view
        returns (uint256[] memory parents, uint32[] memory ppms)
    {
        depth = bound(depth, 1, 8);
        nParents = bound(nParents, 1, 8);
        parents = new uint256[](nParents);
        parents[0] = spine[depth - 1];
        uint256 offset = seed % 7;
        for (uint256 i = 1; i < nParents; ++i) {
            parents[i] = h[1 + (offset + i) % 7]; // h[1..7]; h[0] is spine[0]
        }
        ppms = _shares(nParents, bound(upstream, nParents, SCALE), seed >> 3);
    }

    function _fuzzedSplit(uint256 n, uint256 seed) internal pure returns (Recipient[] memory) {
        n = bound(n, 1, 32);
        return _splitOf(_shares(n, SCALE, seed), uint256(keccak256(abi.encode("fuzz", seed))));
    }

    // ================================================================== (a) + (b): one split

    /// @notice A heritage work's split, fuzzed from 1 to 32 recipients, credits each recipient
    ///         the model's amount for amounts up to MAX_PAYMENT; recipient 0 absorbs at most n-1
    ///         wei over its own floor.
    function testFuzz_pay_SplitMatchesModel(uint256 amount, uint256 n, uint256 seed) public {
        amount = _amount(amount, 72, router.MAX_PAYMENT());
        Recipient[] memory split = _fuzzedSplit(n, seed);
        uint32[] memory shares = new uint32[](split.length);
        for (uint256 j; j < split.length; ++j) {
            shares[j] = split[j].ppm;
        }
        // v2: a split may not grow beyond the cap fixed at configuration, so the fuzzed split
        // (up to 32 recipients) gets a work of its own instead of replacing h[0]'s.
        uint256 w = _registerHeritageOf(communityA, a1, _open(0), split);

        _payEth(w, amount);

        uint256[] memory expected = _modelSplit(amount, shares);
        uint256 total;
        for (uint256 j; j < split.length; ++j) {
            uint256 got = router.balanceOf(address(0), split[j].account);
            assertEq(got, expected[j], "credit differs from the model");
            total += got;
        }
        assertEq(total, amount, "credits add up to the payment");
        assertEq(address(router).balance, amount);
        uint256 firstFloor = _mulPpm(amount, shares[0]);
        assertGe(expected[0], firstFloor);
        assertLe(expected[0] - firstFloor, split.length - 1);
    }

    // ================================================================== (a) + (b): a lineage

    /// @notice A derivative of fuzzed depth (1..8), parents (1..8), parent shares and split
    ///         (1..32) credits every recipient in its whole lineage the model's amount, in ETH or
    ///         in an ERC-20, and nothing is lost or made.
    function testFuzz_pay_CascadeMatchesModel(
        uint256 amount,
        uint256 depth,
        uint256 nParents,
        uint256 upstream,
        uint256 n,
        uint256 seed,
        bool inToken
    ) public {
        amount = _amount(amount, 30, MAX_AMOUNT);
        (uint256[] memory parents, uint32[] memory ppms) = _fuzzedLineage(depth, nParents, upstream, seed);
        Recipient[] memory split = _fuzzedSplit(n, seed >> 5);
        uint256 d = _derive(parents, ppms, split);
        assertEq(router.depthOf(d), bound(depth, 1, 8));

        Expect memory e = _newExpect(d, _accountsOf(split));
        uint32[] memory shares = new uint32[](split.length);
        for (uint256 j; j < split.length; ++j) {
            shares[j] = split[j].ppm;
        }
        _walkTop(e, parents, ppms, shares, amount);

        address t = inToken ? address(token) : address(0);
        if (inToken) _payToken(d, amount);
        else _payEth(d, amount);

        _assertMatchesModel(e, _balances(e, t), amount);
        assertEq(inToken ? token.balanceOf(address(router)) : address(router).balance, amount);
    }

    // ================================================================== (c): the community floor

    /// @notice v2: the floor F of root hA[0] binds hA[0]'s own effective share (issue 19), so a
    ///         derivative naming it directly gives it at least F and its credit is
    ///         floor(amount * ppm_0 / 1e6) >= floor(amount * F / 1e6): the floor holds to the wei
    ///         for a direct parent. Paths through intermediate derivatives can each lose under 1 wei
    ///         (test_pay_FloorShortfallFromRoundingAcrossPaths).
    function testFuzz_pay_CommunityShareMeetsFloor(
        uint256 amount,
        uint256 floorPpm,
        uint256 k,
        uint256 upstream,
        uint256 seed
    ) public {
        amount = _amount(amount, 30, MAX_AMOUNT);
        k = bound(k, 1, 8);
        floorPpm = bound(floorPpm, 1, SCALE - (k - 1));
        vm.prank(a2);
        gov.setProtocol(hA[0], _open(uint32(floorPpm)));

        uint256[] memory parents = new uint256[](k);
        for (uint256 i; i < k; ++i) {
            parents[i] = hA[i];
        }
        // v2: the floor binds each root (hA[0]), not the parents' total: hA[0] gets at least
        // the floor, the other k - 1 parents share the rest of the fuzzed upstream total.
        uint256 total = bound(upstream, floorPpm + k - 1, SCALE);
        uint32[] memory ppms = _shares(k, total - floorPpm + 1, seed);
        ppms[0] += uint32(floorPpm - 1);
        Recipient[] memory split = _split(creator);
        uint256 d = _derive(parents, ppms, split);

        Expect memory e = _newExpect(d, _accountsOf(split));
        uint32[] memory one = new uint32[](1);
        one[0] = uint32(SCALE);
        _walkTop(e, parents, ppms, one, amount);
        _payEth(d, amount);
        uint256[][] memory credited = _balances(e, address(0));
        _assertMatchesModel(e, credited, amount);

        uint256 community;
        for (uint256 i; i < k; ++i) {
            for (uint256 j; j < credited[hA[i]].length; ++j) {
                community += credited[hA[i]][j];
            }
        }
        uint256 floorShare = _mulPpm(amount, floorPpm);
        uint256 root;
        for (uint256 j; j < credited[hA[0]].length; ++j) {
            root += credited[hA[0]][j];
        }
        assertGe(root, floorShare); // the floored root alone meets its floor
        assertGe(community, floorShare);
    }

    // ================================================================== (d): monotonicity

    /// @notice Paying a + b credits each recipient at least what paying a credited, except for
    ///         the rounding the rule allows, per visit of a work by the payment:
    ///         - the amount reaching each work is monotone (compositions of floors), so every
    ///           heritage work's total and each of its recipients j >= 1 are monotone exactly;
    ///         - a derivative's own share a - sum(floor(a * ppm_i)) can fall by up to k - 1 wei
    ///           (k parents), so its recipients j >= 1 can fall by up to k - 1;
    ///         - recipient 0 takes a remainder, which can fall by up to n - 2 wei (n recipients)
    ///           when its work's own share grows, and by up to k - 1 when it shrinks.
    ///         test_pay_LargerPaymentCanCreditFirstRecipientLess and
    ///         test_pay_LargerPaymentCanCreditWorkLess show both shortfalls happen.
    function testFuzz_pay_MonotoneUpToRounding(
        uint256 a,
        uint256 b,
        uint256 depth,
        uint256 nParents,
        uint256 upstream,
        uint256 n,
        uint256 seed
    ) public {
        a = _amount(a, 30, MAX_AMOUNT);
        b = _amount(b, 30, MAX_AMOUNT);
        (uint256[] memory parents, uint32[] memory ppms) = _fuzzedLineage(depth, nParents, upstream, seed);
        Recipient[] memory split = _fuzzedSplit(n, seed >> 5);
        uint256 d = _derive(parents, ppms, split);
        uint32[] memory shares = new uint32[](split.length);
        for (uint256 j; j < split.length; ++j) {
            shares[j] = split[j].ppm;
        }

        Expect memory e1 = _newExpect(d, _accountsOf(split));
        _walkTop(e1, parents, ppms, shares, a);
        _payEth(d, a);
        uint256[][] memory first = _balances(e1, address(0));
        _assertMatchesModel(e1, first, a);

        Expect memory e2 = _newExpect(d, _accountsOf(split));
        _walkTop(e2, parents, ppms, shares, a + b);
        // Before the second payment every position holds what the first credited: positions it
        // did not reach hold 0, as the first payment's credits already add up to `a`.
        uint256[][] memory before = new uint256[][](e2.credits.length);
        for (uint256 w; w < e2.credits.length; ++w) {
            before[w] = e1.credits[w].length == 0 ? new uint256[](e2.credits[w].length) : first[w];
        }
        _payEth(d, a + b);
        uint256[][] memory second = _minus(_balances(e2, address(0)), before);
        _assertMatchesModel(e2, second, a + b);

        for (uint256 w; w < e2.credits.length; ++w) {
            uint256 len = e1.credits[w].length;
            if (len == 0) continue;
            assertEq(e2.credits[w].length, len, "a work reached by a is reached by a + b");
            uint256 k = w == d ? parents.length : _lineage[w].parents.length;
            uint256 visits = e2.visits[w];
            uint256 firstTotal;
            uint256 secondTotal;
            for (uint256 j; j < len; ++j) {
                uint256 slack = visits * _slack(k, len, j);
                assertGe(second[w][j] + slack, first[w][j]);
                firstTotal += first[w][j];
                secondTotal += second[w][j];
            }
            if (k == 0) assertGe(secondTotal, firstTotal); // what reaches a heritage work is monotone
        }
    }

    /// @notice Wei a recipient at position j of a work with k parents and n recipients can lose,
    ///         per visit, when the payment grows (derivation in testFuzz_pay_MonotoneUpToRounding).
    function _slack(uint256 k, uint256 n, uint256 j) internal pure returns (uint256) {
        uint256 ownLoss = k == 0 ? 0 : k - 1;
        if (j != 0) return ownLoss;
        uint256 remainderLoss = n >= 2 ? n - 2 : 0;
        return remainderLoss > ownLoss ? remainderLoss : ownLoss;
    }

    // ================================================================== escrow released by the rule

    /// @notice While disputed, two payments escrow exactly the work's own shares; dismissing the
    ///         dispute credits the escrow, as one amount, to the split by the same rule.
    function testFuzz_closeDispute_DismissedEscrowSplitByRule(uint256 x, uint256 y) public {
        x = _amount(x, 30, MAX_AMOUNT);
        y = _amount(y, 30, MAX_AMOUNT);
        Lineage storage l = _lineage[disputed];
        Expect memory e = _newExpect(0, new address[](0));
        uint256 escrow;
        uint256[2] memory amounts = [x, y];
        for (uint256 p; p < 2; ++p) {
            (uint256[] memory toParent, uint256 own) = _modelParents(amounts[p], l.ppms);
            for (uint256 i; i < toParent.length; ++i) {
                if (toParent[i] != 0) _walk(e, l.parents[i], toParent[i]);
            }
            escrow += own;
            _payEth(disputed, amounts[p]);
        }
        assertEq(router.escrowOf(disputed, address(0)), escrow);
        for (uint256 j; j < l.accounts.length; ++j) {
            assertEq(router.balanceOf(address(0), l.accounts[j]), 0);
        }

        router.endHold(disputed, address(0), 0);
        router.releaseEscrow(disputed, address(0));
        _creditOwn(e, disputed, escrow, l.shares);
        _assertMatchesModel(e, _balances(e, address(0)), x + y);
        assertEq(router.escrowOf(disputed, address(0)), 0);
    }

    // ================================================================== where the rule bends

    /// @notice Recipient 0's remainder is not monotone: 3 wei to a 1/3-1/3-1/3 split credit it
    ///         3 (both floors are 0), 4 wei credit it 2 (both floors are 1).
    function test_pay_LargerPaymentCanCreditFirstRecipientLess() public {
        Recipient[] memory s = new Recipient[](3);
        s[0] = Recipient(_acct(900, 0), 333_334);
        s[1] = Recipient(_acct(900, 1), 333_333);
        s[2] = Recipient(_acct(900, 2), 333_333);
        vm.prank(a1);
        gov.setSplit(h[0], s);
        vm.prank(a2); // v2: a heritage split change needs community A's two approvals
        gov.setSplit(h[0], s);
        _payEth(h[0], 3);
        assertEq(router.balanceOf(address(0), s[0].account), 3);
        _payEth(h[0], 4);
        assertEq(router.balanceOf(address(0), s[0].account), 3 + 2);
        assertEq(router.balanceOf(address(0), s[1].account), 1);
    }

    /// @notice A derivative's own share is not monotone: with three parents at 333,333 ppm, 3 wei
    ///         leave it 3 (every parent's floor is 0) but 4 wei leave it 1.
    function test_pay_LargerPaymentCanCreditWorkLess() public {
        uint256[] memory parents = new uint256[](3);
        (parents[0], parents[1], parents[2]) = (h[2], h[4], h[6]);
        uint32[] memory ppms = new uint32[](3);
        (ppms[0], ppms[1], ppms[2]) = (333_333, 333_333, 333_333);
        uint256 d = _derive(parents, ppms, _split(creator));
        _payEth(d, 3);
        assertEq(router.balanceOf(address(0), creator), 3);
        _payEth(d, 4);
        assertEq(router.balanceOf(address(0), creator), 3 + 1);
    }

    function _incoming(uint256 w) internal view returns (uint256 total) {
        address[] storage accounts = _lineage[w].accounts;
        for (uint256 j; j < accounts.length; ++j) {
            total += router.balanceOf(address(0), accounts[j]);
        }
    }

    /// @notice v2 (rewritten: v1 summed the floor over parents of one community): root hA[0]
    ///         reached by two paths, 1 ppm directly and 2 ppm through d1 at 50 %, has an
    ///         effective share of 1 + 1 = 2 ppm and meets its 2-ppm floor, yet 500,000 wei route 0
    ///         to it where floor(500,000 * 2 / 1e6) = 1: each path rounds down (the bound of
    ///         contracts/README.md, "Rounding").
    function test_pay_FloorShortfallFromRoundingAcrossPaths() public {
        uint256 d1 = _derive(_one(hA[0]), _ppm(2), _split(payer));
        vm.prank(a1);
        gov.setProtocol(hA[0], _open(2)); // tightening: one steward, at once
        uint256 d = _derive(Pairs.uints(hA[0], d1), Pairs.ppms(1, 500_000), _split(creator));
        _payEth(d, 500_000);
        assertEq(_incoming(hA[0]), 0);
        assertEq(router.balanceOf(address(0), payer), 250_000);
        assertEq(router.balanceOf(address(0), creator), 250_000);
    }

    /// @notice v2 (rewritten: v1 let 1 ppm to A plus 99,999 ppm to B meet A's 10 % floor, the
    ///         decoy-root attack of issue 19): each root's own share must meet its floor.
    function test_pay_FloorBindsEachRootNotTotalUpstream() public {
        vm.prank(a1);
        gov.setProtocol(hA[0], _open(100_000));
        DerivativeParams memory p = _derivativeParams(Pairs.uints(hA[0], h[1]), Pairs.ppms(1, 99_999), _split(creator));
        vm.prank(creator);
        vm.expectRevert(abi.encodeWithSelector(ProtocolRules.RegistryFloorNotMet.selector, hA[0], 1, 100_000));
        registry.registerDerivative(p);
        uint256 d = _derive(Pairs.uints(hA[0], h[1]), Pairs.ppms(100_000, 1), _split(creator));
        _payEth(d, 1_000_000);
        assertEq(_incoming(hA[0]), 100_000);
        assertEq(_incoming(h[1]), 1);
    }

    /// @notice v2 (rewritten: v1 let two generations at a 10 % floor route 1 % to the root): the
    ///         floor binds the root's effective share through every generation.
    function test_pay_FloorBindsDeepAncestorsThroughEveryGeneration() public {
        vm.prank(a1);
        gov.setProtocol(hA[0], _open(100_000));
        uint256 d1 = _derive(_one(hA[0]), _ppm(400_000), _split(creator));
        DerivativeParams memory p = _derivativeParams(_one(d1), _ppm(100_000), _split(payer));
        vm.prank(creator);
        vm.expectRevert(abi.encodeWithSelector(ProtocolRules.RegistryFloorNotMet.selector, hA[0], 40_000, 100_000));
        registry.registerDerivative(p);
        uint256 d2 = _derive(_one(d1), _ppm(250_000), _split(payer));
        _payEth(d2, 1_000_000);
        assertEq(_incoming(hA[0]), 100_000);
        assertEq(router.balanceOf(address(0), creator), 150_000);
    }
}
