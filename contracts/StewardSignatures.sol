// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

import {HeritageParams, Protocol, Recipient} from "./libraries/HeritageTypes.sol";

/// @title EIP-712 typed data for steward actions submitted by a relayer
/// @notice A steward signs an action off-chain; anyone (the API) submits it. Each signature
///         carries the steward's current nonce (consumed on use, so it cannot be replayed), a
///         deadline, and the domain's chain id and contract address (so it cannot be replayed
///         on another chain or registry). Stewards that are contracts sign through ERC-1271.
abstract contract StewardSignatures is EIP712, Nonces {
    bytes32 internal constant PROTOCOL_TYPEHASH = keccak256(
        "Protocol(bool derivativesAllowed,bool consentRequired,bool commercialAllowed,bool mlAllowed,"
        "bool attributionRequired,bool restricted,uint32 floorPpm,uint64 labels,uint16 labelsVersion)"
    );
    bytes32 internal constant RECIPIENT_TYPEHASH = keccak256("Recipient(address account,uint32 ppm)");
    bytes32 internal constant REGISTER_HERITAGE_TYPEHASH = keccak256(
        "RegisterHeritageWork(uint256 communityId,bytes contentCid,bytes manifestCid,Protocol protocol,"
        "Recipient[] split,uint256 nonce,uint256 deadline)"
        "Protocol(bool derivativesAllowed,bool consentRequired,bool commercialAllowed,bool mlAllowed,"
        "bool attributionRequired,bool restricted,uint32 floorPpm,uint64 labels,uint16 labelsVersion)"
        "Recipient(address account,uint32 ppm)"
    );
    bytes32 internal constant APPROVE_DERIVATIVE_TYPEHASH =
        keccak256("ApproveDerivative(uint256 workId,uint256 communityId,uint256 nonce,uint256 deadline)");
    bytes32 internal constant RESOLVE_DISPUTE_TYPEHASH =
        keccak256("ResolveDispute(uint256 workId,bool upheld,uint256 nonce,uint256 deadline)");

    /// @notice The signature's deadline has passed: ask the steward to sign again.
    error RegistrySignatureExpired(uint256 deadline);
    /// @notice The signature is not `signer`'s over this action and its current nonce.
    error RegistryInvalidSignature(address signer);

    constructor(string memory name, string memory version) EIP712(name, version) {}

    /// @notice The EIP-712 digest a steward signs for a heritage registration.
    function registerHeritageDigest(HeritageParams calldata p, uint256 nonce, uint256 deadline)
        external
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(_hashRegisterHeritage(p, nonce, deadline));
    }

    /// @notice The EIP-712 digest a steward signs to approve a derivative.
    function approveDerivativeDigest(uint256 workId, uint256 communityId, uint256 nonce, uint256 deadline)
        external
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(_hashApproveDerivative(workId, communityId, nonce, deadline));
    }

    /// @notice The EIP-712 digest a steward signs to resolve a dispute.
    function resolveDisputeDigest(uint256 workId, bool upheld, uint256 nonce, uint256 deadline)
        external
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(_hashResolveDispute(workId, upheld, nonce, deadline));
    }

    function _useStewardSignature(address signer, bytes32 structHash, uint256 deadline, bytes calldata signature)
        internal
    {
        if (block.timestamp > deadline) revert RegistrySignatureExpired(deadline);
        if (!SignatureChecker.isValidSignatureNow(signer, _hashTypedDataV4(structHash), signature)) {
            revert RegistryInvalidSignature(signer);
        }
        _useNonce(signer);
    }

    function _hashRegisterHeritage(HeritageParams calldata p, uint256 nonce, uint256 deadline)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(
            abi.encode(
                REGISTER_HERITAGE_TYPEHASH,
                p.communityId,
                keccak256(p.contentCid),
                keccak256(p.manifestCid),
                _hashProtocol(p.protocol),
                _hashSplit(p.split),
                nonce,
                deadline
            )
        );
    }

    function _hashApproveDerivative(uint256 workId, uint256 communityId, uint256 nonce, uint256 deadline)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(APPROVE_DERIVATIVE_TYPEHASH, workId, communityId, nonce, deadline));
    }

    function _hashResolveDispute(uint256 workId, bool upheld, uint256 nonce, uint256 deadline)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(RESOLVE_DISPUTE_TYPEHASH, workId, upheld, nonce, deadline));
    }

    function _hashProtocol(Protocol calldata p) private pure returns (bytes32) {
        return keccak256(
            abi.encode(
                PROTOCOL_TYPEHASH,
                p.derivativesAllowed,
                p.consentRequired,
                p.commercialAllowed,
                p.mlAllowed,
                p.attributionRequired,
                p.restricted,
                p.floorPpm,
                p.labels,
                p.labelsVersion
            )
        );
    }

    function _hashSplit(Recipient[] calldata split) private pure returns (bytes32) {
        bytes32[] memory hashes = new bytes32[](split.length);
        for (uint256 i; i < split.length; ++i) {
            hashes[i] = keccak256(abi.encode(RECIPIENT_TYPEHASH, split[i].account, split[i].ppm));
        }
        return keccak256(abi.encodePacked(hashes));
    }
}
