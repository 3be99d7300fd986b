// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Labels} from "./libraries/Labels.sol";
import {PPM, MAX_ROOTS, Protocol} from "./libraries/HeritageTypes.sol";

/// @title ProtocolRules: the cultural-protocol rules the registry enforces, as a stateless contract
/// @notice Deployed beside the HeritageRegistry (which calls it; it holds no state and no
///         privileges) so that the registry stays under the 24,576-byte code limit. (The
///         protocol well-formedness check, on every heritage registration, is inlined in
///         RegistryCore instead, to save the call.) Its errors
///         bubble up through the registry's calls unchanged.
contract ProtocolRules {
    /// @notice A heritage root is restricted (secret/sacred): no derivatives.
    error RegistryAncestorRestricted(uint256 rootId);
    /// @notice A heritage root's protocol does not allow derivatives.
    error RegistryDerivativesNotAllowed(uint256 rootId);
    /// @notice A heritage root's protocol does not allow machine-learning use.
    error RegistryMachineLearningNotAllowed(uint256 rootId);
    /// @notice A heritage root's protocol (or a Non-Commercial label) does not allow commercial use.
    error RegistryCommercialUseNotAllowed(uint256 rootId);
    /// @notice Today (UTC `month`/`day`) lies outside the root's season window.
    error RegistryOutOfSeason(uint256 rootId, uint32 season, uint256 month, uint256 day);
    /// @notice Root `rootId` would receive `effectivePpm` of every payment, below its floor.
    error RegistryFloorNotMet(uint256 rootId, uint256 effectivePpm, uint256 floorPpm);
    /// @notice More distinct heritage roots than MAX_ROOTS.
    error RegistryTooManyRoots(uint256 max);

    /// @notice Whether `next` only tightens `old` (see `Labels.isTightening`).
    function isTightening(Protocol calldata old, Protocol calldata next) external pure returns (bool) {
        return Labels.isTightening(old, next);
    }

    /// @notice The distinct heritage roots of a derivative and each one's effective share of a
    ///         payment to it: Σ over parents i of floor(parentPpms[i] × share of the root in a
    ///         payment to parent i / PPM).
    /// @param parentShares per parent, its roots' shares packed as root << 32 | ppm
    /// @param parentPpms each parent's share (a missing one counts as 0; the router refuses it)
    function mergeRootShares(uint64[][] calldata parentShares, uint32[] calldata parentPpms)
        external
        pure
        returns (uint256[] memory roots, uint256[] memory effective)
    {
        uint256[] memory found = new uint256[](MAX_ROOTS);
        uint256[] memory sums = new uint256[](MAX_ROOTS);
        uint256 count;
        for (uint256 i; i < parentShares.length; ++i) {
            uint256 share = i < parentPpms.length ? parentPpms[i] : 0;
            uint64[] calldata shares = parentShares[i];
            for (uint256 j; j < shares.length; ++j) {
                uint256 root = shares[j] >> 32;
                uint256 k;
                while (k < count && found[k] != root) ++k;
                if (k == count) {
                    if (count == MAX_ROOTS) revert RegistryTooManyRoots(MAX_ROOTS);
                    found[count++] = root;
                }
                sums[k] += share * uint32(shares[j]) / PPM;
            }
        }
        roots = new uint256[](count);
        effective = new uint256[](count);
        for (uint256 k; k < count; ++k) {
            (roots[k], effective[k]) = (found[k], sums[k]);
        }
    }

    /// @notice Revert unless a derivative giving root `rootId` (protocol `protocol`) an
    ///         effective share of `effectivePpm`, made by a model when `machine`, for
    ///         commercial use when `commercial`, may register now.
    function checkRoot(uint256 rootId, Protocol calldata protocol, uint256 effectivePpm, bool machine, bool commercial)
        external
        view
    {
        if (protocol.restricted) revert RegistryAncestorRestricted(rootId);
        if (!protocol.derivativesAllowed) revert RegistryDerivativesNotAllowed(rootId);
        if (machine && !protocol.mlAllowed) revert RegistryMachineLearningNotAllowed(rootId);
        if (commercial && (!protocol.commercialAllowed || Labels.isNonCommercial(protocol.labels))) {
            revert RegistryCommercialUseNotAllowed(rootId);
        }
        if (!Labels.inSeason(protocol.season, block.timestamp)) {
            (uint256 month, uint256 day) = Labels.monthDay(block.timestamp);
            revert RegistryOutOfSeason(rootId, protocol.season, month, day);
        }
        if (effectivePpm < protocol.floorPpm) revert RegistryFloorNotMet(rootId, effectivePpm, protocol.floorPpm);
    }
}
