// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Protocol} from "../libraries/HeritageTypes.sol";
import {ProtocolRules} from "../ProtocolRules.sol";
import {IRoyaltyRouter} from "./IRoyaltyRouter.sol";

/// @title The heritage registry as TrainingSets reads it
/// @notice Views on a work revert `RegistryUnknownWork` for an id that names no work.
interface ITrainingRegistry {
    /// @notice The router this registry configures.
    function router() external view returns (IRoyaltyRouter);

    /// @notice The protocol rules this registry enforces.
    function rules() external view returns (ProtocolRules);

    /// @notice ERC-721 owner of the work's token.
    function ownerOf(uint256 workId) external view returns (address);

    /// @notice The model CID and parameters hash of a machine-made work (empty CID otherwise).
    function machineProvenanceOf(uint256 workId) external view returns (bytes memory modelCid, bytes32 paramsHash);

    /// @notice The work registered for this binary CID, 0 if none.
    function workByContent(bytes calldata cidOrCommitment) external view returns (uint256);

    /// @notice The community of a heritage work; 0 for a derivative.
    function heritageCommunityOf(uint256 workId) external view returns (uint256 communityId);

    /// @notice A heritage work's cultural protocol.
    function protocolOf(uint256 workId) external view returns (Protocol memory);

    /// @notice The community's treasury.
    function treasuryOf(uint256 communityId) external view returns (address);
}
