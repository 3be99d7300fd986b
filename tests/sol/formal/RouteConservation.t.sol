// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "../utils/Test.sol";
import {RoyaltyRouter} from "../../../contracts/RoyaltyRouter.sol";
import {Recipient} from "../../../contracts/libraries/HeritageTypes.sol";

/// @title Conservation of the router's route/credit code, proved by halmos for symbolic amounts and shares
/// @notice Run by `scripts/halmos` (profile `halmos`: only this folder and what it imports).
///         This contract is the router's registry and disputes contract. Each `check_` pays a
///         symbolic amount through a real RoyaltyRouter — a derivative with one or two parents of
///         symbolic shares and a split of three recipients with symbolic shares — and asserts that
///         the credits (and escrow) add up to the amount, to the wei. Amounts are bounded to 2^96
///         wei (far above all ETH in existence) to keep the solver's multiplications small.
contract RouteConservation is Test {
    uint32 internal constant PPM = 1_000_000;
    address internal constant P1 = address(0x1001);
    address internal constant P2 = address(0x1002);
    address internal constant X = address(0x2001);
    address internal constant Y = address(0x2002);
    address internal constant Z = address(0x2003);
    address internal constant T = address(0x3001);
    RoyaltyRouter internal router;

    function setUp() public {
        router = new RoyaltyRouter();
        router.bindRegistry(address(this));
        router.bindDisputes(address(this));
        router.configureHeritage(1, _one(P1), false);
        router.configureHeritage(2, _one(P2), false);
    }

    function descendantRegistered(uint256, uint256, address) external pure returns (bool) {
        return false;
    }

    /// @notice One parent, a three-way split: parent + X + Y + Z == amount.
    function check_pay_OneParentConserves(uint96 amount, uint32 parentPpm, uint32 rx, uint32 ry) public {
        vm.assume(amount != 0);
        vm.assume(parentPpm != 0 && parentPpm <= PPM);
        _derivative(_one(1), _ppm(parentPpm), rx, ry);
        vm.deal(address(this), amount);
        router.pay{value: amount}(3, "halmos", 0);
        assert(_bal(P1) + _bal(X) + _bal(Y) + _bal(Z) == amount);
        assert(router.owedOf(address(0)) == amount);
    }

    /// @notice Two parents, a three-way split: P1 + P2 + X + Y + Z == amount.
    function check_pay_TwoParentsConserve(uint96 amount, uint32 a, uint32 b, uint32 rx, uint32 ry) public {
        vm.assume(amount != 0);
        vm.assume(a != 0 && b != 0 && uint256(a) + b <= PPM);
        uint256[] memory parents = new uint256[](2);
        (parents[0], parents[1]) = (1, 2);
        uint32[] memory ppms = new uint32[](2);
        (ppms[0], ppms[1]) = (a, b);
        _derivative(parents, ppms, rx, ry);
        vm.deal(address(this), amount);
        router.pay{value: amount}(3, "halmos", 0);
        assert(_bal(P1) + _bal(P2) + _bal(X) + _bal(Y) + _bal(Z) == amount);
    }

    /// @notice Escrow while held, then released with a symbolic award: P1 + T + X + Y + Z == amount.
    function check_releaseEscrow_Conserves(uint96 amount, uint32 parentPpm, uint32 rx, uint32 ry, uint32 award)
        public
    {
        vm.assume(amount != 0);
        vm.assume(parentPpm != 0 && parentPpm <= PPM);
        vm.assume(award <= PPM);
        _derivative(_one(1), _ppm(parentPpm), rx, ry);
        router.holdEscrow(3, 1);
        vm.deal(address(this), amount);
        router.pay{value: amount}(3, "halmos", 0);
        assert(_bal(P1) + router.escrowOf(3, address(0)) == amount);
        router.endHold(3, T, award);
        if (router.escrowOf(3, address(0)) != 0) router.releaseEscrow(3, address(0));
        assert(_bal(P1) + _bal(T) + _bal(X) + _bal(Y) + _bal(Z) == amount);
    }

    function _derivative(uint256[] memory parents, uint32[] memory ppms, uint32 rx, uint32 ry) internal {
        vm.assume(rx != 0 && ry != 0 && uint256(rx) + ry < PPM);
        Recipient[] memory split = new Recipient[](3);
        split[0] = Recipient(X, PPM - rx - ry);
        split[1] = Recipient(Y, rx);
        split[2] = Recipient(Z, ry);
        router.configureDerivative(3, address(this), parents, ppms, split, false);
    }

    function _bal(address account) internal view returns (uint256) {
        return router.balanceOf(address(0), account);
    }

    function _one(address account) internal pure returns (Recipient[] memory s) {
        s = new Recipient[](1);
        s[0] = Recipient(account, PPM);
    }
}
