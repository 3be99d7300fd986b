// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice The router's withdrawal entry point a pot uses.
interface IRouterWithdrawal {
    function withdrawTo(address token, address to) external returns (uint256);
    function balanceOf(address token, address account) external view returns (uint256);
}

/// @title TrainingSetPot: the router payee of one model's training-set share
/// @notice Created by TrainingSets at a deterministic address (CREATE2, salt = model id) that
///         `TrainingSets.potOf(modelId)` predicts. The model's owner names this address in the
///         model's split with the share its training set earns; the router credits it like any
///         recipient, and `TrainingSets.sweep(modelId)` moves those credits into the training set's
///         accounts. Only its TrainingSets may pull, so the money can go nowhere else.
contract TrainingSetPot {
    /// @notice The TrainingSets contract that created this pot.
    address public immutable sets;
    /// @notice The router that credits this pot.
    IRouterWithdrawal public immutable router;

    /// @notice Someone other than the pot's TrainingSets called `pull`.
    error TrainingSetPotNotSets(address caller);

    constructor(IRouterWithdrawal router_) {
        sets = msg.sender;
        router = router_;
    }

    /// @notice Withdraw the pot's ETH credits at the router straight to TrainingSets.
    /// @return amount the wei withdrawn (0 when the router owes the pot nothing)
    function pull() external returns (uint256 amount) {
        if (msg.sender != sets) revert TrainingSetPotNotSets(msg.sender);
        if (router.balanceOf(address(0), address(this)) == 0) return 0;
        return router.withdrawTo(address(0), sets);
    }
}
