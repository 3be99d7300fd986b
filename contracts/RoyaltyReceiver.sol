// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @notice The router's payment entry points a receiver uses.
interface IRouterPayments {
    function pay(uint256 workId, bytes32 usageRef, uint64 usageTime) external payable;
    function payToken(uint256 workId, address token, uint256 amount, bytes32 usageRef, uint64 usageTime) external;
}

/// @title RoyaltyReceiver: the ERC-2981 royalty receiver of one work
/// @notice Created by the router at a deterministic address (CREATE2, salt = work id) that
///         `router.receiverOf(workId)` predicts, so royalties may be sent there before it exists.
///         ETH received with enough gas is routed at once as a payment to its work; ETH received
///         with too little gas (a 2,300-gas `transfer`), or while the router cannot take it, is kept
///         and routed by `flush(address(0))`. `flush(token)` routes any ERC-20 balance. Anyone may
///         flush: the money can only go to the work it belongs to.
/// @dev Deliberately a tiny full contract, not an EIP-1167 clone: a clone forwards every call with
///      DELEGATECALL, whose cold account access alone (2,600 gas, EIP-2929) exceeds the 2,300-gas
///      stipend of `transfer`/`send`, so a marketplace paying by `transfer` would revert.
contract RoyaltyReceiver {
    using SafeERC20 for IERC20;

    /// @notice Below this much gas a received payment is kept rather than routed.
    uint256 public constant MIN_ROUTE_GAS = 60_000;
    /// @notice The usage reference the router's `Paid` event carries for receiver payments.
    bytes32 public constant USAGE_REF = "erc2981";

    /// @notice The router that created this receiver.
    address public immutable router;
    /// @notice The work whose royalties this receiver collects.
    uint256 public immutable workId;

    /// @notice ETH was received but kept (too little gas, or the router refused it): `flush(address(0))`.
    event EtherKept(uint256 indexed workId, uint256 amount);
    /// @notice The receiver's balance of `token` (address(0): ETH) was routed to its work.
    event Flushed(uint256 indexed workId, address indexed token, uint256 amount);

    /// @notice The receiver holds none of `token`.
    error ReceiverNothingToFlush(uint256 workId, address token);

    constructor(uint256 workId_) {
        router = msg.sender;
        workId = workId_;
    }

    /// @notice Route received ETH (and any kept before) to the work; keep it when gas is short.
    receive() external payable {
        if (gasleft() < MIN_ROUTE_GAS) {
            emit EtherKept(workId, msg.value);
            return;
        }
        // A failed routing (out of gas, work no longer payable, router busy) must not fail the
        // sender's sale: the ETH stays here for `flush`. The empty catch needs almost no gas.
        try IRouterPayments(router).pay{value: address(this).balance, gas: gasleft() - 5_000}(
            workId, USAGE_REF, uint64(block.timestamp)
        ) {} catch {}
    }

    /// @notice Route this receiver's whole balance of `token` (address(0) for ETH) to its work.
    ///         Fee-on-transfer tokens are routed net of their fee (the router credits what it receives).
    function flush(address token) external returns (uint256 amount) {
        if (token == address(0)) {
            amount = address(this).balance;
            if (amount == 0) revert ReceiverNothingToFlush(workId, token);
            emit Flushed(workId, token, amount);
            IRouterPayments(router).pay{value: amount}(workId, USAGE_REF, uint64(block.timestamp));
        } else {
            amount = IERC20(token).balanceOf(address(this));
            if (amount == 0) revert ReceiverNothingToFlush(workId, token);
            emit Flushed(workId, token, amount);
            IERC20(token).forceApprove(router, amount);
            IRouterPayments(router).payToken(workId, token, amount, USAGE_REF, uint64(block.timestamp));
        }
    }
}
