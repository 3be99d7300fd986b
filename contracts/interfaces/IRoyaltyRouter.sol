// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Recipient, WorkStatus} from "../libraries/HeritageTypes.sol";

/// @title The royalty router as the registry drives it
/// @notice Only the bound registry may call the configuring functions; everyone else uses the
///         router's own payment and withdrawal functions. Disputes are driven by HeritageDisputes
///         through the router's own escrow functions (`bindDisputes`).
interface IRoyaltyRouter {
    function configureHeritage(uint256 workId, Recipient[] calldata split, bool restricted) external;

    function configureDerivative(
        uint256 workId,
        address registrant,
        uint256[] calldata parents,
        uint32[] calldata parentPpms,
        Recipient[] calldata split,
        bool pending
    ) external;

    function setStatus(uint256 workId, WorkStatus status) external;

    function setSplit(uint256 workId, Recipient[] calldata split) external;

    function statusOf(uint256 workId) external view returns (WorkStatus);

    function parentsOf(uint256 workId) external view returns (uint256[] memory parents, uint32[] memory ppms);

    function depthOf(uint256 workId) external view returns (uint256);

    function receiverOf(uint256 workId) external view returns (address);
}
